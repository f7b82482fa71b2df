package dev.coffer.store.memory;

import dev.coffer.store.BadInputProperties;
import dev.coffer.store.ContentStore;

/** The in-memory store against the bad-input properties. */
class InMemoryBadInputPropertiesTest extends BadInputProperties {

  @Override
  protected ContentStore createStore() {
    return MemoryStores.open();
  }
}
