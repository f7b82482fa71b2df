package dev.coffer.it;

import dev.coffer.store.ContentStore;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A fresh bucket and key prefix on S3Mock, reached through a {@link FaultProxy} that serialises
 * writes per key (so that S3Mock's conditional writes are atomic, as S3's), for tests that aim
 * faults at single requests and count them; and the stores and clients opened on it, closed with
 * it in the reverse order, the proxy last. Not thread-safe: one test's fixture.
 */
final class ProxiedBucket implements AutoCloseable {
  final S3Mock s3 = S3Mock.get();
  final String bucket = s3.newBucket();
  final String prefix = S3Mock.newPrefix();
  final ObjectKeys keys = new ObjectKeys(prefix);
  final FaultProxy proxy = FaultProxy.builder(s3.endpoint()).serializeWrites(true).start();
  private final List<AutoCloseable> resources = new ArrayList<>();

  /** {@code resource}, to be closed with this fixture (before what was added earlier). */
  <T extends AutoCloseable> T own(T resource) {
    resources.add(resource);
    return resource;
  }

  /**
   * A store on this bucket through the proxy, configured by {@code tune}; its S3 clients built by
   * the store (its own retry strategy, and its single-attempt twin) or by the caller (the SDK's
   * default retries, the store's per-request plugin for single attempts).
   */
  ContentStore host(boolean storeBuilt, UnaryOperator<S3StoreConfig.Builder> tune) {
    S3StoreConfig config = tune.apply(s3.config(bucket, prefix).endpoint(proxy.endpoint()))
        .build();
    if (storeBuilt) {
      return own(S3Stores.open(config));
    }
    S3Client client = own(S3Client.builder().endpointOverride(proxy.endpoint())
        .forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(config.credentials().orElseThrow()).build());
    return own(S3Stores.builder().config(config).client(client).build());
  }

  @Override
  public void close() throws Exception {
    Collections.reverse(resources);
    try {
      for (AutoCloseable resource : resources) {
        resource.close();
      }
    } finally {
      proxy.close();
    }
  }
}
