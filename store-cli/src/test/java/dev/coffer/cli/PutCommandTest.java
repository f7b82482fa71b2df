package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer put} over an in-memory store that counts the content bytes sent to it: what is
 * checked before anything is sent, what is never sent, and what every path prints (invariants
 * CLI-1, CLI-2 and CLI-5 of docs/architecture.md).
 */
class PutCommandTest {
  private static final int LARGE = PutCommand.ONE_STEP_LIMIT + 123; // takes the ingest path
  private static final Pattern SECONDS = Pattern.compile(" in (\\d+\\.\\d\\d) s ");

  private final ContentStore memory = MemoryStores.open();
  private final AtomicLong sent = new AtomicLong();
  private final ContentStore store = Cli.countingSent(memory, sent);
  private final Cli cli = new Cli(store);
  @TempDir
  Path tmp;
  private Digest hello;

  @BeforeEach
  void storeASmallBlob() {
    cli.env.put("HOME", tmp.toString());
    byte[] bytes = "hello coffer\n".getBytes(StandardCharsets.UTF_8);
    hello = Digest.of(bytes);
    memory.put(bytes, hello, Map.of("keep", "1"));
  }

  private Path file(String name, int size, long seed) throws Exception {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return Files.write(tmp.resolve(name), bytes);
  }

  @Test
  void expectOfAnotherStoredBlobFailsForALargeFileAndNeverTouchesThatBlob() throws Exception {
    Path big = file("big.bin", LARGE, 1);
    Digest actual = Digest.of(Files.readAllBytes(big));

    Cli.Result put = cli.run("put", big.toString(), "--expect", hello.toString(), "-l", "team=x");

    assertThat(put.code()).isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(put.out()).isEmpty();
    assertThat(put.errLines()).containsExactly("coffer put: " + big + " has digest " + actual
        + ", not the expected " + hello + "; nothing stored");
    assertThat(memory.info(hello).labels()).containsExactly(Map.entry("keep", "1"));
    assertThat(sent.get()).as("bytes sent").isZero();
    assertThat(memory.listStatuses()).as("no ingest left").isEmpty();
    assertThat(walk()).containsExactly(hello);
  }

  @Test
  void expectOfAnotherStoredBlobFailsForLargeStdinAfterHashingItWithoutSendingIt()
      throws Exception {
    byte[] bytes = Files.readAllBytes(file("big.bin", LARGE, 2));

    Cli.Result put = cli.run(bytes, "put", "--expect", hello.toString(), "--label", "team=x");

    assertThat(put.code()).isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(put.errLines()).containsExactly("coffer put: stdin has digest " + Digest.of(bytes)
        + ", not the expected " + hello + "; nothing stored");
    assertThat(memory.info(hello).labels()).containsExactly(Map.entry("keep", "1"));
    assertThat(sent.get()).isZero();
    assertThat(memory.listStatuses()).isEmpty();
  }

  @Test
  void largeStdinWithTheExpectedDigestOfStoredContentIsHashedNotSent() throws Exception {
    byte[] bytes = Files.readAllBytes(file("big.bin", LARGE, 3));
    Digest digest = Digest.of(bytes);
    memory.put(bytes, digest, Map.of());

    Cli.Result put = cli.run(bytes, "put", "--expect", digest.toString(), "-l", "team=ci",
        "--json");

    assertThat(put.code()).as(put.stderr()).isZero();
    assertThat(put.json().get("stored").asBoolean()).isFalse();
    assertThat(put.json().get("size").asLong()).isEqualTo(LARGE);
    assertThat(put.json().has("ref")).as("no ingest was used").isFalse();
    assertThat(sent.get()).isZero();
    assertThat(memory.info(digest).labels()).containsExactly(Map.entry("team", "ci"));
  }

  @Test
  void reputOfAStoredLargeFileSendsNothingAndReportsItsOwnTime() throws Exception {
    Path big = file("big.bin", LARGE, 4);
    Digest digest = Digest.of(Files.readAllBytes(big));
    Cli.Result first = cli.run("put", big.toString());
    assertThat(first.code()).as(first.stderr()).isZero();
    assertThat(sent.get()).isEqualTo(LARGE);
    sent.set(0);

    long t0 = System.nanoTime();
    Cli.Result again = cli.run("put", big.toString(), "-l", "team=ci");
    double wall = (System.nanoTime() - t0) / 1e9;

    assertThat(again.code()).as(again.stderr()).isZero();
    assertThat(again.out()).isEqualTo(digest + "\n");
    assertThat(sent.get()).as("bytes sent again").isZero();
    assertThat(again.errLines()).hasSize(1);
    assertThat(again.stderr()).startsWith("already stored 16.0 MiB in ");
    var seconds = SECONDS.matcher(again.stderr());
    assertThat(seconds.find()).isTrue();
    assertThat(Double.parseDouble(seconds.group(1))).as("reported seconds").isLessThan(wall + 0.01);
    assertThat(memory.info(digest).labels()).containsExactly(Map.entry("team", "ci"));
  }

  @Test
  void aStoredFileBetweenOneMebibyteAndOnePartIsLookedUpNotSentAgain() throws Exception {
    Path file = file("mid.bin", 3 << 20, 5);
    assertThat(cli.run("put", file.toString()).code()).isZero();
    sent.set(0);

    Cli.Result again = cli.run("put", file.toString(), "--json");

    assertThat(again.json().get("stored").asBoolean()).isFalse();
    assertThat(sent.get()).isZero();
  }

