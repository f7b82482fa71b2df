package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Capabilities;
import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.s3sim.SimClock;
import dev.coffer.s3sim.SimS3;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * gc and repairs delete records conditionally, and rely on S3 honouring If-Match on DeleteObject
 * and applying conditional writes atomically. A store probes both once before its first gc or
 * repair and refuses them, with an error saying why, on a server that fails either probe
 * (docs/architecture.md, PROTO-2).
 */
class UnsafeServerTest {
  private static final String PREFIX = "unsafe/";

  private final SimClock clock = new SimClock();
  private final List<SimStores> sims = new ArrayList<>();
  private final List<ContentStore> stores = new ArrayList<>();

  @AfterEach
  void stop() {
    stores.forEach(ContentStore::close);
    sims.forEach(SimStores::close);
  }

  private SimStores sim(SimS3.Builder builder) {
    SimStores sim = new SimStores(builder.clock(clock).build());
    sims.add(sim);
    return sim;
  }

  private ContentStore open(SimStores sim) {
    ContentStore store = sim.open("h", SimStores.config(PREFIX).clock(clock).build());
    stores.add(store);
    return store;
  }

  /** A blob deleted long enough ago for gc to purge it. */
  private Digest deletedBlob(ContentStore store) {
    byte[] bytes = new byte[100];
    new Random(1).nextBytes(bytes);
    Digest digest = store.putAndRef(bytes, null, Map.of()).digest();
    store.deref(digest);
    clock.advance(Duration.ofHours(1));
    return digest;
  }

  @Test
  void gcAndRepairsAreRefusedWhereDeleteObjectIgnoresIfMatch() {
    SimStores sim = sim(SimS3.builder().capabilities(Capabilities.s3().ignoringDeleteIfMatch()));
    ContentStore store = open(sim);
    Digest digest = deletedBlob(store);

    assertThatThrownBy(() -> store.gc(GcOptions.DEFAULTS))
        .isInstanceOf(FailedPreconditionException.class)
        .hasMessageContaining("DeleteObject").hasMessageContaining("If-Match");
    assertThatThrownBy(() -> store.fsck(true))
        .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("If-Match");
    FsckReport report = store.fsck(false); // a report deletes nothing: allowed

    assertThat(report.findings()).singleElement().satisfies(f -> {
      assertThat(f.kind()).isEqualTo(FsckReport.Kind.STALE_DELETION);
      assertThat(f.repaired()).isFalse();
    });
    assertThat(sim.keys(PREFIX)).contains(PREFIX + "index/sha256/" + digest.hex(),
        PREFIX + "blobs/sha256/" + digest.hex()); // nothing purged
    assertThat(sim.keys(PREFIX)).noneMatch(k -> k.contains("probe"));
  }

  @Test
  void repairsAskedThroughFsckOptionsAreRefusedWhereDeleteObjectIgnoresIfMatch() {
    SimStores sim = sim(SimS3.builder().capabilities(Capabilities.s3().ignoringDeleteIfMatch()));
    ContentStore store = open(sim);
    Digest digest = deletedBlob(store);

    assertThatThrownBy(() -> store.fsck(FsckOptions.of(true)))
        .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("If-Match");
    assertThatThrownBy(() -> store.fsck(FsckOptions.of(true).verifying(100, 1, null)))
        .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("If-Match");
    assertThat(store.fsck(FsckOptions.of(false)).findings()).singleElement()
        .satisfies(f -> assertThat(f.repaired()).isFalse());
    assertThat(sim.keys(PREFIX)).contains(PREFIX + "index/sha256/" + digest.hex(),
        PREFIX + "blobs/sha256/" + digest.hex()); // nothing purged
  }

  @Test
  void gcAndRepairsAreRefusedWhereConditionalWritesAreNotAtomic() {
    // Two create-only writes that overlap both pass the check, as on S3Mock.
    CountDownLatch overlap = new CountDownLatch(2);
    AtomicBoolean armed = new AtomicBoolean();
    SimStores sim = sim(SimS3.builder()
        .capabilities(Capabilities.s3().withNonAtomicConditionalWrites())
        .conditionalWriteGap(() -> {
          if (!armed.get()) {
            return;
          }
          overlap.countDown();
          try {
            overlap.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }));
    ContentStore store = open(sim);
    deletedBlob(store);
    armed.set(true);

    assertThatThrownBy(() -> store.gc(GcOptions.DEFAULTS))
        .isInstanceOf(FailedPreconditionException.class)
        .hasMessageContaining("conditional writes").hasMessageContaining("atomic");
    assertThatThrownBy(() -> store.fsck(true))
        .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("atomic");
  }

  @Test
  void onS3TheProbeRunsOnceAndGcPurges() {
    SimStores sim = sim(SimS3.builder());
    ContentStore store = open(sim);
    Digest digest = deletedBlob(store);

    assertThat(store.gc(GcOptions.DEFAULTS).blobsPurged()).isEqualTo(1);
    long probes = probeRequests(sim);
    store.gc(GcOptions.DEFAULTS);
    store.fsck(true);

    assertThat(probes).isPositive();
    assertThat(probeRequests(sim)).isEqualTo(probes);
    assertThat(sim.keys(PREFIX)).noneMatch(k -> k.contains(digest.hex()) || k.contains("probe"));
  }

  private static long probeRequests(SimStores sim) {
    return sim.sim.log().entries().stream().map(LoggedRequest::key)
        .filter(k -> k != null && k.startsWith(PREFIX + "probe/")).count();
  }
}
