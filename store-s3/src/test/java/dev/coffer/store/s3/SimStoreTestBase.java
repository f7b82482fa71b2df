package dev.coffer.store.s3;

import dev.coffer.s3sim.Capabilities;
import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.s3sim.SimClock;
import dev.coffer.s3sim.SimS3;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A fresh simulation per test whose server and stores share one {@link SimClock}, a store
 * prefix, and helpers to open stores on hosts and look at what reached S3.
 */
abstract class SimStoreTestBase {
  static final String PREFIX = "cas/";
  static final int MIB = 1 << 20;

  SimClock clock;
  SimStores stores;
  final Keys keys = new Keys(PREFIX);
  private final List<ContentStore> opened = new ArrayList<>();

  /** What the simulated server can do; S3's capabilities unless overridden. */
  Capabilities capabilities() {
    return Capabilities.s3();
  }

  @BeforeEach
  void simulate() {
    clock = new SimClock();
    stores = new SimStores(SimS3.builder().clock(clock).capabilities(capabilities()).build());
  }

  @AfterEach
  void stop() {
    for (ContentStore s : opened) {
      try {
        s.close();
      } catch (RuntimeException e) {
        // a store of a killed host cannot pause its writers; its memory is lost anyway
      }
    }
    stores.close();
  }

  SimS3 sim() {
    return stores.sim;
  }

  /** The configuration of the tests' stores: the shared clock, 5 MiB parts. */
  S3StoreConfig.Builder config() {
    return SimStores.config(PREFIX).clock(clock);
  }

  ContentStore open(String host) {
    return open(host, config().build());
  }

  ContentStore open(String host, S3StoreConfig config) {
    return open(host, config, () -> { });
  }

  /** A store on {@code host}, told if the server has no object tagging. */
  ContentStore open(String host, S3StoreConfig config, Runnable onNoObjectTags) {
    ContentStore store = stores.open(host, config, onNoObjectTags);
    opened.add(store);
    return store;
  }

  static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  static byte[] read(ContentStore store, Digest digest) {
    return Content.readBlob(store, store.info(digest).descriptor());
  }

  /** The log's entries for {@code operation} on {@code key}. */
  List<LoggedRequest> requests(Operation operation, String key) {
    return sim().log().entries().stream()
        .filter(e -> e.operation() == operation && key.equals(e.key())).toList();
  }
}