  @Test
  void wrongExpectOfAFileLeavesNoIngestAndStdinWithAnExplicitRefSaysItsIngestIsKept()
      throws Exception {
    Path big = file("big.bin", LARGE, 6);
    Digest other = Digest.of("other".getBytes(StandardCharsets.UTF_8));
    assertThat(cli.run("put", big.toString(), "--expect", other.toString()).code())
        .isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(memory.listStatuses()).isEmpty();

    Cli.Result stdin = cli.run("only part".getBytes(StandardCharsets.UTF_8), "put", "--ref",
        "job-7", "--expect", other.toString());
    assertThat(stdin.code()).isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(stdin.errLines()).containsExactly("coffer put: stdin has digest "
        + Digest.of("only part".getBytes(StandardCharsets.UTF_8)) + ", not the expected " + other
        + "; nothing stored; ingest \"job-7\" keeps its 9 bytes: a put --ref job-7 of the whole"
        + " input resumes it, or remove it with: coffer ingest abort job-7");
    assertThat(memory.status("job-7").offset()).isEqualTo(9);

    Cli.Result random = cli.run(Files.readAllBytes(big), "put", "--expect", other.toString());
    assertThat(random.code()).isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(memory.listStatuses()).as("only job-7: the random ref's ingest is aborted")
        .extracting(s -> s.ref()).containsExactly("job-7");
  }

  @Test
  void aLargePutOnATerminalShowsHashAndUploadAsPhases() throws Exception {
    Path big = file("big.bin", LARGE, 7);
    cli.terminal = true;

    Cli.Result put = cli.run("put", big.toString());

    assertThat(put.code()).as(put.stderr()).isZero();
    String screen = put.stderr().replace('\r', '\n');
    // The file goes straight to its digest's place: the upload is the last phase, no commit.
    assertThat(screen).contains("hash 100%").containsPattern(
        "upload: sending 16\\.0 MiB to its digest key, \\d:\\d\\d:\\d\\d");
    String summary = put.errLines().get(put.errLines().size() - 1);
    assertThat(summary).matches("stored 16\\.0 MiB in \\d+\\.\\d\\d s \\([0-9.]+ [KMG]iB/s;"
        + " hash \\d+\\.\\d\\d s; upload \\d+\\.\\d\\d s\\)");
  }

  @Test
  void aLockedRefIsAwaitedWithANoticeSayingSo() throws Exception {
    Writer holder = memory.writer("held", Descriptor.UNKNOWN);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CompletableFuture<Cli.Result> put = CompletableFuture.supplyAsync(() -> cli.run(err,
        new ByteArrayInputStream("abc".getBytes(StandardCharsets.UTF_8)), "put", "--ref",
        "held"));
    try {
      await().atMost(30, TimeUnit.SECONDS).until(() -> err.toString(StandardCharsets.UTF_8)
          .contains("retrying"));
      assertThat(put).as("waits while the ref is held").isNotDone();
    } finally {
      holder.close();
    }
    Cli.Result result = put.get(60, TimeUnit.SECONDS);
    assertThat(result.code()).as(result.stderr()).isZero();
    assertThat(result.errLines()).containsExactly(
        "coffer put: ref \"held\" is locked by another writer; retrying for up to 60 s",
        result.errLines().get(1));
    assertThat(result.errLines().get(1))
        .matches("stored 3 B in \\d+\\.\\d\\d s \\([0-9.]+ (B|KiB)/s\\)");
    assertThat(result.out()).isEqualTo(Digest.of("abc".getBytes(StandardCharsets.UTF_8)) + "\n");
  }

  @Test
  void jsonHasARefOnlyWhenAnIngestWasUsed() throws Exception {
    // A file, however large, goes straight to its digest's place (putFile): no ingest, no ref.
    Cli.Result small = cli.run("small".getBytes(StandardCharsets.UTF_8), "put", "--json");
    assertThat(small.json().has("ref")).isFalse();
    Cli.Result withRef = cli.run("small2".getBytes(StandardCharsets.UTF_8), "put", "--ref", "r",
        "--json");
    assertThat(withRef.json().get("ref").asText()).isEqualTo("r");
    Path big = file("big.bin", LARGE, 8);
    Cli.Result large = cli.run("put", big.toString(), "--json");
    assertThat(large.json().has("ref")).isFalse();
    assertThat(large.json().get("stored").asBoolean()).isTrue();
    assertThat(memory.listStatuses()).isEmpty();
  }

  @Test
  void labelsWithoutAnEqualsSignAreInvalidArgumentsAsInLabel() {
    Cli.Result put = cli.run("x".getBytes(StandardCharsets.UTF_8), "put", "--label", "novalue");
    Cli.Result label = cli.run("label", hello.toString(), "novalue");
    assertThat(put.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(label.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(put.errLines()).containsExactly(
        "coffer put: invalid label \"novalue\": expected KEY=VALUE");
    assertThat(label.errLines()).containsExactly(
        "coffer label: invalid label \"novalue\": expected KEY=VALUE");
  }

  @Test
  void aMissingFileSaysWhatHappenedAndWhatToDo() {
    Path missing = tmp.resolve("x.bin");
    Cli.Result put = cli.run("put", missing.toString());
    assertThat(put.code()).isEqualTo(ExitCode.IO.code);
    assertThat(put.errLines()).containsExactly("coffer put: cannot read " + missing
        + ": no such file; give the path of a file to store, or - for stdin");
    Cli.Result dir = cli.run("put", tmp.toString());
    assertThat(dir.errLines()).containsExactly("coffer put: cannot read " + tmp
        + ": a directory; give a file, or store a stream with: coffer put - < FILE");
  }

  private List<Digest> walk() {
    List<Digest> all = new ArrayList<>();
    memory.walk(i -> all.add(i.digest()));
    return all;
  }

}
