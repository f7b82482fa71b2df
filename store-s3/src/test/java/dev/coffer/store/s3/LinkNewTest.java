package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.AbortedException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * TREE-3: {@code linkNew} takes each new link's reference as a marked reference on its target and
 * then makes the links naming the operation, so a call killed in between leaves an over-count
 * that gc or {@code fsck --repair} past the bound removes exactly (after fencing the source), and
 * never one that a link holds.
 */
class LinkNewTest extends SimStoreTestBase {
  private static final GcOptions GC = new GcOptions(Duration.ofDays(1), false);

  private S3Store host(String name) {
    return (S3Store) open(name, config().deletionGrace(Duration.ZERO).build());
  }

  private Duration bound() {
    return LinkMarks.bound(config().build());
  }

  /** Host a dies as it sends the first request {@code when} accepts; the others go through. */
  private void killWhen(Predicate<Exchange> when) {
    AtomicBoolean killed = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && !killed.get() && when.test(e)) {
        killed.set(true);
        sim().network().kill("a");
        e.fail();
        return;
      }
      e.proceed();
    });
  }

  private Predicate<Exchange> writeOf(Digest digest) {
    return e -> e.operation() == Operation.PUT_OBJECT
        && keys.index(digest).equals(e.request().key());
  }

  private static long count(ContentStore store, Digest d) {
    return store.info(d).refCount();
  }

  private IndexRecord record(S3Store store, Digest d) {
    return store.records().record(d);
  }

  /** Two blobs at count 0 and one held elsewhere (count 1), and a referenced source. */
  private List<Digest> targets(ContentStore store, int seed) {
    List<Digest> targets = new ArrayList<>();
    targets.add(store.put(random(100, seed), null, Map.of()).digest());
    targets.add(store.put(random(100, seed + 1), null, Map.of()).digest());
    targets.add(store.putAndRef(random(100, seed + 2), null, Map.of()).digest());
    return targets;
  }

  @Test
  void eachNewTargetGetsOneReferenceHeldByItsLinkAndNoMarkIsLeft() {
    S3Store store = host("h");
    List<Digest> targets = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      targets.add(store.put(random(100, 100 + i), null, Map.of()).digest());
    }
    Digest from = store.putAndRef(random(100, 1), null, Map.of()).digest();
    sim().log().clear();

    store.linkNew(targets, from);

    // Per target: the marked reference written, its tags, the mark removed (starting from the
    // ETag of the marking write, no read); and from's one write. No record is read: this host
    // wrote each last, so each change starts from the version it wrote (KnownRecords); 4 a
    // target and 2 more (82) when step 1 read them.
    assertThat(sim().log().total()).isEqualTo(3L * targets.size() + 1);
    assertThat(requests(Operation.PUT_OBJECT, keys.index(from))).hasSize(1);
    for (Digest t : targets) {
      assertThat(requests(Operation.GET_OBJECT, keys.index(t))).isEmpty();
      assertThat(requests(Operation.PUT_OBJECT, keys.index(t))).hasSize(2);
      assertThat(count(store, t)).isEqualTo(1);
      assertThat(record(store, t).pending()).isEmpty();
    }
    assertThat(store.info(from).links()).containsExactlyInAnyOrderElementsOf(targets);
    sim().log().clear();
    store.linkNew(targets, from);
    assertThat(sim().log().total())
        .as("a rerun reads the records (a link is never taken as made from a remembered version)"
            + " and writes nothing")
        .isEqualTo(targets.size() + 1L);
  }

  @Test
  void aCallKilledAfterMarkingLeavesAnOverCountThatGcPastTheBoundRemovesExactly() {
    S3Store a = host("a");
    S3Store b = host("b");
    List<Digest> targets = targets(a, 10);
    Digest from = a.putAndRef(random(100, 2), null, Map.of()).digest();
    killWhen(writeOf(from)); // dies sending the links: every target is marked

    assertThatThrownBy(() -> a.linkNew(targets, from)).isNotNull();

    assertThat(b.info(from).links()).isEmpty();
    List<Long> marked = targets.stream().map(t -> count(b, t)).toList();
    assertThat(marked).containsExactly(1L, 1L, 2L);
    b.gc(GC);
    assertThat(targets.stream().map(t -> count(b, t)).toList()).as("within the bound")
        .containsExactly(1L, 1L, 2L);
    assertThat(b.fsck(false).findings()).isEmpty();

    clock.advance(bound().plusSeconds(1));
    assertThat(b.fsck(false).findings()).extracting(FsckReport.Finding::kind)
        .containsExactly(FsckReport.Kind.PENDING_LINK_MARK, FsckReport.Kind.PENDING_LINK_MARK,
            FsckReport.Kind.PENDING_LINK_MARK);
    b.gc(GC);

    assertThat(targets.stream().map(t -> count(b, t)).toList()).as("exactly as before the call")
        .containsExactly(0L, 0L, 1L);
    targets.forEach(t -> assertThat(record(b, t).pending()).isEmpty());
    assertThat(record(b, from).isFenced(record(b, from).fenced().get(0).op())).isTrue();
    assertThat(b.fsck(false).findings()).isEmpty();
    b.linkNew(targets, from); // the rerun
    assertThat(targets.stream().map(t -> count(b, t)).toList()).containsExactly(1L, 1L, 2L);
  }

  @Test
  void fsckRepairGivesBackAMarkPastTheBoundAsGcDoes() {
    S3Store a = host("a");
    S3Store b = host("b");
    List<Digest> targets = targets(a, 20);
    Digest from = a.putAndRef(random(100, 3), null, Map.of()).digest();
    killWhen(writeOf(from));
    assertThatThrownBy(() -> a.linkNew(targets, from)).isNotNull();

    clock.advance(bound().plusSeconds(1));
    assertThat(b.fsck(true).findings()).allMatch(FsckReport.Finding::repaired).hasSize(3);

    assertThat(targets.stream().map(t -> count(b, t)).toList()).containsExactly(0L, 0L, 1L);
  }

  @Test
  void aMarkWhoseLinkWasMadeIsKeptPastTheBoundNeverDropped() {
    S3Store a = host("a");
    S3Store b = host("b");
    List<Digest> targets = targets(a, 30);
    Digest from = a.putAndRef(random(100, 4), null, Map.of()).digest();
    AtomicBoolean linked = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && writeOf(from).test(e)) {
        e.proceed();
        linked.set(true);
        sim().network().kill("a"); // dies once the links are made: the marks stay
        return;
      }
      e.proceed();
    });
    a.linkNew(targets, from); // step 4 is best effort: the call itself succeeds
    assertThat(linked).isTrue();
    assertThat(targets).allSatisfy(t -> assertThat(record(b, t).pending()).hasSize(1));

    clock.advance(bound().plusSeconds(1));
    b.gc(GC);

    assertThat(targets.stream().map(t -> count(b, t)).toList()).containsExactly(1L, 1L, 2L);
    targets.forEach(t -> assertThat(record(b, t).pending()).isEmpty());
    assertThat(record(b, from).fenced()).as("nothing to fence: every link is made").isEmpty();
    b.deref(from);
    assertThat(targets.subList(2, 3).stream().map(t -> count(b, t)).toList())
        .containsExactly(1L);
  }

  @Test
  void aLinkReleasedWhileItsMarkIsLeftReleasesOneReferenceOnly() {
    S3Store a = host("a");
    S3Store b = host("b");
    List<Digest> targets = targets(a, 40);
    Digest held = targets.get(2);
    Digest from = a.putAndRef(random(100, 5), null, Map.of()).digest();
    Digest other = a.putAndRef(random(100, 6), null, Map.of()).digest();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && writeOf(from).test(e)) {
        e.proceed();
        sim().network().kill("a");
        return;
      }
      e.proceed();
    });
    a.linkNew(targets, from);
    sim().network().interceptor(Exchange::proceed);
    sim().network().revive("a");
    a.linkNew(List.of(held), other); // a second holder of held, by another link
    assertThat(count(b, held)).isEqualTo(3);

    S3Store c = host("c");
    AtomicBoolean linkRemoved = new AtomicBoolean();
    AtomicBoolean raced = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (e.host().equals("b") && writeOf(from).test(e)) {
        e.proceed();
        linkRemoved.set(true);
        return;
      }
      if (e.host().equals("b") && linkRemoved.get() && !raced.get() && writeOf(held).test(e)) {
        // Between the link's removal and its release: gc past the bound finds no link carrying
        // the mark's operation. The mark was kept before the link went, so it gives nothing back.
        raced.set(true);
        clock.advance(bound().plusSeconds(1));
        c.gc(GC);
      }
      e.proceed();
    });
    b.unlink(held, from); // the mark is kept first, then the link released: one reference less
    assertThat(raced).isTrue();
    assertThat(count(b, held)).as("the mark was the link's: nothing more to give back")
        .isEqualTo(2);
    sim().network().interceptor(Exchange::proceed);

    b.deref(from); // the cascade carries each link's operation and removes its mark
    assertThat(count(b, held)).isEqualTo(2);
    b.deref(other);
    assertThat(count(b, held)).isEqualTo(1);
  }

  @Test
  void linksSentRacingAFenceAreRefusedAndTheMarksGivenBackOnce() {
    S3Store a = host("a");
    S3Store b = host("b");
    List<Digest> targets = targets(a, 50);
    Digest from = a.putAndRef(random(100, 7), null, Map.of()).digest();
    AtomicBoolean raced = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && !raced.get() && writeOf(from).test(e)) {
        raced.set(true);
        // A slow host: its links reach S3 only after the bound, once gc fenced and gave back.
        clock.advance(bound().plusSeconds(1));
        b.gc(GC);
      }
      e.proceed();
    });

    assertThatThrownBy(() -> a.linkNew(targets, from)).isInstanceOf(AbortedException.class);

    assertThat(raced).isTrue();
    assertThat(b.info(from).links()).isEmpty();
    assertThat(targets.stream().map(t -> count(b, t)).toList()).containsExactly(0L, 0L, 1L);
    targets.forEach(t -> assertThat(record(b, t).pending()).isEmpty());
  }
}
