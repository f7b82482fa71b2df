package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Capabilities;
import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A server without object tagging answers 501 to every request carrying tags: the store goes on
 * without the tags that mirror its records, and stops sending them after the first refusal.
 */
class TaglessServerTest extends SimStoreTestBase {

  @Override
  Capabilities capabilities() {
    return Capabilities.s3().withoutTagging();
  }

  @Test
  void theStoreWorksWithoutTagsAndAsksOnce() {
    AtomicInteger tagged = new AtomicInteger();
    sim().network().interceptor(e -> {
      if (e.request().header("x-amz-tagging") != null
          || e.operation() == Operation.PUT_OBJECT_TAGGING) {
        tagged.incrementAndGet();
      }
      e.proceed();
    });
    ContentStore store = open("h");
    Stored stored = storeASmallAndALargeBlob(store, 1);
    store.deref(stored.large());

    assertThat(store.info(stored.small()).refCount()).isEqualTo(1);
    assertThat(read(store, stored.small())).isEqualTo(stored.smallBytes());
    assertThrowsNotFound(store, stored.large());
    assertThat(tagged).hasValue(1);
    assertThat(sim().log().entries()).filteredOn(e -> e.status() == 501)
        .extracting(LoggedRequest::operation).containsExactly(Operation.PUT_OBJECT);
    assertThat(sim().log().count(Operation.PUT_OBJECT_TAGGING)).isZero();
  }

  /**
   * A store told the server has no tagging sends nothing tagged and asks for no tags: no 501 at
   * all, and its counts and reads are as with tagging.
   */
  @Test
  void aStoreOpenedWithoutObjectTagsSendsNoTagAndMeetsNoRefusal() {
    AtomicInteger told = new AtomicInteger();
    ContentStore store = open("h", config().objectTags(false).build(), told::incrementAndGet);
    Stored stored = storeASmallAndALargeBlob(store, 5);

    assertThat(store.info(stored.small()).refCount()).isEqualTo(1);
    assertThat(store.info(stored.large()).refCount()).isEqualTo(1);
    assertThat(read(store, stored.small())).isEqualTo(stored.smallBytes());
    assertThat(sim().log().entries()).noneMatch(e -> e.status() == 501);
    assertThat(sim().log().count(Operation.PUT_OBJECT_TAGGING)).isZero();
    assertThat(sim().log().count(Operation.GET_OBJECT_TAGGING)).isZero();
    assertThat(told).hasValue(0);
  }

  /** A store that learns the server has no tagging tells its opener once, however many refusals. */
  @Test
  void theFirstRefusalIsToldOnce() {
    AtomicInteger told = new AtomicInteger();
    ContentStore store = open("h", config().build(), told::incrementAndGet);
    store.putAndRef(random(1000, 7), null, Map.of());
    store.putAndRef(random(1000, 8), null, Map.of());

    assertThat(told).hasValue(1);
    assertThat(sim().log().entries()).filteredOn(e -> e.status() == 501).hasSize(1);
  }

  /** Issue 17, item 9: fsck on a tagless server reports what it finds, without tag drift. */
  @Test
  void fsckWorksWithoutTagging() {
    ContentStore store = open("h");
    Digest kept = store.putAndRef(random(1000, 3), null, Map.of()).digest();
    Digest lost = store.putAndRef(random(1000, 4), null, Map.of()).digest();
    stores.delete(keys.blob(lost));

    FsckReport report = store.fsck(false);

    assertThat(report.findings()).singleElement().satisfies(f -> {
      assertThat(f.kind()).isEqualTo(FsckReport.Kind.RECORD_WITHOUT_BLOB);
      assertThat(f.subject()).isEqualTo(lost.toString());
    });
    assertThat(store.info(kept).refCount()).isEqualTo(1);
    assertThat(sim().log().count(Operation.GET_OBJECT_TAGGING)).isLessThanOrEqualTo(1);
  }

  /** What {@link #storeASmallAndALargeBlob} stored: each blob at count 1. */
  private record Stored(byte[] smallBytes, Digest small, Digest large) {}

  /**
   * Stores a small blob with its reference (then one more reference taken and released) and a
   * large one (two parts) through a writer with its reference, of contents drawn from {@code seed}.
   */
  private static Stored storeASmallAndALargeBlob(ContentStore store, long seed) {
    byte[] small = random(1000, seed);
    Digest a = store.putAndRef(small, null, Map.of()).digest();
    store.ref(a);
    store.deref(a);
    byte[] large = random(6 * MIB, seed + 1);
    Digest b = Digest.of(large);
    try (Writer w = store.writer("large", Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(large));
      w.commitAndRef(large.length, b, Map.of());
    }
    return new Stored(small, a, b);
  }

  private static void assertThrowsNotFound(ContentStore store, Digest digest) {
    assertThatThrownBy(() -> store.info(digest)).isInstanceOf(NotFoundException.class)
        .hasMessageContaining(digest.toString());
  }
}
