package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.grpc.ContentServer;
import dev.coffer.store.s3.S3Stores;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * containerd's own content store test suite ({@code content/testsuite} of containerd 1.6, from
 * Debian's packages) against Coffer's content server, as {@code coffer serve} runs it: the S3 store
 * behind the cache, one holder with its holds on disk. The Go harness in {@code src/test/go} is
 * built once by its {@code build.sh} (which installs Go and containerd's sources from Debian when
 * missing; where it cannot, every case is skipped with its reason).
 *
 * <p>Each case is its own test, run by the harness binary ({@code -test.run}) against a fresh
 * server over a fresh prefix: {@code ContentSuite} through containerd's proxy client directly, and
 * behind containerd's metadata layer (a bolt database in a temporary directory) together with the
 * cross-namespace suites. A case passes only if the binary exits 0 and reports that case as
 * passed; otherwise the failure carries containerd's output.
 */
class ContainerdContentSuiteIT {

  /** {@code ContentSuite}'s cases, in containerd's order. */
  static final List<String> CONTENT_SUITE = List.of("Writer", "UpdateStatus", "CommitExists",
      "Resume", "ResumeTruncate", "ResumeDiscard", "ResumeCopy", "ResumeCopySeeker",
      "ResumeCopyReaderAt", "SmallBlob", "Labels", "CommitErrorState");
  /** {@code ContentCrossNSSharedSuite}'s cases. */
  static final List<String> CROSS_NAMESPACE_SHARED =
      List.of("CrossNamespaceAppend", "CrossNamespaceShare");
  /** {@code ContentCrossNSIsolatedSuite}'s case. */
  static final List<String> CROSS_NAMESPACE_ISOLATED = List.of("CrossNamespaceIsolate");

  private static final Duration CASE_TIMEOUT = Duration.ofMinutes(5);
  private static final Path HARNESS = Path.of(System.getProperty("coffer.contentsuite.dir",
      "src/test/go"));
  private static final Path BINARY = Path.of(System.getProperty("coffer.contentsuite.binary",
      "target/contentsuite/contentsuite.test"));

  /** Outcome and seconds per case, for the table printed at the end. */
  private static final Map<String, String> RESULTS = new TreeMap<>();

  private static S3Endpoint endpoint;
  private static String bucket;

  @TestFactory
  Stream<DynamicNode> containerdContentSuite() throws Exception {
    build();
    endpoint = S3Endpoint.selected();
    bucket = endpoint.newBucket();
    List<String> metadata = new ArrayList<>(CONTENT_SUITE);
    metadata.addAll(CROSS_NAMESPACE_SHARED);
    return Stream.of(
        suite("proxy client", "TestProxy", CONTENT_SUITE),
        suite("metadata layer", "TestMetadata", metadata),
        suite("metadata layer, isolated namespaces", "TestMetadataIsolated",
            CROSS_NAMESPACE_ISOLATED));
  }

  private static DynamicContainer suite(String name, String goTest, List<String> cases) {
    return DynamicContainer.dynamicContainer(name, cases.stream().map(c ->
        DynamicTest.dynamicTest(c, () -> runCase(goTest, c))));
  }

  @AfterAll
  static void printTable() {
    if (!RESULTS.isEmpty()) {
      StringBuilder table = new StringBuilder("\ncontainerd content suite against Coffer's server"
          + " (" + (endpoint == null ? "?" : endpoint.name()) + "):\n");
      RESULTS.forEach((c, r) -> table.append(String.format(Locale.ROOT, "  %-45s %s%n", c, r)));
      System.out.println(table);
    }
  }

  /** Builds the harness binary, or skips every case with the reason it cannot be built here. */
  private static void build() throws Exception {
    Path script = HARNESS.resolve("build.sh").toAbsolutePath();
    Path log = Files.createTempFile("contentsuite-build", ".log");
    try {
      Process build = new ProcessBuilder(script.toString(), BINARY.toAbsolutePath().toString())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean done = build.waitFor(20, TimeUnit.MINUTES);
      if (!done) {
        build.destroyForcibly();
      }
      String output = Files.readString(log);
      assertThat(done).as("build.sh within 20 minutes; output:%n%s", output).isTrue();
      List<String> lines = output.lines().toList();
      Assumptions.assumeTrue(build.exitValue() != 77, () -> "containerd's content suite cannot"
          + " be built here: " + (lines.isEmpty() ? "" : lines.get(lines.size() - 1)));
      assertThat(build.exitValue()).as("build.sh exit status; output:%n%s", output).isZero();
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** Runs case {@code name} of the harness's {@code goTest} against a fresh server and prefix. */
  private static void runCase(String goTest, String name) throws Exception {
    String id = goTest + "/" + name;
    Path dir = Files.createTempDirectory("contentsuite");
    Path socket = dir.resolve("coffer.sock");
    long started = System.nanoTime();
    String outcome = "FAIL";
    try (ContentStore store = CachingStores.builder(S3Stores.open(
            endpoint.config(bucket, endpoint.newPrefix()).build()))
        .config(CacheConfig.builder().directory(dir.resolve("cache")).build()).build();
        ContentServer server = ContentServer.builder(store).unixSocket(socket)
            .holderId("contentsuite").holdDirectory(dir.resolve("holds"))
            .shutdownGrace(Duration.ofSeconds(2)).build().start()) {
      assertThat(server.unixSocket()).contains(socket);
      Path tmp = Files.createDirectories(dir.resolve("tmp"));
      Path log = dir.resolve("go-test.log");
      ProcessBuilder builder = new ProcessBuilder(BINARY.toAbsolutePath().toString(),
          "-test.run", "^" + goTest + "$/^" + name + "$", "-test.v", "-test.count=1",
          "-test.timeout=" + CASE_TIMEOUT.toSeconds() + "s")
          .redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().put("COFFER_CONTENT_SOCKET", socket.toString());
      builder.environment().put("TMPDIR", tmp.toString());
      Process test = builder.start();
      boolean done = test.waitFor(CASE_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS);
      if (!done) {
        test.destroyForcibly().waitFor();
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(done).as("%s finished; containerd's output:%n%s", id, output).isTrue();
      assertThat(test.exitValue()).as("%s exit status; containerd's output:%n%s", id, output)
          .isZero();
      assertThat(output).as("%s reported as passed; containerd's output:%n%s", id, output)
          .contains("--- PASS: " + id + " (");
      outcome = "PASS";
    } finally {
      RESULTS.put(id, String.format(Locale.ROOT, "%s  %.1f s", outcome,
          (System.nanoTime() - started) / 1e9));
      deleteTree(dir);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
