package dev.coffer.store.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.coffer.it.S3Mock;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.s3.S3Stores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The containerd checks with Coffer as it is deployed: one {@code coffer serve} per containerd,
 * each in its own JVM with its own holder id and disk cache, over the cached S3 store on S3Mock;
 * the blob stored outside containerd goes in with {@code coffer put}. The checks inspect the bucket
 * through a second S3 store instance on the same prefix, as another host would.
 */
class CofferServeContainerdIT extends ContainerdIT {

  private final String bucket = S3Mock.get().newBucket();
  private final String prefix = S3Mock.newPrefix();
  private Path home;

  @Override
  protected ContentStore createStore() {
    // No grace: the deletion check purges what the last holder released and looks at the keys.
    return S3Stores.open(S3Mock.get().config(bucket, prefix)
        .deletionGrace(Duration.ZERO).build());
  }

  /** The environment of a {@code coffer} command with its own disk cache (one per process). */
  private Map<String, String> environment(String cache) {
    return Map.of(
        "HOME", home.toString(),
        "COFFER_BUCKET", bucket,
        "COFFER_PREFIX", prefix,
        "COFFER_ENDPOINT", S3Mock.get().endpoint().toString(),
        "COFFER_CACHE_DIR", home.resolve(cache).toString(),
        "AWS_ACCESS_KEY_ID", "coffer",
        "AWS_SECRET_ACCESS_KEY", "coffer");
  }

  private ProcessBuilder coffer(String cache, String... args) {
    List<String> command = new ArrayList<>(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "dev.coffer.cli.Coffer"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(environment(cache));
    return builder;
  }

  @Override
  protected AutoCloseable startServer(ContentStore store, Path socket, String holder, Path host)
      throws Exception {
    if (home == null) {
      home = Files.createTempDirectory("coffer-serve");
    }
    Path log = home.resolve("serve-" + holder + ".log");
    Process serve = coffer("serve-cache-" + holder, "serve", "--containerd-socket",
        socket.toString(), "--holder-id", holder, "--state-dir", home.resolve("state").toString(),
        "--open-readers", String.valueOf(OPEN_READERS))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    await("the socket of coffer serve").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100)).until(() -> {
          assertThat(serve.isAlive()).as("coffer serve running; log:%n%s", read(log)).isTrue();
          return Files.exists(socket);
        });
    System.out.println("$ coffer serve --containerd-socket " + socket + " --holder-id " + holder
        + "\n" + read(log));
    return () -> {
      serve.destroy(); // SIGTERM: the server stops cleanly
      boolean exited = serve.waitFor(30, TimeUnit.SECONDS);
      String output = read(log);
      System.out.println(output);
      if (!exited) {
        serve.destroyForcibly();
      }
      assertThat(exited).as("coffer serve exits on SIGTERM").isTrue();
      assertThat(output).contains("stopped serving");
    };
  }

  @Override
  protected void storeOutsideContainerd(ContentStore store, byte[] bytes, Path file)
      throws Exception {
    Path log = home.resolve("put.log");
    Process put = coffer("put-cache", "put", file.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(put.waitFor(2, TimeUnit.MINUTES)).isTrue();
    System.out.println("$ coffer put " + file.getFileName() + "\n" + read(log));
    assertThat(put.exitValue()).as(read(log)).isZero();
    assertThat(read(log)).contains(Digest.of(bytes).toString());
  }

  /**
   * Released by their last holder: NotFound, their index records {@code deleting}, and once gc has
   * purged them, no keys in the bucket.
   */
  @Override
  protected void assertDeleted(ContentStore store, List<Digest> digests) throws Exception {
    super.assertDeleted(store, digests);
    for (Digest d : digests) {
      assertThat(S3Mock.get().exists(bucket, indexKey(d))).as("index record of %s", d).isTrue();
    }
    store.gc(GcOptions.DEFAULTS);
    for (Digest d : digests) {
      String blobKey = prefix + "blobs/" + d.algorithm().label() + "/" + d.hex();
      assertThat(S3Mock.get().exists(bucket, blobKey)).as("%s after gc", blobKey).isFalse();
      assertThat(S3Mock.get().exists(bucket, indexKey(d))).as("%s after gc", indexKey(d))
          .isFalse();
    }
  }

  private String indexKey(Digest d) {
    return prefix + "index/" + d.algorithm().label() + "/" + d.hex();
  }

  @Test
  @Order(8)
  void cofferGetOfTheSameLayerComparedWithContainerd() throws Exception {
    assertThat(layerDigest).as("the throughput step ran").isNotNull();
    String loadBefore = loadAverage();
    int runs = 5;
    long[] containerd = new long[runs];
    long[] get = new long[runs];
    for (int i = 0; i < runs; i++) { // alternated, so both see the same load
      get[i] = cofferGet();
      containerd[i] = containerdRead(layerDigest);
    }
    System.out.printf(Locale.ROOT, "%n64 MiB layer, median of %d alternated runs (open readers"
            + " %d; load %s before, %s after): ctr content get %.1f MiB/s (runs %s); coffer get"
            + " (JVM start included; first run fills its cache) %.1f MiB/s (runs %s)%n%n",
        runs, OPEN_READERS, loadBefore, loadAverage(), mibPerSecond(median(containerd)),
        rates(containerd), mibPerSecond(median(get)), rates(get));
  }

  private long cofferGet() throws Exception {
    long t0 = System.nanoTime();
    Process get = coffer("get-cache", "get", layerDigest.toString(), "-o", "/dev/null")
        .redirectErrorStream(true).redirectOutput(home.resolve("get.log").toFile()).start();
    assertThat(get.waitFor(2, TimeUnit.MINUTES)).isTrue();
    long nanos = System.nanoTime() - t0;
    assertThat(get.exitValue()).as(read(home.resolve("get.log"))).isZero();
    System.out.println("$ coffer get " + layerDigest + " -o /dev/null\n"
        + read(home.resolve("get.log")));
    return nanos;
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (java.io.IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }
}
