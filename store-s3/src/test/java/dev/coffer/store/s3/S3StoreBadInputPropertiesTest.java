package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.SimS3;
import dev.coffer.store.BadInputProperties;
import dev.coffer.store.ContentStore;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The S3 store on the simulated S3 against the bad-input properties, each property on a fresh
 * prefix of one bucket; 50 tries rather than the in-memory store's 1,000 (each try is several
 * requests through the SDK). After each property every object and upload in the bucket lies
 * under a store's prefix, whatever refs, labels and digests were thrown at it.
 */
class S3StoreBadInputPropertiesTest extends BadInputProperties {
  private static final AtomicInteger PREFIXES = new AtomicInteger();
  private static SimStores stores;
  private String prefix;

  @BeforeAll
  static void simulate() {
    stores = new SimStores(SimS3.create());
  }

  @AfterAll
  static void stop() {
    stores.close();
  }

  @Override
  protected int tries() {
    return 50;
  }

  @Override
  protected ContentStore createStore() {
    prefix = "p" + PREFIXES.incrementAndGet() + "/";
    return stores.open("h", SimStores.config(prefix).build());
  }

  @Override
  protected void afterRun(ContentStore store) {
    assertThat(stores.keys("")).as("keys in the bucket").isNotEmpty()
        .allSatisfy(k -> assertThat(k).matches("p[0-9]+/.*"));
    assertThat(stores.keys(prefix)).as("keys under this property's prefix").isNotEmpty();
    assertThat(stores.uploads("")).allSatisfy(k -> assertThat(k).startsWith("p"));
  }
}
