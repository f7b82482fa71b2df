package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.NotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code fsck --repair} with another host's operation landing in its middle. The repair reads
 * every record, one at a time in key order, before it repairs any link, so what it finds dangling
 * is what each target's record said when it was read.
 */
class FsckRacesTest extends SimStoreTestBase {

  private static boolean gone(ContentStore store, Digest d) {
    try {
      store.info(d);
      return false;
    } catch (NotFoundException e) {
      return true;
    }
  }

  /**
   * Stores {@code yBytes} as y and q linking to it, then removes y: q keeps a link to y's ended
   * incarnation, which holds nothing. Returns q.
   */
  private static Digest linkedToRemoved(ContentStore a, byte[] yBytes) {
    Digest y = a.putAndRef(yBytes, null, Map.of()).digest();
    Digest q = a.putAndRef(random(100, 7), null, Map.of()).digest();
    a.link(y, q);
    a.deref(y);
    return q;
  }

  /**
   * Seed 48211's clean history, step 49,920, cut down: p links to x, x holds the only reference
   * of y, and q links to an earlier life of y (a link that holds nothing). Host b's {@code deref x}
   * lands between host a's reads of x's and y's records: it removes x and, by its cascade, y.
   * The repair keeps p's link to x (live when read) and drops q's to y (gone when read): a link
   * to a removed blob is left, which holds nothing and which the next repair drops, and no count
   * changes.
   */
  @Test
  void aDerefBetweenTwoRecordReadsLeavesTheLinkToTheRecordReadFirst() throws Exception {
    ContentStore a = open("a");
    ContentStore b = open("b");
    byte[] yBytes = random(100, 9);
    Digest y = Digest.of(yBytes);
    Digest q = linkedToRemoved(a, yBytes); // y removed; q's link to it left
    a.putAndRef(yBytes, y, Map.of()); // y anew: q's link holds none of its references
    Digest x = a.putAndRef(random(100, 8), null, Map.of()).digest();
    a.link(y, x); // y's reference moves to x's link
    Digest p = a.putAndRef(random(100, 3), null, Map.of()).digest();
    a.link(x, p); // x's to p's
    assertThat(a.info(x).refCount()).isEqualTo(1);
    assertThat(a.info(y).refCount()).isEqualTo(1);

    // The repair reads records in parallel: x's read and y's are parked, then x's applied, the
    // deref made, and y's applied, so that the deref lands between the two.
    Set<String> parkedKeys = Set.of(keys.index(x), keys.index(y));
    AtomicBoolean park = new AtomicBoolean(true);
    sim().network().interceptor(e -> {
      if (!(park.get() && e.host().equals("a") && e.operation() == Operation.GET_OBJECT
          && parkedKeys.contains(e.request().key()))) {
        e.proceed();
      }
    });
    CompletableFuture<FsckReport> fsck =
        CompletableFuture.supplyAsync(() -> ((S3Store) a).fsck(true));
    assertThat(sim().network().awaitParked(2, Duration.ofSeconds(20))).isTrue();
    park.set(false);
    sim().network().parked().stream().filter(e -> e.request().key().equals(keys.index(x)))
        .forEach(Exchange::apply);
    b.deref(x);
    sim().network().parked().forEach(Exchange::apply);
    FsckReport report = fsck.get(60, TimeUnit.SECONDS);
    sim().network().interceptor(null);

    assertThat(gone(a, x)).isTrue();
    assertThat(gone(a, y)).isTrue(); // released by x's cascade
    assertThat(a.info(p).refCount()).isEqualTo(1);
    assertThat(a.info(q).refCount()).isEqualTo(1);
    assertThat(a.info(p).links()).containsExactly(x);
    assertThat(a.info(q).links()).isEmpty();
    assertThat(report.findings()).filteredOn(f -> f.kind() == FsckReport.Kind.DANGLING_LINK)
        .extracting(FsckReport.Finding::subject).contains(q.toString())
        .doesNotContain(p.toString());

    ((S3Store) a).fsck(true);
    assertThat(a.info(p).links()).isEmpty();
    assertThat(a.info(q).links()).isEmpty();
    assertThat(a.info(p).refCount()).isEqualTo(1);
  }

  /**
   * q's link to a removed y found dangling, y's record read again and found gone; before the
   * repair changes q's record, host b stores y anew and links it from q, the link now holding
   * y's only reference. The repair must leave that link: dropping it would leave y's reference
   * held by no link, an over-count no gc gives back.
   */
  @Test
  void aLinkMadeAnewBeforeTheRepairChangesFromIsKept() {
    ContentStore a = open("a");
    ContentStore b = open("b");
    byte[] yBytes = random(100, 9);
    Digest y = Digest.of(yBytes);
    Digest q = linkedToRemoved(a, yBytes); // y removed; q's link to it dangling

    String qKey = keys.index(q);
    AtomicInteger seen = new AtomicInteger();
    sim().network().interceptor(e -> {
      // a's first request on q's record is the fsck's read; its next one is the repair's.
      if (e.host().equals("a") && qKey.equals(e.request().key())
          && seen.incrementAndGet() == 2) {
        b.putAndRef(yBytes, y, Map.of());
        b.link(y, q);
      }
      e.proceed();
    });
    ((S3Store) a).fsck(true);
    sim().network().interceptor(null);
    assertThat(seen).hasValueGreaterThanOrEqualTo(2);

    assertThat(a.info(q).links()).containsExactly(y);
    assertThat(a.info(y).refCount()).isEqualTo(1);
    a.unlink(y, q); // the link held y's only reference
    assertThat(gone(a, y)).isTrue();
  }

  /**
   * A repair changes the records it finds dangling links in one at a time, in the order it read
   * them (their index keys'), never in an order of its own: another host's operation landing
   * between two repairs meets the records before it repaired and the records after it not yet,
   * in that order.
   */
  @Test
  void danglingLinksAreRepairedInTheRecordsKeyOrder() {
    ContentStore a = open("a");
    List<String> sources = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      Digest y = a.putAndRef(random(100, 100 + i), null, Map.of()).digest();
      Digest q = a.putAndRef(random(100, 200 + i), null, Map.of()).digest();
      a.link(y, q);
      a.deref(y); // q's link to y left dangling
      sources.add(keys.index(q));
    }
    List<String> repaired = Collections.synchronizedList(new ArrayList<>());
    sim().network().interceptor(e -> {
      if (e.operation() == Operation.PUT_OBJECT && sources.contains(e.request().key())) {
        repaired.add(e.request().key());
      }
      e.proceed();
    });
    FsckReport report = ((S3Store) a).fsck(true);
    sim().network().interceptor(null);

    assertThat(report.findings()).filteredOn(f -> f.kind() == FsckReport.Kind.DANGLING_LINK)
        .hasSize(12);
    assertThat(repaired).containsExactlyInAnyOrderElementsOf(sources).isSorted();
  }
}
