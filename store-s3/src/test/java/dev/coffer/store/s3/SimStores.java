package dev.coffer.store.s3;

import dev.coffer.s3sim.SimS3;
import dev.coffer.store.ContentStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * S3 stores on a simulated S3: one simulation and bucket, and per host the clients a store would
 * build for itself (the store's retry strategy and checksum settings), on the simulation's HTTP
 * clients. The one difference: retries do not back off, so that no test waits on the wall clock
 * for a fault the simulation injected. A host named {@value #INSPECTOR} has clients without faults
 * for looking at the bucket.
 */
final class SimStores implements AutoCloseable {
  static final String BUCKET = "coffer";
  static final String INSPECTOR = "inspector";
  private static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("sim", "sim"));

  final SimS3 sim;
  private final Map<String, S3Client> sync = new ConcurrentHashMap<>();
  private final Map<String, S3AsyncClient> async = new ConcurrentHashMap<>();

  SimStores(SimS3 sim) {
    this.sim = sim;
    sim.createBucket(BUCKET);
  }

  /** A configuration on the bucket under {@code prefix}, with 5 MiB parts. */
  static S3StoreConfig.Builder config(String prefix) {
    return S3StoreConfig.builder().bucket(BUCKET).prefix(prefix).partSize(5 << 20)
        .endpoint(SimS3.ENDPOINT).pathStyle(true);
  }

  /** A new store of {@code host}: one host may open several, as one process could. */
  ContentStore open(String host, S3StoreConfig config) {
    return open(host, config, () -> { });
  }

  /** As {@link #open(String, S3StoreConfig)}, told if the server has no object tagging. */
  ContentStore open(String host, S3StoreConfig config, Runnable onNoObjectTags) {
    return S3Stores.builder().config(config).client(client(host, config))
        .bulkClient(bulkClient(host, config)).onNoObjectTags(onNoObjectTags).build();
  }

  /** The host's synchronous client, made on first use with {@code config}'s retries. */
  S3Client client(String host, S3StoreConfig config) {
    return sync.computeIfAbsent(host, h -> S3Client.builder()
        .httpClient(sim.httpClient(h))
        .endpointOverride(SimS3.ENDPOINT).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(retries(config)))
        .build());
  }

  /** The host's asynchronous client, made on first use with {@code config}'s retries. */
  S3AsyncClient bulkClient(String host, S3StoreConfig config) {
    return async.computeIfAbsent(host, h -> S3AsyncClient.builder()
        .httpClient(sim.asyncHttpClient(h))
        .endpointOverride(SimS3.ENDPOINT).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(retries(config)))
        .build());
  }

  /** The store's own retry strategy (S3Stores.retryStrategy), without backoff pauses. */
  static RetryStrategy retries(S3StoreConfig config) {
    return S3Stores.retryStrategy(config).toBuilder()
        .backoffStrategy(BackoffStrategy.retryImmediately())
        .throttlingBackoffStrategy(BackoffStrategy.retryImmediately())
        .build();
  }

  private S3Client inspector() {
    return client(INSPECTOR, config("").build());
  }

  /** Every key under {@code prefix}, in order. */
  List<String> keys(String prefix) {
    List<String> keys = new ArrayList<>();
    inspector().listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(prefix)).contents()
        .forEach(o -> keys.add(o.key()));
    return keys;
  }

  /** The keys of the multipart uploads in progress under {@code prefix}. */
  List<String> uploads(String prefix) {
    return inspector().listMultipartUploads(b -> b.bucket(BUCKET).prefix(prefix)).uploads()
        .stream().map(MultipartUpload::key).toList();
  }

  /** Removes every object and upload under {@code prefix}. */
  void clear(String prefix) {
    S3Client s3 = inspector();
    for (String key : keys(prefix)) {
      s3.deleteObject(b -> b.bucket(BUCKET).key(key));
    }
    s3.listMultipartUploads(b -> b.bucket(BUCKET).prefix(prefix)).uploads().forEach(u ->
        s3.abortMultipartUpload(b -> b.bucket(BUCKET).key(u.key()).uploadId(u.uploadId())));
  }

  /** Deletes one object, without faults. */
  void delete(String key) {
    inspector().deleteObject(b -> b.bucket(BUCKET).key(key));
  }

  /** An object's bytes, read without faults. */
  byte[] read(String key) {
    return inspector().getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray();
  }

  @Override
  public void close() {
    sync.values().forEach(S3Client::close);
    async.values().forEach(S3AsyncClient::close);
    sync.clear();
    async.clear();
    sim.close();
  }
}
