package dev.coffer.store.s3;

import dev.coffer.s3sim.SimS3;
import dev.coffer.store.ConformanceSuite;
import dev.coffer.store.ContentStore;
import java.time.Clock;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole conformance suite against the S3 store on the simulated S3: every test under a fresh
 * prefix of one bucket, the store on host {@code a} and its peers (other hosts opening the same
 * prefix) on host {@code b}. Parts are 5 MiB so that the suite's 32 MiB blob is a multipart upload.
 *
 * <p>The simulation's clock is the system clock here, not a simulated one: the suite checks the
 * store's timestamps against {@link java.time.Instant#now()}, so the store runs on the system
 * clock, and S3's must agree with the hosts' (the store compares LastModified with its own time).
 */
class S3StoreConformanceTest extends ConformanceSuite {
  private static SimStores stores;
  private static final AtomicInteger PREFIXES = new AtomicInteger();

  private final Map<ContentStore, S3StoreConfig> configs =
      Collections.synchronizedMap(new IdentityHashMap<>());
  private String prefix;

  /** After the suite has closed the test's stores: empties the test's prefix. */
  @RegisterExtension
  final AfterEachCallback clearPrefix = context -> {
    if (prefix != null) {
      stores.clear(prefix);
    }
  };

  @BeforeAll
  static void simulate() {
    stores = new SimStores(SimS3.builder().clock(Clock.systemUTC()).build());
  }

  @AfterAll
  static void stop() {
    stores.close();
  }

  @Override
  protected ContentStore createStore() {
    prefix = "t" + PREFIXES.incrementAndGet() + "/";
    S3StoreConfig config = SimStores.config(prefix).build();
    ContentStore store = stores.open("a", config);
    configs.put(store, config);
    return store;
  }

  @Override
  protected ContentStore createPeer(ContentStore store) {
    return stores.open("b", configs.get(store));
  }
}
