package dev.coffer.store.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.SimClock;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.NotFoundException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The memory store's last use and expiry (RET-1, RET-2): a use is recorded at most once a touch
 * interval; gc removes unreferenced blobs unused past the limit, or least recently used beyond
 * maxBytes, at once (it has no deletion states), and never a referenced one.
 */
class InMemoryRetentionTest {
  private static final Duration DAY = Duration.ofDays(1);

  private final SimClock clock = new SimClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final ContentStore store = MemoryStores.open(clock);

  private Digest put(String content) {
    return store.put(content.getBytes(StandardCharsets.UTF_8), null, Map.of()).digest();
  }

  private void advance(Duration step) {
    clock.advance(step);
  }

  @Test
  void usesAreRecordedOncePerIntervalAndShownInInfo() {
    Instant created = clock.instant();
    Digest digest = put("a");
    advance(Duration.ofHours(20));
    assertThat(store.info(digest).lastUsedAt()).isEqualTo(created);
    advance(Duration.ofHours(5));
    Instant read = clock.instant();
    Content.readBlob(store, store.info(digest).descriptor());
    advance(Duration.ofHours(1));
    assertThat(store.info(digest).lastUsedAt()).isEqualTo(read);
  }

  @Test
  void gcExpiresUnreferencedBlobsUnusedPastTheLimitOnly() {
    Digest old = put("old");
    Digest held = store.putAndRef("held".getBytes(StandardCharsets.UTF_8), null, Map.of())
        .digest();
    advance(DAY.multipliedBy(20));
    Digest recent = put("recent");
    advance(DAY.multipliedBy(20));
    GcOptions options = new GcOptions(DAY, false).withUnusedFor(Duration.ofDays(30));
    GcReport dry = store.gc(new GcOptions(DAY, true).withUnusedFor(Duration.ofDays(30)));
    assertThat(dry.expired()).containsExactly(old);
    java.util.List<Digest> listed = new java.util.ArrayList<>();
    store.walk(i -> listed.add(i.digest())); // a walk is not a use; an info would be
    assertThat(listed).contains(old);
    GcReport report = store.gc(options);
    assertThat(report.expired()).containsExactly(old);
    assertThat(report.bytesExpired()).isEqualTo(3);
    assertThatThrownBy(() -> store.info(old)).isInstanceOf(NotFoundException.class);
    assertThat(store.info(held).refCount()).isEqualTo(1);
    assertThat(store.info(recent).size()).isEqualTo(6);
  }

  @Test
  void maxBytesExpiresLeastRecentlyUsedFirst() {
    Digest a = put("aaaa");
    advance(DAY.multipliedBy(2));
    Digest b = put("bbbb");
    advance(DAY.multipliedBy(2));
    Digest c = put("cccc");
    advance(DAY.multipliedBy(2));
    store.info(a);
    GcReport report = store.gc(new GcOptions(DAY, false).withMaxBytes(5));
    assertThat(report.expired()).containsExactly(b, c);
    assertThat(store.info(a).size()).isEqualTo(4);
  }

  @Test
  void anAgeBelowTheTouchIntervalIsRefused() {
    assertThatThrownBy(() -> store.gc(new GcOptions(DAY, true).withUnusedFor(Duration.ofHours(2))))
        .isInstanceOf(dev.coffer.store.InvalidArgumentException.class)
        .hasMessageContaining("touch interval");
  }
}
