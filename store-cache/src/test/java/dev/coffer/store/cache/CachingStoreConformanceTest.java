package dev.coffer.store.cache;

import dev.coffer.store.ConformanceSuite;
import dev.coffer.store.ContentStore;
import dev.coffer.store.memory.MemoryStores;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/**
 * The conformance suite through the cache over the in-memory store, with both tiers on. The peer is
 * a second cache, with its own directory, over the same backing store, as a second host would have.
 */
class CachingStoreConformanceTest extends ConformanceSuite {

  @TempDir
  Path temp;

  private final AtomicInteger caches = new AtomicInteger();
  private final Map<ContentStore, ContentStore> backingOf = new IdentityHashMap<>();

  @Override
  protected ContentStore createStore() {
    ContentStore backing = MemoryStores.open();
    CachedContentStore cache = cache(backing);
    backingOf.put(cache, backing);
    return cache;
  }

  @Override
  protected ContentStore createPeer(ContentStore store) {
    // The peer must not close the backing store: the store under test owns it.
    return cache(CountingStore.over(backingOf.get(store)));
  }

  private CachedContentStore cache(ContentStore backing) {
    return CachingStores.builder(backing)
        .config(CacheConfig.builder()
            .directory(temp.resolve("cache-" + caches.incrementAndGet()))
            .memoryMaxBlobBytes(4096)
            .diskMaxBytes(256L << 20)
            .build())
        .executor(Runnable::run)
        .build();
  }
}
