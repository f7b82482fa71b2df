package dev.coffer.it;

import dev.coffer.store.ConformanceSuite;
import dev.coffer.store.ContentStore;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The conformance suite over the S3 store on an {@link S3Endpoint}: every test gets a fresh prefix
 * of one bucket per endpoint, and a peer is a second store with its own clients on the same bucket
 * and prefix, as another host would open it. Parts are 5 MiB so that the suite's 32 MiB blob is a
 * multipart upload.
 */
abstract class S3StoreSuite extends ConformanceSuite {
  private static final Map<S3Endpoint, String> BUCKETS = new ConcurrentHashMap<>();
  private final Map<ContentStore, S3StoreConfig> configs =
      Collections.synchronizedMap(new IdentityHashMap<>());

  /** The server under test. */
  protected abstract S3Endpoint endpoint();

  /** A configuration for a store on the server under test with {@code prefix}. */
  protected S3StoreConfig.Builder configFor(String prefix) {
    S3Endpoint endpoint = endpoint();
    return endpoint.config(BUCKETS.computeIfAbsent(endpoint, S3Endpoint::newBucket), prefix);
  }

  @Override
  protected ContentStore createStore() {
    return open(configFor(endpoint().newPrefix()).partSize(5 << 20).build());
  }

  @Override
  protected ContentStore createPeer(ContentStore store) {
    return open(configs.get(store));
  }

  private ContentStore open(S3StoreConfig config) {
    ContentStore store = S3Stores.open(config);
    configs.put(store, config);
    return store;
  }
}
