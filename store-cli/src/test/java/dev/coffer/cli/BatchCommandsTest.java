package dev.coffer.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.cli.Cli.Result;
import dev.coffer.store.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code put FILE...} and {@code get DIGEST... -o DIR} on the simulated S3, and the one progress bar
 * and summary of every operation on many files.
 */
class BatchCommandsTest {
  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);

  @AfterEach
  void close() throws Exception {
    connector.close();
  }

  private Result ok(String... args) {
    Result r = cli.run(args);
    assertThat(r.code()).as(r.stderr()).isZero();
    return r;
  }

  private Path write(String name, String content) throws Exception {
    return Files.writeString(tmp.resolve(name), content, UTF_8);
  }

  private static Digest digestOf(String s) {
    return Digest.of(s.getBytes(UTF_8));
  }

  @Test
  void severalFilesArePutInOneRunAndReadBackIntoADirectory() throws Exception {
    Path a = write("a.txt", "alpha");
    Path b = write("b.txt", "bravo!");
    Path c = write("c.txt", "alpha"); // the content of a.txt again

    Result put = ok("put", "--no-cache", a.toString(), b.toString(), c.toString(),
        "--label", "team=ci", "--jobs", "2");

    assertThat(put.out().lines()).containsExactly(
        digestOf("alpha") + "\t" + a, digestOf("bravo!") + "\t" + b, digestOf("alpha") + "\t" + c);
    assertThat(put.stderr()).containsPattern(
        "put: stored 3 files, 16 bytes; new 2 files, 11 bytes; \\d+ S3 requests in ");
    assertThat(ok("info", "--json", digestOf("bravo!").toString()).json().get("refCount").asLong())
        .isZero(); // as put without --ref
    assertThat(ok("info", "--json", digestOf("alpha").toString()).json().get("labels")
        .get("team").asText()).isEqualTo("ci");

    Path out = tmp.resolve("out");
    Result get = ok("get", digestOf("alpha").toString(), digestOf("bravo!").toString(),
        "-o", out.toString());
    assertThat(get.out().lines()).containsExactly(
        digestOf("alpha") + "\t" + out.resolve(digestOf("alpha").hex()),
        digestOf("bravo!") + "\t" + out.resolve(digestOf("bravo!").hex()));
    assertThat(Files.readString(out.resolve(digestOf("alpha").hex()))).isEqualTo("alpha");
    assertThat(Files.readString(out.resolve(digestOf("bravo!").hex()))).isEqualTo("bravo!");
    assertThat(get.stderr()).contains("get: read 2 files, 11 bytes; written 2 files, 11 bytes");

    // One digest with -o naming a directory goes into it too; a right file is left alone.
    Result one = ok("get", digestOf("alpha").toString(), "-o", out.toString());
    assertThat(one.stderr()).contains("read 1 files, 5 bytes; written 0 files, 0 bytes");

    Result again = ok("put", "--no-cache", a.toString(), b.toString());
    assertThat(again.stderr()).contains("new 0 files, 0 bytes");
  }

  @Test
  void severalFilesRefuseOptionsMeantForOne() throws Exception {
    Path a = write("a", "a");
    Path b = write("b", "b");
    Result ref = cli.run("put", a.toString(), b.toString(), "--ref", "r");
    assertThat(ref.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(ref.stderr()).contains("several files are put without -r, --ref, --expect");
    Result range = cli.run("get", digestOf("a").toString(), digestOf("b").toString(),
        "-o", tmp.toString(), "--range", "0-1");
    assertThat(range.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    Result noDir = cli.run("get", digestOf("a").toString(), digestOf("b").toString());
    assertThat(noDir.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    Result missing = cli.run("get", digestOf("never").toString(), digestOf("stored").toString(),
        "-o", tmp.resolve("o").toString());
    assertThat(missing.code()).isEqualTo(ExitCode.NOT_FOUND.code);
  }

  @Test
  void aTreePutShowsOneBarForTheWholeOperationAndTheSummaryOnItsOwnLine() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    for (int i = 0; i < 12; i++) {
      Files.writeString(src.resolve("f" + i), "file " + i);
    }
    cli.terminal = true;
    Result put = ok("put", "-r", src.toString());
    String screen = put.stderr().replace('\r', '\n');
    assertThat(screen).contains("put -r 100%").contains("12/12 files");
    assertThat(screen.lines().filter(l -> l.startsWith("put -r") && l.contains("%")).count())
        .as("one bar, not one per file").isGreaterThanOrEqualTo(1);
    assertThat(put.errLines().get(put.errLines().size() - 1)).matches(
        "put -r: stored 12 files, 74 bytes; new 12 files, 74 bytes; \\d+ S3 requests in"
            + " \\d+\\.\\d\\d s \\(.*/s new\\)");

    cli.terminal = false; // not a terminal: no bar, the summary only
    Result quietBar = ok("get", "-r", put.out().strip(), "-o", tmp.resolve("out").toString());
    assertThat(quietBar.stderr()).doesNotContain("%");
    assertThat(quietBar.errLines()).hasSize(1);
    Result quiet = ok("put", "-q", "-r", src.toString());
    assertThat(quiet.stderr()).isEmpty();
  }

  @Test
  void theSummaryCountsTheRequestsOfTheOperation() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    for (int i = 0; i < 5; i++) {
      Files.writeString(src.resolve("f" + i), "file " + i);
    }
    ok("put", "--no-cache", "-r", src.toString());
    Result again = ok("put", "--json", "--no-cache", "-r", src.toString());
    long logged = connector.logged(connector.host).values().stream().mapToLong(Long::longValue)
        .sum();
    // The meters count every request the operation made, as the server logged them; opening the
    // store makes none.
    assertThat(again.json().get("requests").asLong()).isEqualTo(logged);
    assertThat(again.json().get("newFiles").asLong()).isZero();
    assertThat(List.of(again.json().get("files").asLong(), again.json().get("bytes").asLong()))
        .containsExactly(5L, 30L);
  }
}
