package dev.coffer.it;

import dev.coffer.store.ContentStore;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachingStores;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole conformance suite through the cache (memory and disk tiers) over the S3 store on
 * the selected endpoint. Each host is a cache with its own directory over its own S3 store
 * instance, so a peer sees the other's changes only through the bucket, as on a build farm.
 */
class CachedS3ConformanceIT extends S3ConformanceIT {

  @TempDir
  Path temp;

  private final AtomicInteger caches = new AtomicInteger();
  private final Map<ContentStore, ContentStore> backingOf =
      Collections.synchronizedMap(new IdentityHashMap<>());

  @Override
  protected ContentStore createStore() {
    return cache(super.createStore());
  }

  @Override
  protected ContentStore createPeer(ContentStore store) {
    return cache(super.createPeer(backingOf.get(store)));
  }

  private ContentStore cache(ContentStore s3) {
    ContentStore cache = CachingStores.builder(s3)
        .config(CacheConfig.builder()
            .directory(temp.resolve("host-" + caches.incrementAndGet()))
            .memoryMaxBlobBytes(4096)
            .diskMaxBytes(256L << 20)
            .build())
        .build();
    backingOf.put(cache, s3);
    return cache;
  }
}
