package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3server.Credentials;
import dev.coffer.s3server.EmbeddedS3Server;
import dev.coffer.s3sim.Storage;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Info;
import dev.coffer.store.memory.MemoryStores;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * A one-shot command that moves no content starts only what it uses: no cache, no meters, no TLS
 * for an {@code http://} endpoint, no asynchronous client, one command's model (issue 25).
 */
class OneShotStartTest {

  @TempDir
  Path tmp;

  @Test
  void commandsThatReadOnlyRecordsOpenNoCache() {
    ContentStore store = MemoryStores.open();
    Info stored = store.put("x".getBytes(StandardCharsets.UTF_8), null, null);
    List<String> opened = new ArrayList<>();
    Cli cli = new Cli((settings, notices) -> {
      opened.add(settings.cacheEnabled() ? "cache" : "no cache");
      return store;
    });
    cli.env.put("HOME", tmp.toString());
    String digest = stored.digest().toString();
    for (String[] args : List.of(new String[] {"info", digest}, new String[] {"ls"},
        new String[] {"ingest", "ls"}, new String[] {"get", digest},
        new String[] {"label", digest, "a=b"})) {
      assertThat(cli.run(new ByteArrayInputStream(new byte[0]), args).code())
          .as(String.join(" ", args)).isZero();
    }
    assertThat(opened).containsExactly("no cache", "no cache", "no cache", "cache", "cache");
  }

  /**
   * Issue 23: a put of a directory opens no blob cache (its files are on this host already, and
   * filling the cache hashed and copied each one again, after indexing the whole cache directory),
   * yet keeps its hash index in the cache's directory; a put of a file still goes through the
   * cache, and {@code --no-cache} keeps no index.
   */
  @Test
  void aPutOfADirectoryOpensNoCacheButKeepsItsHashIndex() throws Exception {
    ContentStore store = MemoryStores.open();
    List<String> opened = new ArrayList<>();
    Cli cli = new Cli((settings, notices) -> {
      opened.add(settings.cacheEnabled() ? "cache" : "no cache");
      return store;
    });
    cli.env.put("HOME", tmp.toString());
    Path dir = tmp.resolve("build");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("a"), "a");
    Path cache = tmp.resolve("cache");

    assertThat(cli.run("put", "-q", "--cache-dir", cache.toString(), "-r", dir.toString()).code())
        .isZero();
    assertThat(cli.run("put", "-q", "--cache-dir", cache.toString(), dir.resolve("a").toString())
        .code()).isZero();
    assertThat(opened).containsExactly("no cache", "cache");
    try (var indexes = Files.list(cache.resolve("trees"))) {
      assertThat(indexes.count()).as("the hash index of the directory").isEqualTo(1);
    }
    Path other = tmp.resolve("other-cache");
    assertThat(cli.run("put", "-q", "--no-cache", "--cache-dir", other.toString(), "-r",
        dir.toString()).code()).isZero();
    assertThat(other.resolve("trees")).doesNotExist();
  }

  /**
   * A get of one blob opens its store without meters (it reports no requests); a get of several,
   * whose summary counts them, and any get under {@code coffer stats} measure theirs.
   */
  @Test
  void aGetOfOneBlobIsNotMeasuredWhileABatchIs() throws Exception {
    ContentStore store = MemoryStores.open();
    Info one = store.put("one".getBytes(StandardCharsets.UTF_8), null, null);
    Info two = store.put("two".getBytes(StandardCharsets.UTF_8), null, null);
    List<String> opened = new ArrayList<>();
    Cli cli = new Cli(new StoreConnector() {
      @Override
      public ContentStore open(Settings settings, java.io.PrintStream notices) {
        return open(settings, notices, null);
      }

      @Override
      public ContentStore open(Settings settings, java.io.PrintStream notices,
          io.micrometer.core.instrument.MeterRegistry registry) {
        opened.add(registry == null ? "unmeasured" : "measured");
        return store;
      }
    });
    cli.env.put("HOME", tmp.toString());
    Path dir = Files.createDirectories(tmp.resolve("out"));
    String a = one.digest().toString();
    String b = two.digest().toString();
    for (String[] args : List.of(new String[] {"get", a}, new String[] {"get", a, "-o",
        tmp.resolve("file").toString()}, new String[] {"get", a, "--range", "0-1"},
        new String[] {"get", a, b, "-o", dir.toString()}, new String[] {"get", a, "-o",
        dir.toString()}, new String[] {"stats", "get", a})) {
      assertThat(cli.run(new ByteArrayInputStream(new byte[0]), args).code())
          .as(String.join(" ", args)).isZero();
    }
    assertThat(opened).containsExactly("unmeasured", "unmeasured", "unmeasured", "measured",
        "measured", "measured");
    assertThat(Files.readString(tmp.resolve("file"))).isEqualTo("one");
  }

  /**
   * {@code coffer info} in a JVM of its own, on an S3-compatible server over {@code http://}: it
   * prints the blob's info, and of the classes it loads none is Netty's, the JDK's HTTP client's,
   * Prometheus', the cache's or a TLS context's, and of the commands only {@code info}'s.
   */
  @Test
  void infoInAJvmOfItsOwnLoadsOnlyWhatItUses() throws Exception {
    Credentials credentials = Credentials.random();
    try (EmbeddedS3Server server = EmbeddedS3Server.builder().storage(Storage.inMemory())
        .credentials(credentials).bucket("coffer").start()) {
      String digest;
      S3StoreConfig config = S3StoreConfig.builder().bucket("coffer").region("us-east-1")
          .endpoint(server.endpoint()).pathStyle(true)
          .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(
              credentials.accessKeyId(), credentials.secretAccessKey())))
          .build();
      try (ContentStore store = S3Stores.open(config)) {
        digest = store.put("one shot".getBytes(StandardCharsets.UTF_8), null, Map.of("k", "v"))
            .digest().toString();
      }
      Path classes = tmp.resolve("classes.txt");
      ProcessBuilder java = new ProcessBuilder(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xshare:off", "-Xlog:class+load=info:file=" + classes,
          "-cp", testClassPath(), Coffer.class.getName(), "info", digest)
          .redirectOutput(tmp.resolve("out.txt").toFile())
          .redirectError(tmp.resolve("err.txt").toFile());
      Map<String, String> env = java.environment();
      env.keySet().removeIf(k -> k.startsWith("COFFER_") || k.startsWith("AWS_"));
      env.put("HOME", tmp.toString());
      env.put("COFFER_BUCKET", "coffer");
      env.put("COFFER_ENDPOINT", server.endpoint().toString());
      env.put("AWS_REGION", "us-east-1");
      env.put("AWS_ACCESS_KEY_ID", credentials.accessKeyId());
      env.put("AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey());
      Process process = java.start();
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as(Files.readString(tmp.resolve("err.txt"))).isZero();
      assertThat(Files.readString(tmp.resolve("out.txt")))
          .contains("digest:    " + digest, "size:      8 (8 B)", "label:     k=v");
      List<String> loaded = Files.readAllLines(classes).stream()
          .map(line -> line.replaceFirst("^\\[[^]]*\\]\\[[^]]*\\]\\[[^]]*\\] ", ""))
          .map(line -> line.split(" ", 2)[0])
          .toList();
      assertThat(loaded).contains("dev.coffer.cli.Commands$InfoCommand",
          "software.amazon.awssdk.services.s3.model.GetObjectRequest");
      assertThat(loaded).noneMatch(c -> c.startsWith("io.netty."))
          .noneMatch(c -> c.startsWith("java.net.http."))
          .noneMatch(c -> c.startsWith("io.prometheus."))
          .noneMatch(c -> c.startsWith("dev.coffer.store.cache."))
          // A TLS context and the trust store it reads (the provider classes load for signing).
          .noneMatch(c -> c.startsWith("sun.security.ssl.SSLContextImpl"))
          .noneMatch(c -> c.equals("sun.security.validator.TrustStoreUtil"))
          .noneMatch(c -> c.equals("dev.coffer.cli.PutCommand"))
          .noneMatch(c -> c.equals("dev.coffer.cli.Serve"));
    }
  }

  /** The class path of the tests (surefire may run them from a manifest-only jar). */
  private static String testClassPath() {
    String path = System.getProperty("surefire.test.class.path");
    return path != null && !path.isBlank() ? path
        : System.getProperty("java.class.path").replace(' ', File.pathSeparatorChar);
  }
}
