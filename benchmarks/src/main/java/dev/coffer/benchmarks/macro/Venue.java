package dev.coffer.benchmarks.macro;

import dev.coffer.store.ContentStore;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * One server with its bucket and the SDK clients every in-process contender shares: the settings
 * the store builds its own clients with (Apache client with 64 connections for metadata, Netty
 * client with 64 for bulk bytes, no default CRC32 checksums, the SDK's standard retry strategy),
 * plus an interceptor that counts every HTTP attempt, so the library and the raw SDK contenders
 * differ in what they send, never in how.
 *
 * <p>With a latency ({@code BENCH_LATENCY}) every contender, these clients and the command-line
 * ones alike, reaches the server through a {@link LatencyProxy} at {@link #endpoint()}; the
 * harness's own setup and cleanup on these clients go that way too.
 */
final class Venue implements AutoCloseable {
  static final String REGION = "us-east-1";

  final S3Server server;
  final String bucket;
  final S3Client control;
  final S3AsyncClient bulk;
  /** Between the contenders and the server; null without a latency. */
  private final LatencyProxy proxy;
  private final AtomicLong requests = new AtomicLong();
  /** Requests the shared clients have sent, by the SDK's operation name. */
  private final Map<String, AtomicLong> byOperation = new ConcurrentHashMap<>();

  /**
   * Starts the clients (and the proxy, for a positive {@code latency}) and creates the bucket.
   *
   * @throws IOException if the proxy cannot listen
   */
  Venue(S3Server server, String bucket, Duration latency) throws IOException {
    this.server = server;
    this.bucket = bucket;
    this.proxy = latency.isZero() ? null : LatencyProxy.start(server.endpoint(), latency);
    ExecutionInterceptor counter = new ExecutionInterceptor() {
      @Override
      public void beforeTransmission(Context.BeforeTransmission context,
          ExecutionAttributes attributes) {
        requests.incrementAndGet();
        byOperation.computeIfAbsent(
            attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME),
            o -> new AtomicLong()).incrementAndGet();
      }
    };
    this.control = common(S3Client.builder(), counter)
        .httpClientBuilder(ApacheHttpClient.builder().maxConnections(64).expectContinueEnabled(false))
        .build();
    this.bulk = common(S3AsyncClient.builder(), counter)
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(64))
        .build();
    try {
      control.createBucket(b -> b.bucket(bucket));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Where contenders reach the server: the proxy's endpoint with a latency, else the server's. */
  URI endpoint() {
    return proxy == null ? server.endpoint() : proxy.endpoint();
  }

  /** Addressing, checksums, retries and credentials as the store sets them, plus the counter. */
  private <B extends S3BaseClientBuilder<B, ?>> B common(B builder, ExecutionInterceptor counter) {
    return builder.endpointOverride(endpoint()).forcePathStyle(true)
        .region(Region.of(REGION))
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY)))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(retryStrategy())
            .addExecutionInterceptor(counter));
  }

  /** The store's own retry strategy: the SDK's standard one, 8 attempts, 409 conflicts too. */
  private static RetryStrategy retryStrategy() {
    return AwsRetryStrategy.standardRetryStrategy().toBuilder()
        .maxAttempts(S3StoreConfig.SDK_ATTEMPTS_DEFAULT)
        .retryOnException(t -> t instanceof SdkServiceException e && e.statusCode() == 409)
        .build();
  }

  /** HTTP requests the shared clients have sent so far (retries included). */
  long requestsSent() {
    return requests.get();
  }

  /** HTTP requests the shared clients have sent so far, by S3 operation. */
  Map<String, Long> requestsSentByOperation() {
    Map<String, Long> out = new TreeMap<>();
    byOperation.forEach((op, n) -> out.put(op, n.get()));
    return out;
  }

  /** The store's configuration for {@code prefix}: its defaults, this server. */
  S3StoreConfig config(String prefix) {
    return S3StoreConfig.builder().bucket(bucket).prefix(prefix).region(REGION)
        .endpoint(endpoint()).pathStyle(true)
        .credentials(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY)))
        .build();
  }

  /** A store on {@code prefix} over the shared clients (closing it leaves them open). */
  ContentStore store(String prefix) {
    return S3Stores.builder().config(config(prefix)).client(control).bulkClient(bulk)
        .build();
  }

  /** Deletes every object under {@code prefix} (between runs, outside the measured time). */
  void purge(String prefix) {
    String token = null;
    do {
      String t = token;
      var page = control.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).continuationToken(t));
      List<ObjectIdentifier> keys = page.contents().stream().map(S3Object::key)
          .map(k -> ObjectIdentifier.builder().key(k).build()).toList();
      for (int from = 0; from < keys.size(); from += 1000) {
        List<ObjectIdentifier> slice = keys.subList(from, Math.min(keys.size(), from + 1000));
        control.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(slice).quiet(true)));
      }
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    control.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix)).uploads()
        .forEach(u -> control.abortMultipartUpload(b -> b.bucket(bucket).key(u.key())
            .uploadId(u.uploadId())));
  }

  /** The environment of the command-line contenders on this server. */
  Map<String, String> cliEnvironment(String prefix, java.nio.file.Path home) {
    Map<String, String> env = new HashMap<>();
    env.put("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY);
    env.put("AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
    env.put("AWS_REGION", REGION);
    env.put("AWS_DEFAULT_REGION", REGION);
    env.put("COFFER_BUCKET", bucket);
    env.put("COFFER_PREFIX", prefix);
    env.put("COFFER_ENDPOINT", endpoint().toString());
    env.put("COFFER_PATH_STYLE", "true");
    env.put("COFFER_HOME", home.toString());
    env.put("RCLONE_CONFIG_BENCH_TYPE", "s3");
    env.put("RCLONE_CONFIG_BENCH_PROVIDER", "Other");
    env.put("RCLONE_CONFIG_BENCH_ACCESS_KEY_ID", S3Server.ACCESS_KEY);
    env.put("RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
    env.put("RCLONE_CONFIG_BENCH_REGION", REGION);
    env.put("RCLONE_CONFIG_BENCH_ENDPOINT", endpoint().toString());
    env.put("RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE", "true");
    return env;
  }

  @Override
  public void close() {
    try {
      control.close();
    } finally {
      try {
        bulk.close();
      } finally {
        if (proxy != null) {
          proxy.close();
        }
      }
    }
  }
}
