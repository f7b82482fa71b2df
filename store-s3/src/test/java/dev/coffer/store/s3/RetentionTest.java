package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * gc's expiry by last use on the simulated clock (RET-2..RET-5): what is expired, when it is
 * purged, what a use racing it keeps, and what a dry run costs.
 */
class RetentionTest extends SimStoreTestBase {
  private static final Duration DAY = Duration.ofDays(1);
  private static final Duration GRACE = Duration.ofMinutes(15);
  private static final GcOptions UNUSED_30_DAYS =
      new GcOptions(DAY, false).withUnusedFor(Duration.ofDays(30));

  private ContentStore host(String name) {
    return open(name, config().deletionGrace(GRACE).build());
  }

  private IndexRecord record(ContentStore store, Digest digest) {
    return ((S3Store) store).records().record(digest);
  }

  private static void flush(ContentStore store) {
    ((S3Store) store).marks.flush();
  }

  @Test
  void anUnreferencedBlobUnusedPastTheLimitIsPurgedAfterTheGraceOneUsedWithinIsKept() {
    ContentStore store = host("h");
    byte[] unused = random(1000, 1);
    byte[] used = random(2000, 2);
    Digest a = store.put(unused, null, Map.of()).digest();
    Digest b = store.put(used, null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(20));
    read(store, b);
    flush(store);
    clock.advance(DAY.multipliedBy(20));

    GcReport report = store.gc(UNUSED_30_DAYS);
    assertThat(report.expired()).containsExactly(a);
    assertThat(report.bytesExpired()).isEqualTo(1000);
    assertThat(report.blobsPurged()).isZero();
    assertThat(record(store, a).isExpired()).isTrue();
    assertThat(record(store, b).isLive()).isTrue();

    clock.advance(GRACE.minusSeconds(1));
    assertThat(store.gc(UNUSED_30_DAYS).blobsPurged()).isZero();
    clock.advance(Duration.ofSeconds(2));
    GcReport purge = store.gc(UNUSED_30_DAYS);
    assertThat(purge.blobsPurged()).isEqualTo(1);
    assertThat(stores.keys(PREFIX)).doesNotContain(keys.blob(a), keys.index(a))
        .contains(keys.blob(b), keys.index(b));
    assertThat(read(store, b)).isEqualTo(used);
    assertThatThrownBy(() -> store.info(a)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void aReferencedOrLinkedBlobIsNeverExpired() {
    ContentStore store = host("h");
    Digest held = store.putAndRef(random(1000, 3), null, Map.of()).digest();
    Digest file = store.putAndRef(random(1000, 4), null, Map.of()).digest();
    Digest tree = store.putAndRef(random(100, 5), null, Map.of()).digest();
    store.link(file, tree);
    clock.advance(DAY.multipliedBy(400));
    GcReport report = store.gc(UNUSED_30_DAYS.withMaxBytes(0));
    assertThat(report.expired()).isEmpty();
    clock.advance(GRACE.multipliedBy(2));
    store.gc(UNUSED_30_DAYS.withMaxBytes(0));
    assertThat(store.info(held).refCount()).isEqualTo(1);
    assertThat(store.info(file).refCount()).isEqualTo(1);
    assertThat(store.info(tree).links()).containsExactly(file);
  }

  @Test
  void aUseRacingTheExpiryKeepsTheBlobAndNoReaderSeesItMissing() {
    ContentStore reader = host("reader");
    ContentStore collector = host("collector");
    byte[] content = random(1000, 6);
    Digest digest = reader.put(content, null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(40));

    // The reader reads; its mark is still pending when the collector expires the blob.
    assertThat(read(reader, digest)).isEqualTo(content);
    assertThat(collector.gc(UNUSED_30_DAYS).expired()).containsExactly(digest);
    assertThat(record(collector, digest).isExpired()).isTrue();

    // Reading again before its mark is written: the read brings the blob back, no NotFound.
    assertThat(read(reader, digest)).isEqualTo(content);
    assertThat(record(collector, digest).isLive()).isTrue();
    flush(reader);
    clock.advance(GRACE.multipliedBy(2));
    assertThat(collector.gc(UNUSED_30_DAYS).blobsPurged()).isZero();
    assertThat(read(collector, digest)).isEqualTo(content);
  }

  @Test
  void aPendingMarkWrittenAfterTheExpiryKeepsTheBlob() {
    ContentStore reader = host("reader");
    ContentStore collector = host("collector");
    byte[] content = random(1000, 7);
    Digest digest = reader.put(content, null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(40));
    assertThat(read(reader, digest)).isEqualTo(content);
    assertThat(collector.gc(UNUSED_30_DAYS).expired()).containsExactly(digest);
    flush(reader); // the use came before the purge: the blob comes back
    assertThat(record(collector, digest).isLive()).isTrue();
    clock.advance(GRACE.multipliedBy(2));
    assertThat(collector.gc(UNUSED_30_DAYS).blobsPurged()).isZero();
    assertThat(read(collector, digest)).isEqualTo(content);
  }

  @Test
  void aReferenceOrAReCommitRacingTheExpiryHoldsTheBlob() {
    ContentStore holder = host("holder");
    ContentStore collector = host("collector");
    byte[] content = random(1000, 8);
    Digest digest = holder.put(content, null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(40));
    assertThat(collector.gc(UNUSED_30_DAYS).expired()).containsExactly(digest);
    long incarnation = holder.ref(digest).incarnation();
    clock.advance(GRACE.multipliedBy(2));
    assertThat(collector.gc(UNUSED_30_DAYS.withMaxBytes(0)).expired()).isEmpty();
    assertThat(collector.info(digest).refCount()).isEqualTo(1);
    holder.deref(digest, incarnation);
    assertThatThrownBy(() -> holder.info(digest)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void maxBytesExpiresTheLeastRecentlyUsedFirst() {
    ContentStore store = host("h");
    Digest a = store.put(random(1000, 9), null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(2));
    Digest b = store.put(random(1000, 10), null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(2));
    Digest c = store.put(random(1000, 11), null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(2));
    read(store, a); // a is now the most recently used
    flush(store);
    GcReport report = store.gc(new GcOptions(DAY, false).withMaxBytes(1500));
    assertThat(report.expired()).containsExactly(b, c);
    assertThat(report.bytesExpired()).isEqualTo(2000);
    assertThat(record(store, a).isLive()).isTrue();
  }

  @Test
  void aDryRunSaysWhatWouldGoAndWritesNothing() {
    ContentStore store = host("h");
    Digest a = store.put(random(1000, 12), null, Map.of()).digest();
    Digest b = store.put(random(3000, 13), null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(40));
    long before = sim().log().entries().size();
    GcReport report = store.gc(new GcOptions(DAY, true).withUnusedFor(Duration.ofDays(30)));
    assertThat(report.expired()).containsExactlyInAnyOrder(a, b);
    assertThat(report.bytesExpired()).isEqualTo(4000);
    List<LoggedRequest> sent = sim().log().entries().subList((int) before,
        sim().log().entries().size());
    assertThat(sent).extracting(LoggedRequest::operation)
        .doesNotContain(Operation.PUT_OBJECT, Operation.DELETE_OBJECT,
            Operation.PUT_OBJECT_TAGGING, Operation.COPY_OBJECT,
            Operation.ABORT_MULTIPART_UPLOAD);
    assertThat(record(store, a).isLive()).isTrue();
    assertThat(record(store, b).isLive()).isTrue();
  }

  @Test
  void anAgeBelowTheTouchIntervalIsRefused() {
    ContentStore store = host("h");
    assertThatThrownBy(() -> store.gc(new GcOptions(DAY, false).withUnusedFor(Duration.ofHours(1))))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("touch interval");
  }

  @Test
  void theStoreDefaultAgeAppliesWhenGcNamesNone() {
    ContentStore store = open("h", config().deletionGrace(GRACE).unusedFor(Duration.ofDays(30))
        .build());
    Digest a = store.put(random(1000, 14), null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(31));
    assertThat(store.gc(new GcOptions(DAY, false)).expired()).containsExactly(a);
  }

  @Test
  void anUnreferencedTreeExpiresAsAUnitKeepingWhatAnotherHolds() {
    ContentStore store = host("h");
    Digest only = store.putAndRef(random(1000, 15), null, Map.of()).digest();
    Digest shared = store.putAndRef(random(1000, 16), null, Map.of()).digest();
    store.ref(shared); // another holder
    Digest tree = store.put(random(100, 17), null, Map.of()).digest();
    store.link(only, tree);
    store.link(shared, tree);
    clock.advance(DAY.multipliedBy(40));
    assertThat(store.gc(UNUSED_30_DAYS).expired()).containsExactly(tree);
    assertThat(record(store, only).isExpired()).isTrue();
    assertThat(record(store, shared).refCount()).isEqualTo(1);
    clock.advance(GRACE.multipliedBy(2));
    assertThat(store.gc(UNUSED_30_DAYS).blobsPurged()).isEqualTo(2);
    assertThat(stores.keys(PREFIX)).doesNotContain(keys.blob(tree), keys.blob(only))
        .contains(keys.blob(shared));
    assertThat(Content.readBlob(store, store.info(shared).descriptor())).hasSize(1000);
  }
}
