package dev.coffer.it;

import static org.awaitility.Awaitility.await;

import dev.coffer.store.s3.S3StoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * One S3Mock server per test JVM, started on first use as a child {@code java -jar} process on free
 * ports with its store root in a temporary directory, and stopped by a shutdown hook. Tests get a
 * fresh bucket or prefix each, so they never see each other's objects.
 *
 * <p>The exec jar is copied into {@code target/s3mock} by the build (maven-dependency-plugin) and
 * named by the system property {@code coffer.s3mock.jar}.
 */
public final class S3Mock {
  private static final String JAR_PROPERTY = "coffer.s3mock.jar";
  private static final String DEFAULT_JAR = "target/s3mock/s3mock-exec.jar";
  private static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("coffer", "coffer"));
  private static S3Mock instance;

  private final URI endpoint;
  private final Process process;
  private final Path root;
  private final S3Client admin;

  private S3Mock(URI endpoint, Process process, Path root) {
    this.endpoint = endpoint;
    this.process = process;
    this.root = root;
    this.admin = client();
  }

  /** The server of this JVM, started on first use. */
  public static synchronized S3Mock get() {
    if (instance == null) {
      instance = start();
    }
    return instance;
  }

  private static S3Mock start() {
    Path jar = Paths.get(System.getProperty(JAR_PROPERTY, DEFAULT_JAR));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("S3Mock jar " + jar.toAbsolutePath()
          + " is missing; run the build's generate-test-resources phase");
    }
    try {
      Path root = Files.createTempDirectory("coffer-s3mock");
      int httpPort = freePort();
      int managementPort = freePort();
      List<String> command = new ArrayList<>(List.of(
          Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx512m", "-jar", jar.toString(),
          "--com.adobe.testing.s3mock.httpPort=" + httpPort,
          "--server.port=" + managementPort,
          // Binds the HTTPS connector to loopback. S3Mock 5.2.0's plain HTTP connector (the one
          // the tests use) takes no address and listens on every interface; see the README.
          "--server.address=127.0.0.1",
          "--com.adobe.testing.s3mock.store.root=" + root,
          "--logging.level.root=WARN"));
      Process process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(root.resolveSibling(root.getFileName() + ".log").toFile())
          .start();
      S3Mock server = null;
      try {
        awaitPort(process, httpPort);
        server = new S3Mock(URI.create("http://127.0.0.1:" + httpPort), process, root);
      } finally {
        if (server == null) {
          process.destroyForcibly();
        }
      }
      S3Mock started = server;
      Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "s3mock-stop"));
      return started;
    } catch (IOException e) {
      throw new UncheckedIOException("starting S3Mock", e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static void awaitPort(Process process, int port) {
    try {
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
          .until(() -> listens(process, port));
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException("S3Mock did not listen on port " + port + " in 90 s", e);
    }
  }

  private static boolean listens(Process process, int port) {
    if (!process.isAlive()) {
      throw new IllegalStateException("S3Mock exited with " + process.exitValue());
    }
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  private void stop() {
    admin.close();
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // A temporary directory left behind is harmless.
    }
  }

  /** The server's endpoint, {@code http://127.0.0.1:<port>}. */
  public URI endpoint() {
    return endpoint;
  }

  /** Creates a bucket with a fresh random name and returns the name. */
  public String newBucket() {
    String bucket = "coffer-" + UUID.randomUUID().toString().substring(0, 13)
        .toLowerCase(Locale.ROOT);
    admin.createBucket(b -> b.bucket(bucket));
    return bucket;
  }

  /** Whether {@code bucket} holds an object at {@code key}. */
  public boolean exists(String bucket, String key) {
    try {
      admin.headObject(b -> b.bucket(bucket).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    }
  }

  /** A fresh random key prefix, ending in {@code /}. */
  public static String newPrefix() {
    return "t-" + UUID.randomUUID() + "/";
  }

  /**
   * A configuration for a store on {@code bucket} and {@code prefix} of this server. S3Mock's
   * conditional writes are not atomic, which the store's probe before gc may catch (PROTO-2):
   * the tests trust it, as they always have, rather than depend on whether eight racing writes
   * overlapped.
   */
  public S3StoreConfig.Builder config(String bucket, String prefix) {
    return S3StoreConfig.builder().bucket(bucket).prefix(prefix).endpoint(endpoint)
        .pathStyle(true).region("us-east-1").credentials(CREDENTIALS)
        .trustConditionalRequests(true);
  }

  /** A synchronous client of this server, with {@code interceptors}. */
  public S3Client client(ExecutionInterceptor... interceptors) {
    return common(S3Client.builder(), interceptors).build();
  }

  /** A Netty-based asynchronous client of this server, with {@code interceptors}. */
  public S3AsyncClient asyncClient(ExecutionInterceptor... interceptors) {
    return common(S3AsyncClient.builder(), interceptors).build();
  }

  private <B extends S3BaseClientBuilder<B, ?>> B common(B builder,
      ExecutionInterceptor... interceptors) {
    return builder.endpointOverride(endpoint).forcePathStyle(true)
        .region(Region.US_EAST_1).credentialsProvider(CREDENTIALS)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> List.of(interceptors).forEach(o::addExecutionInterceptor));
  }
}
