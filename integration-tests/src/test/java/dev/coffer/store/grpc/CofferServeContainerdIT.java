package dev.coffer.store.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.it.S3Mock;
import dev.coffer.store.ContentStore;
import dev.coffer.store.s3.S3ContentStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The containerd checks with Coffer as it is deployed: {@code coffer serve} in its own JVM over the
 * cached S3 store on S3Mock. The checks inspect the bucket through a second S3 store instance on the
 * same prefix, as another host would.
 */
class CofferServeContainerdIT extends ContainerdIT {

  private final String bucket = S3Mock.get().newBucket();
  private final String prefix = S3Mock.newPrefix();
  private Path home;

  @Override
  protected ContentStore createStore() {
    return S3ContentStore.open(S3Mock.get().config(bucket, prefix).build());
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
  protected AutoCloseable startServer(ContentStore store, Path socket) throws Exception {
    home = Files.createTempDirectory("coffer-serve");
    Path log = home.resolve("serve.log");
    Process serve = coffer("serve-cache", "serve", "--containerd-socket", socket.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(socket)) {
      assertThat(serve.isAlive()).as("coffer serve running; log:%n%s", read(log)).isTrue();
      assertThat(System.nanoTime()).as("socket within 60 s").isLessThan(deadline);
      Thread.sleep(100);
    }
    System.out.println("$ coffer serve --containerd-socket " + socket + "\n" + read(log));
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

  @Test
  @Order(7)
  void cofferGetOfTheSameLayerComparedWithContainerd() throws Exception {
    assertThat(layerDigest).as("the throughput step ran").isNotNull();
    long[] nanos = new long[2];
    for (int i = 0; i < 2; i++) {
      long t0 = System.nanoTime();
      Process get = coffer("get-cache", "get", layerDigest.toString(), "-o", "/dev/null")
          .redirectErrorStream(true).redirectOutput(home.resolve("get.log").toFile()).start();
      assertThat(get.waitFor(2, TimeUnit.MINUTES)).isTrue();
      nanos[i] = System.nanoTime() - t0;
      assertThat(get.exitValue()).as(read(home.resolve("get.log"))).isZero();
      System.out.println("$ coffer get " + layerDigest + " -o /dev/null\n"
          + read(home.resolve("get.log")));
    }
    System.out.printf(Locale.ROOT, "%n64 MiB layer: through containerd %.0f MiB/s; coffer get"
            + " (cold, JVM start included) %.0f MiB/s; coffer get (cache hit) %.0f MiB/s%n%n",
        64 / (containerdReadNanos / 1e9), 64 / (nanos[0] / 1e9), 64 / (nanos[1] / 1e9));
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (java.io.IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }
}
