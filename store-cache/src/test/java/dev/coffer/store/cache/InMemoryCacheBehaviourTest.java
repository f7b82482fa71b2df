package dev.coffer.store.cache;

import dev.coffer.store.ContentStore;
import dev.coffer.store.memory.MemoryStores;

/** The cache's behaviour over the in-memory store. */
class InMemoryCacheBehaviourTest extends CacheBehaviourSuite {

  @Override
  protected ContentStore createBacking() {
    return MemoryStores.open();
  }
}
