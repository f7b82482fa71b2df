package dev.coffer.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.memory.MemoryStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command run in-process for a working directory other than the JVM's (as the command daemon
 * runs one for its client) finds and writes the files its relative paths name under that
 * directory: arguments, {@code -o}, {@code --config}, {@code --cache-dir}, {@code COFFER_HOME},
 * {@code stats --output}. None of the names exist under the JVM's own working directory.
 */
class WorkingDirectoryTest {
  @TempDir
  Path cwd;

  private final ContentStore store = MemoryStores.open();
  private final List<Settings> opened = new ArrayList<>();
  private final Cli cli = new Cli((settings, notices) -> {
    opened.add(settings);
    return store;
  });

  @BeforeEach
  void typedElsewhere() {
    assertThat(cwd).isNotEqualTo(Coffer.JVM_CWD);
    cli.cwd = cwd;
    cli.env.put("HOME", cwd.resolve("home").toString());
  }

  private Cli.Result ok(String... args) {
    Cli.Result r = cli.run(args);
    assertThat(r.code()).as(r.stderr()).isZero();
    return r;
  }

  @Test
  void putOfARelativeFileAndGetToARelativeFileUseTheCommandsDirectory() throws Exception {
    byte[] bytes = "typed in another directory\n".getBytes(UTF_8);
    Files.write(cwd.resolve("cwd-test-in.txt"), bytes);

    String digest = ok("put", "-q", "cwd-test-in.txt").out().trim();
    assertThat(digest).isEqualTo(Digest.of(bytes).toString());
    ok("get", "-q", digest, "-o", "cwd-test-out.txt");

    assertThat(cwd.resolve("cwd-test-out.txt")).hasBinaryContent(bytes);
    assertThat(Coffer.JVM_CWD.resolve("cwd-test-out.txt")).doesNotExist();
  }

  @Test
  void severalRelativeFilesAndARelativeOutputDirectory() throws Exception {
    Files.writeString(cwd.resolve("a.txt"), "a\n");
    Files.writeString(cwd.resolve("b.txt"), "b\n");

    List<String> lines = ok("put", "-q", "a.txt", "b.txt").out().lines().toList();
    Digest a = Digest.of("a\n".getBytes(UTF_8));
    Digest b = Digest.of("b\n".getBytes(UTF_8));
    assertThat(lines).containsExactly(a + "\ta.txt", b + "\tb.txt");
    Files.createDirectory(cwd.resolve("cwd-test-blobs"));
    ok("get", "-q", a.toString(), b.toString(), "-o", "cwd-test-blobs");

    assertThat(cwd.resolve("cwd-test-blobs").resolve(a.hex())).hasContent("a");
    assertThat(cwd.resolve("cwd-test-blobs").resolve(b.hex())).hasContent("b");
  }

  @Test
  void putAndGetOfARelativeTree() throws Exception {
    Files.createDirectories(cwd.resolve("cwd-test-tree/sub"));
    Files.writeString(cwd.resolve("cwd-test-tree/top.txt"), "top\n");
    Files.writeString(cwd.resolve("cwd-test-tree/sub/low.txt"), "low\n");

    String tree = ok("put", "-q", "-r", "cwd-test-tree").out().trim();
    ok("get", "-q", "-r", tree, "-o", "cwd-test-restored");

    assertThat(cwd.resolve("cwd-test-restored/top.txt")).hasContent("top");
    assertThat(cwd.resolve("cwd-test-restored/sub/low.txt")).hasContent("low");
    assertThat(Coffer.JVM_CWD.resolve("cwd-test-restored")).doesNotExist();
  }

  @Test
  void relativeConfigFileCacheDirectoryAndHome() throws Exception {
    Files.writeString(cwd.resolve("cwd-test.json"), "{\"version\": 1, \"bucket\": \"b\","
        + " \"region\": \"eu-west-1\"}");
    cli.env.put("COFFER_HOME", "cwd-test-home");

    ok("ls", "-q", "--config", "cwd-test.json", "--cache-dir", "cwd-test-cache");
    Settings fromFlag = opened.get(opened.size() - 1);
    assertThat(fromFlag.bucket()).isEqualTo("b");
    assertThat(fromFlag.cacheDir()).isEqualTo(cwd.resolve("cwd-test-cache"));
    assertThat(fromFlag.home()).isEqualTo(cwd.resolve("cwd-test-home"));

    cli.env.put("COFFER_CONFIG", "cwd-test.json");
    ok("ls", "-q");
    assertThat(opened.get(opened.size() - 1).bucket()).isEqualTo("b");
  }

  @Test
  void statsWritesItsReportToARelativeFile() throws Exception {
    byte[] bytes = "measured\n".getBytes(UTF_8);
    store.put(bytes, Digest.of(bytes), java.util.Map.of());

    Cli.Result r = ok("stats", "--output", "cwd-test-report.txt", "get",
        Digest.of(bytes).toString());

    assertThat(r.stdout()).isEqualTo(bytes);
    assertThat(cwd.resolve("cwd-test-report.txt")).content().startsWith("coffer stats: ");
    try (var reader = store.readerAt(Descriptor.of(Digest.of(bytes)))) {
      assertThat(reader.size()).isEqualTo(bytes.length);
    }
  }

  @Test
  void inTheJvmsOwnDirectoryAPathStaysAsTyped() {
    assertThat(Coffer.path(Coffer.JVM_CWD, "x/y")).isEqualTo(Path.of("x/y"));
    assertThat(Coffer.path(cwd, "x/y")).isEqualTo(cwd.resolve("x/y"));
    assertThat(Coffer.path(cwd, "/abs/y")).isEqualTo(Path.of("/abs/y"));
  }
}
