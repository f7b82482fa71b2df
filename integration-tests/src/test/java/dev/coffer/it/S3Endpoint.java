package dev.coffer.it;

import dev.coffer.s3server.Credentials;
import dev.coffer.s3server.EmbeddedS3Server;
import dev.coffer.s3sim.Storage;
import dev.coffer.store.s3.S3StoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.URI;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The S3 server a test runs against, one per test JVM, chosen by the system property
 * {@code coffer.it.endpoint} (or the environment variable {@code COFFER_IT_ENDPOINT}):
 * <ul>
 *   <li>{@code s3mock} (the default): the embedded {@link S3Mock}. It applies conditional writes
 *       non-atomically, so stores reach it through a {@link FaultProxy} without faults that
 *       serialises the requests on each key ({@link #endpoint()});
 *   <li>{@code embedded}: the CLI's embedded server ({@link EmbeddedS3Server}) in this JVM, over
 *       HTTP on loopback, its data on disk in a temporary directory, with random credentials; its
 *       conditional writes are atomic, so stores reach it directly;
 *   <li>{@code localstack}: LocalStack ({@value #LOCALSTACK_IMAGE}) in a Testcontainers container;
 *       a test on it is skipped (assumption) where no Docker engine exists;
 *   <li>{@code aws}: a real bucket, named by {@code COFFER_IT_S3_BUCKET}, in
 *       {@code COFFER_IT_S3_REGION} (default us-east-1), optionally through
 *       {@code COFFER_IT_S3_ENDPOINT}, every test under a fresh prefix below
 *       {@code COFFER_IT_S3_PREFIX} (default {@code coffer-it/}); credentials from the SDK's default
 *       chain. Setting {@code COFFER_IT_S3_BUCKET} alone selects it.
 * </ul>
 * Thread-safe.
 */
final class S3Endpoint {
  static final String PROPERTY = "coffer.it.endpoint";
  static final String LOCALSTACK_IMAGE = "localstack/localstack:4.14.0";

  private static S3Endpoint selected;
  private static S3Endpoint localStack;
  private static S3Endpoint embedded;
  private static LocalStackContainer container;
  private static FaultProxy serializer;

  private final String name;
  private final URI server;
  private final String region;
  private final AwsCredentialsProvider credentials;
  private final boolean atomic;
  private final String sharedBucket;
  private final String prefixRoot;

  private S3Endpoint(String name, URI server, String region, AwsCredentialsProvider credentials,
      boolean atomic, String sharedBucket, String prefixRoot) {
    this.name = name;
    this.server = server;
    this.region = region;
    this.credentials = credentials;
    this.atomic = atomic;
    this.sharedBucket = sharedBucket;
    this.prefixRoot = prefixRoot;
  }

  /** The endpoint this run selected (see the class comment). */
  static synchronized S3Endpoint selected() {
    if (selected == null) {
      String choice = System.getProperty(PROPERTY, System.getenv("COFFER_IT_ENDPOINT"));
      if (choice == null || choice.isBlank()) {
        choice = System.getenv("COFFER_IT_S3_BUCKET") != null ? "aws" : "s3mock";
      }
      selected = switch (choice.toLowerCase(Locale.ROOT)) {
        case "s3mock" -> s3Mock();
        case "embedded" -> embedded();
        case "localstack" -> localStack();
        case "aws" -> aws();
        default -> throw new IllegalArgumentException(PROPERTY + "=" + choice
            + ": expected s3mock, embedded, localstack or aws");
      };
      System.out.println("S3 endpoint: " + selected.name + " " + selected.endpoint());
    }
    return selected;
  }

  /** The embedded S3Mock of this JVM. */
  static S3Endpoint s3Mock() {
    S3Mock mock = S3Mock.get();
    return new S3Endpoint("s3mock", mock.endpoint(), "us-east-1",
        StaticCredentialsProvider.create(AwsBasicCredentials.create("coffer", "coffer")),
        false, null, "");
  }

  /** The CLI's embedded server, started in this JVM on first use and stopped with it. */
  static synchronized S3Endpoint embedded() {
    if (embedded == null) {
      try {
        Path data = Files.createTempDirectory("coffer-embedded-s3");
        Credentials credentials = Credentials.random();
        EmbeddedS3Server server = EmbeddedS3Server.builder().storage(Storage.onDisk(data))
            .credentials(credentials).start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "embedded-s3-stop"));
        embedded = new S3Endpoint("embedded", server.endpoint(), "us-east-1",
            StaticCredentialsProvider.create(AwsBasicCredentials.create(
                credentials.accessKeyId(), credentials.secretAccessKey())),
            true, null, "");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return embedded;
  }

  /**
   * LocalStack in a container started on first use (and stopped with the JVM); skips the calling
   * test, by a failed assumption, where no Docker engine exists.
   */
  static synchronized S3Endpoint localStack() {
    Assumptions.assumeTrue(DockerClientFactory.instance().isDockerAvailable(),
        "LocalStack needs a Docker engine, and there is none");
    if (localStack == null) {
      container = new LocalStackContainer(DockerImageName.parse(LOCALSTACK_IMAGE))
          .withServices("s3");
      container.start();
      Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "localstack-stop"));
      localStack = new S3Endpoint("localstack", container.getEndpoint(), container.getRegion(),
          StaticCredentialsProvider.create(AwsBasicCredentials.create(
              container.getAccessKey(), container.getSecretKey())),
          true, null, "");
    }
    return localStack;
  }

  /** The real bucket named by the environment (see the class comment). */
  static S3Endpoint aws() {
    String bucket = System.getenv("COFFER_IT_S3_BUCKET");
    if (bucket == null || bucket.isBlank()) {
      throw new IllegalStateException(PROPERTY + "=aws needs COFFER_IT_S3_BUCKET");
    }
    String region = envOr("COFFER_IT_S3_REGION", "us-east-1");
    String endpoint = System.getenv("COFFER_IT_S3_ENDPOINT");
    String prefix = envOr("COFFER_IT_S3_PREFIX", "coffer-it/");
    if (!prefix.isEmpty() && !prefix.endsWith("/")) {
      prefix += "/";
    }
    return new S3Endpoint("aws", endpoint == null || endpoint.isBlank() ? null
        : URI.create(endpoint), region, null, true, bucket, prefix);
  }

  private static String envOr(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  /** s3mock, embedded, localstack or aws. */
  String name() {
    return name;
  }

  /** The credentials of the server's test user (null on AWS: the SDK's default chain). */
  AwsCredentialsProvider credentials() {
    return credentials;
  }

  /** The server itself, or null for AWS's own endpoint. */
  URI server() {
    return server;
  }

  /** Whether the server itself applies conditional writes atomically, as S3 does. */
  boolean atomic() {
    return atomic;
  }

  /** Whether a {@link FaultProxy} can stand in front of the server (plain HTTP). */
  boolean proxyable() {
    return server != null && "http".equals(server.getScheme());
  }

  /**
   * Where stores connect by default: the server, or, in front of a server whose conditional
   * writes are not atomic, this JVM's serialising proxy.
   */
  URI endpoint() {
    if (atomic) {
      return server;
    }
    synchronized (S3Endpoint.class) {
      if (serializer == null) {
        serializer = FaultProxy.builder(server).serializeWrites(true).start();
        Runtime.getRuntime().addShutdownHook(new Thread(serializer::close, "serializer-stop"));
      }
      return serializer.endpoint();
    }
  }

  /**
   * A proxy in front of this server, serialising requests per key unless the server is atomic;
   * the caller adds faults and closes it.
   */
  FaultProxy.Builder proxy() {
    if (!proxyable()) {
      throw new IllegalStateException("no proxy in front of " + name + " (" + server + ")");
    }
    return FaultProxy.builder(server).serializeWrites(!atomic);
  }

  /**
   * A bucket for one test: a new one, or on AWS the configured bucket (tests there keep apart by
   * prefix).
   */
  String newBucket() {
    if (sharedBucket != null) {
      return sharedBucket;
    }
    String bucket = "coffer-" + UUID.randomUUID().toString().substring(0, 13);
    try (S3Client admin = client()) {
      admin.createBucket(b -> b.bucket(bucket));
    }
    return bucket;
  }

  /** A fresh key prefix ending in {@code /}. */
  String newPrefix() {
    return prefixRoot + S3Mock.newPrefix();
  }

  /** A store configuration on {@code bucket} and {@code prefix} through {@link #endpoint()}. */
  S3StoreConfig.Builder config(String bucket, String prefix) {
    return config(endpoint(), bucket, prefix);
  }

  /**
   * A store configuration on {@code bucket} and {@code prefix} reached through {@code via}. The
   * test servers' conditional requests are trusted (PROTO-2): S3Mock's writes are not atomic and
   * LocalStack ignores DeleteObject If-Match, and the tests run gc on them as they always have.
   */
  S3StoreConfig.Builder config(URI via, String bucket, String prefix) {
    S3StoreConfig.Builder config = S3StoreConfig.builder().bucket(bucket).prefix(prefix)
        .region(region).credentials(credentials).trustConditionalRequests(true);
    if (via != null) {
      config.endpoint(via).pathStyle(true);
    }
    return config;
  }

  /** A plain client of the server itself (no proxy), for setting up and inspecting buckets. */
  S3Client client() {
    return clientBuilder(server).build();
  }

  /**
   * A client of this server through {@link #endpoint()} that shows {@code hook} every request
   * before it is sent (a hook may run other requests first, or throw to fail the request).
   */
  S3Client clientWithHook(Consumer<SdkRequest> hook) {
    return clientBuilder(endpoint())
        .overrideConfiguration(o -> o.addExecutionInterceptor(new ExecutionInterceptor() {
          @Override
          public void beforeExecution(Context.BeforeExecution context,
              ExecutionAttributes attributes) {
            hook.accept(context.request());
          }
        })).build();
  }

  /** A client builder for this server reached through {@code via} (null: AWS's endpoint). */
  S3ClientBuilder clientBuilder(URI via) {
    S3ClientBuilder builder = S3Client.builder().region(Region.of(region))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    if (credentials != null) {
      builder.credentialsProvider(credentials);
    }
    if (via != null) {
      builder.endpointOverride(via).forcePathStyle(true);
    }
    return builder;
  }
}
