package dev.coffer.store.memory;

import dev.coffer.store.ConformanceSuite;
import dev.coffer.store.ContentStore;

/** The in-memory store against the conformance suite; its peer is the same instance. */
class InMemoryStoreConformanceTest extends ConformanceSuite {

  @Override
  protected ContentStore createStore() {
    return MemoryStores.open();
  }
}
