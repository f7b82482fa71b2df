package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The deletion grace and the purge, on the simulated clock shared by S3 and the hosts: nothing is
 * purged before the grace has passed, everything after, without waiting.
 */
class GcOnSimulatedClockTest extends SimStoreTestBase {

  @Test
  void aDeletedBlobIsPurgedOnlyAfterItsGrace() {
    ContentStore store = open("h", config().deletionGrace(Duration.ofMinutes(15)).build());
    byte[] content = random(100, 1);
    Digest digest = store.putAndRef(content, null, Map.of()).digest();
    store.deref(digest);
    clock.advance(Duration.ofMinutes(14));
    GcReport early = store.gc(new GcOptions(Duration.ofDays(1), false));
    assertThat(early.blobsPurged()).isZero();
    assertThat(early.skipped()).extracting(GcReport.Skip::subject).contains(digest.toString());
    assertThat(stores.keys(PREFIX)).contains(keys.blob(digest), keys.index(digest));

    clock.advance(Duration.ofMinutes(2));
    assertThat(store.gc(new GcOptions(Duration.ofDays(1), false)).blobsPurged()).isEqualTo(1);
    assertThat(stores.keys(PREFIX)).isEmpty();
    assertThat(store.putAndRef(content, digest, Map.of()).refCount()).isEqualTo(1);
    assertThat(read(store, digest)).isEqualTo(content);
  }
}
