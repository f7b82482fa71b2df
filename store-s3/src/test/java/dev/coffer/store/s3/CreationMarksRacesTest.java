package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.NewLinks;
import dev.coffer.store.NotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The mark at creation (PROTO-13, {@link CreationMarks}) against other hosts and faults between
 * a put that marks and its link: whoever creates the record, whatever happened to the file or
 * to {@code from} meanwhile, the file ends held by exactly the references its holders hold, no
 * mark left and no link holding nothing.
 */
class CreationMarksRacesTest extends SimStoreTestBase {
  private static final GcOptions GC = new GcOptions(Duration.ofDays(1), false);

  private S3Store host(String name) {
    return (S3Store) open(name, config().deletionGrace(Duration.ZERO).build());
  }

  private Duration bound() {
    return LinkMarks.bound(config().build());
  }

  /**
   * {@code file} at one reference, held by {@code from}'s link alone (no mark left), its object's
   * tags saying so, its bytes {@code content}.
   */
  private void assertHeldByTheLinkAlone(S3Store store, Digest from, Digest file, byte[] content) {
    assertThat(count(store, file)).isEqualTo(1);
    assertThat(store.records().record(file).pending()).isEmpty();
    assertThat(store.info(from).links()).containsExactly(file);
    assertThat(refsTag(file)).isEqualTo("1");
    assertThat(read(store, file)).isEqualTo(content);
  }

  /** A put that marks on host a, its file then deleted by host b before the link. */
  private record Deleted(S3Store a, S3Store b, Digest from, NewLinks links, byte[] content,
      Digest file) {}

  private Deleted createdThenDeletedByB() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    byte[] content = random(100, 3);
    NewLinks links = a.newLinks(from);
    Digest file = links.put(content, null, Map.of()).digest();
    b.delete(file);
    return new Deleted(a, b, from, links, content, file);
  }

  private static long count(ContentStore store, Digest d) {
    return store.info(d).refCount();
  }

  private String refsTag(Digest d) {
    return stores.client(SimStores.INSPECTOR, config().build()).getObjectTagging(b -> b
        .bucket(SimStores.BUCKET).key(keys.blob(d))).tagSet().stream()
        .filter(t -> t.key().equals("refs")).findFirst().orElseThrow().value();
  }

  private boolean isIndexWrite(dev.coffer.s3sim.Exchange e, String host, Digest d) {
    return e.host().equals(host) && e.operation() == Operation.PUT_OBJECT
        && keys.index(d).equals(e.request().key());
  }

  /** The link, and as {@link NewLinks} asks on NotFound or Aborted, a plain linkNew. */
  private static void linkAsNewLinksSays(ContentStore store, NewLinks links, List<Digest> to) {
    try {
      links.link(to);
    } catch (NotFoundException | AbortedException e) {
      store.linkNew(to, links.from());
    }
  }

  /**
   * Host A's object is stored, then host B's plain put of the same content creates the record at
   * count 0 before A's record (with its mark) is sent: A's put is AlreadyExists, and its link
   * marks the file by step 2.
   */
  @Test
  void aPlainPutOfAnotherHostCreatingTheRecordFirstLeavesTheFileToStep2() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    byte[] content = random(100, 3);
    Digest file = Digest.of(content);
    NewLinks links = a.newLinks(from);
    AtomicBoolean raced = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (isIndexWrite(e, "a", file) && raced.compareAndSet(false, true)) {
        assertThat(b.put(content, file, Map.of()).refCount()).as("B creates the record")
            .isZero();
      }
      e.proceed();
    });
    assertThatThrownBy(() -> links.put(content, file, Map.of()))
        .as("A's put finds B's record").isInstanceOf(AlreadyExistsException.class);
    sim().network().interceptor(null);
    assertThat(raced).isTrue();

    links.link(List.of(file));

    assertHeldByTheLinkAlone(b, from, file, content);
  }

  /**
   * Host B's plain put stores the object (tags refs=0) and, before its record is sent, host A's
   * put that marks finds the object and creates the record with its mark: B's put is
   * AlreadyExists, and the object's tags must say the one reference, not B's zero.
   */
  @Test
  void aPutThatMarksCreatingTheRecordAfterAnotherHostsObjectTagsItWithItsReference() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    byte[] content = random(100, 3);
    Digest file = Digest.of(content);
    NewLinks links = a.newLinks(from);
    AtomicBoolean raced = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (isIndexWrite(e, "b", file) && raced.compareAndSet(false, true)) {
        assertThat(links.put(content, file, Map.of()).refCount())
            .as("A found B's object and created the record, marked").isEqualTo(1);
      }
      e.proceed();
    });
    assertThatThrownBy(() -> b.put(content, file, Map.of()))
        .as("A created the record").isInstanceOf(AlreadyExistsException.class);
    sim().network().interceptor(null);
    assertThat(raced).isTrue();
    assertThat(count(b, file)).isEqualTo(1);
    assertThat(refsTag(file)).isEqualTo("1");

    links.link(List.of(file));

    assertHeldByTheLinkAlone(b, from, file, content);
  }

  /**
   * The create-only write of the record carrying the mark lands but its answer is lost: the put
   * finds its own record and says AlreadyExists; the link still consumes that mark (it reads the
   * record, not the put's answer): one reference, held by the link.
   */
  @Test
  void aLostAnswerOnTheMarkedRecordsCreationLeavesOneReferenceConsumedByTheLink() {
    S3Store a = host("a");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    byte[] content = random(100, 3);
    Digest file = Digest.of(content);
    NewLinks links = a.newLinks(from);
    AtomicBoolean lost = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (isIndexWrite(e, "a", file) && lost.compareAndSet(false, true)) {
        e.applyAndLoseAnswer();
      } else {
        e.proceed();
      }
    });
    try {
      links.put(content, file, Map.of());
    } catch (AlreadyExistsException e) {
      // its own record, found after the lost answer
    }
    sim().network().interceptor(null);
    assertThat(lost).isTrue();
    assertThat(count(a, file)).isEqualTo(1);
    assertThatThrownBy(() -> links.put(content, file, Map.of()))
        .as("a retry of the put").isInstanceOf(AlreadyExistsException.class);

    links.link(List.of(file, file));

    assertThat(count(a, file)).isEqualTo(1);
    assertThat(a.records().record(file).pending()).isEmpty();
    assertThat(a.info(from).links()).containsExactly(file);
  }

  /**
   * The put's link comes after gc, past the bound, gave the creation mark back (fencing
   * {@code from} for the operation): the link is refused and takes nothing; a plain linkNew
   * after it gives the file exactly its link's reference.
   */
  @Test
  void aLinkAfterGcGaveTheCreationMarkBackIsRefusedAndAPlainLinkIsExact() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    NewLinks links = a.newLinks(from);
    Digest file = links.put(random(100, 3), null, Map.of()).digest();
    Digest other = links.put(random(100, 4), null, Map.of()).digest();
    clock.advance(bound().plusSeconds(1));
    b.gc(GC);
    assertThat(List.of(count(b, file), count(b, other))).containsExactly(0L, 0L);

    assertThatThrownBy(() -> links.link(List.of(file)))
        .isInstanceOf(AbortedException.class);

    assertThat(count(b, file)).isZero();
    assertThat(b.records().record(file).pending()).isEmpty();
    assertThat(b.info(from).links()).isEmpty();
    a.linkNew(List.of(file, other), from);
    assertThat(List.of(count(b, file), count(b, other))).containsExactly(1L, 1L);
    assertThat(b.records().record(file).pending()).isEmpty();
    assertThat(b.info(from).links()).containsExactlyInAnyOrder(file, other);
    b.gc(GC);
    assertThat(List.of(count(b, file), count(b, other))).containsExactly(1L, 1L);
  }

  /**
   * A file the put created is deleted by another host before its link: the link must not
   * succeed as if the file held its reference (linkNew's contract: NotFound for a target not
   * live); the tree's put then stores it again and links it.
   */
  @Test
  void aCreatedFileDeletedBeforeItsLinkIsNotFoundAndStoredAgainByTheTreesPut() {
    Deleted d = createdThenDeletedByB();
    S3Store a = d.a();
    S3Store b = d.b();
    Digest from = d.from();
    byte[] content = d.content();
    NewLinks links = d.links();
    Digest file = d.file();

    assertThatThrownBy(() -> links.link(List.of(file))).isInstanceOf(NotFoundException.class);
    assertThat(b.info(from).links()).as("no link holding nothing").isEmpty();

    // As a tree's put then does: stores it again without the operation, links it plainly.
    assertThat(a.put(content, file, Map.of()).refCount()).isZero();
    a.linkNew(List.of(file), from);
    assertThat(count(b, file)).isEqualTo(1);
    assertThat(b.records().record(from).linkIncarnation(file))
        .isEqualTo(b.records().record(file).incarnation());
    assertThat(read(b, file)).isEqualTo(content);
  }

  /**
   * A file the put created is deleted by another host before its link, and the link's step 4,
   * which alone finds that out (its write from the version the put wrote), fails: the link must
   * not answer success with a link that holds nothing (heavy checker seed 19, step 4,905). A read
   * of the file's record tells: NotFound, the link removed (here the compare-and-swap's own read
   * after its failed write tells already); if the read fails too, the call's outcome is unclear
   * (Unavailable), never a success (the next test, which fails with step 4's failure ignored).
   */
  @Test
  void aCreatedFileDeletedWhoseStep4FailsIsNotLinkedAsASuccess() {
    Deleted d = createdThenDeletedByB();
    S3Store b = d.b();
    Digest from = d.from();
    NewLinks links = d.links();
    Digest file = d.file();
    sim().network().interceptor(e -> {
      if (isIndexWrite(e, "a", file)) {
        e.answer(500, "InternalError", "step 4 fails");
        return;
      }
      e.proceed();
    });

    assertThatThrownBy(() -> links.link(List.of(file))).isInstanceOf(NotFoundException.class);
    sim().network().interceptor(null);

    assertThat(b.info(from).links()).as("no link holding nothing").isEmpty();
    assertThatThrownBy(() -> b.info(file)).isInstanceOf(NotFoundException.class);
  }

  /** As above, with the confirming read failing too: Unavailable, not a success. */
  @Test
  void aCreatedFileDeletedWhoseStep4AndItsReadFailIsUnavailable() {
    Deleted d = createdThenDeletedByB();
    S3Store b = d.b();
    Digest from = d.from();
    NewLinks links = d.links();
    Digest file = d.file();
    AtomicBoolean linked = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (isIndexWrite(e, "a", from)) {
        linked.set(true);
      }
      if (linked.get() && e.host().equals("a") && keys.index(file).equals(e.request().key())) {
        e.answer(500, "InternalError", "step 4 and its read fail");
        return;
      }
      e.proceed();
    });

    assertThatThrownBy(() -> links.link(List.of(file)))
        .isInstanceOf(dev.coffer.store.UnavailableException.class);
    sim().network().interceptor(null);
    assertThatThrownBy(() -> b.info(file)).isInstanceOf(NotFoundException.class);
  }

  /**
   * A file the put created is deleted and stored anew (count 0, another incarnation) by another
   * host before its link: the link must hold a reference on the live incarnation, so the tree
   * holds its file and retention cannot take it.
   */
  @Test
  void aCreatedFileStoredAnewBeforeItsLinkEndsHeldByTheLinkAtItsLiveIncarnation() {
    Deleted d = createdThenDeletedByB();
    S3Store a = d.a();
    S3Store b = d.b();
    Digest from = d.from();
    byte[] content = d.content();
    NewLinks links = d.links();
    Digest file = d.file();
    assertThat(b.put(content, file, Map.of()).refCount()).isZero();

    linkAsNewLinksSays(a, links, List.of(file));

    assertThat(count(b, file)).as("held by the tree's link").isEqualTo(1);
    assertThat(b.records().record(file).pending()).isEmpty();
    assertThat(b.records().record(from).linkIncarnation(file))
        .isEqualTo(b.records().record(file).incarnation());
    assertThat(read(b, file)).isEqualTo(content);
  }

  /**
   * A tree's put draws its links' operation from the version of the tree's record it has just
   * written, without reading it. Another host deleted the tree and committed it anew in between:
   * the operation is drawn for the earlier incarnation, its files are created marked for it, and
   * its link is refused by step 3 (the tree is another incarnation), decided again on fresh reads
   * and NotFound, every creation mark given back. The caller then stores the files again and links
   * them by a plain linkNew, as {@code NewLinks} asks: each file ends held by its holders' references
   * exactly, linked at its live incarnation from the live incarnation of the tree, no mark left.
   */
  @Test
  void aDrawFromAStaleRememberedIncarnationIsNotFoundAndThePlainLinkNewAfterIsExact() {
    S3Store a = host("a");
    S3Store b = host("b");
    byte[] tree = random(100, 1);
    Digest from = a.put(tree, null, Map.of()).digest(); // the tree's commit, as a put -r makes it
    long drawnFor = a.records().record(from).incarnation();
    b.delete(from);
    b.putAndRef(tree, null, Map.of()); // committed anew
    long live = b.records().record(from).incarnation();
    assertThat(live).isNotEqualTo(drawnFor);
    Digest held = b.putAndRef(random(100, 2), null, Map.of()).digest();
    sim().log().clear();

    NewLinks links = a.newLinks(from);
    assertThat(sim().log().total()).as("drawn from a's remembered version").isZero();
    Map<Digest, byte[]> contents = new java.util.LinkedHashMap<>();
    for (int i = 3; i < 5; i++) {
      byte[] content = random(100, i);
      contents.put(links.put(content, null, Map.of()).digest(), content);
    }
    assertThatThrownBy(() -> links.put(random(100, 2), null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    for (Digest file : contents.keySet()) {
      assertThat(b.records().record(file).pending()).singleElement()
          .satisfies(m -> assertThat(m.fromIncarnation()).isEqualTo(drawnFor));
    }
    List<Digest> targets = new java.util.ArrayList<>(contents.keySet());
    targets.add(held);

    assertThatThrownBy(() -> links.link(targets)).isInstanceOf(NotFoundException.class)
        .hasMessageContaining(from.toString());

    assertThat(b.info(from).links()).as("no link made").isEmpty();
    for (Digest file : contents.keySet()) {
      assertThat(count(b, file)).as("its creation mark given back").isZero();
      assertThat(b.records().record(file).pending()).isEmpty();
    }
    assertThat(count(b, held)).isEqualTo(1);
    assertThat(b.records().record(held).pending()).isEmpty();

    // What a tree's put does then: store the files again, without the operation, and link them.
    contents.forEach((file, content) -> assertThatThrownBy(() -> a.put(content, file, Map.of()))
        .isInstanceOf(AlreadyExistsException.class));
    a.linkNew(targets, from);

    IndexRecord source = b.records().record(from);
    assertThat(source.incarnation()).isEqualTo(live);
    assertThat(b.info(from).links()).containsExactlyInAnyOrderElementsOf(targets);
    for (Digest t : targets) {
      assertThat(source.linkIncarnation(t)).isEqualTo(b.records().record(t).incarnation());
      assertThat(b.records().record(t).pending()).isEmpty();
    }
    contents.forEach((file, content) -> {
      assertThat(count(b, file)).as("the link's reference").isEqualTo(1);
      assertThat(refsTag(file)).isEqualTo("1");
      assertThat(read(b, file)).isEqualTo(content);
    });
    assertThat(count(b, held)).as("b's and the link's").isEqualTo(2);
    clock.advance(bound().plusSeconds(1));
    b.gc(GC);
    assertThat(b.fsck(false).findings()).isEmpty();
    contents.keySet().forEach(file -> assertThat(count(b, file)).isEqualTo(1));
    assertThat(count(b, held)).isEqualTo(2);
    assertThat(b.info(from).links()).containsExactlyInAnyOrderElementsOf(targets);
  }

  /**
   * {@code from} is deleted and committed anew between the put and its link, and the link is
   * sent after gc past the bound ran: no mark is given back twice (by the link's NotFound and by
   * gc), and a plain linkNew to the new incarnation gives each file one reference.
   */
  @Test
  void fromCommittedAnewAndGcPastTheBoundGiveEachMarkBackOnce() {
    S3Store a = host("a");
    S3Store b = host("b");
    byte[] tree = random(100, 1);
    Digest from = a.putAndRef(tree, null, Map.of()).digest();
    Digest held = b.putAndRef(random(100, 2), null, Map.of()).digest();
    NewLinks links = a.newLinks(from);
    Digest file = links.put(random(100, 3), null, Map.of()).digest();
    assertThatThrownBy(() -> links.put(random(100, 2), null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    b.deref(from);
    b.gc(GC);
    b.putAndRef(tree, null, Map.of()); // from's next incarnation
    clock.advance(bound().plusSeconds(1));
    b.gc(GC);
    assertThat(List.of(count(b, file), count(b, held))).containsExactly(0L, 1L);

    linkAsNewLinksSays(a, links, List.of(file, held));

    assertThat(List.of(count(b, file), count(b, held))).containsExactly(1L, 2L);
    assertThat(b.records().record(file).pending()).isEmpty();
    assertThat(b.info(from).links()).containsExactlyInAnyOrder(file, held);
  }
  /**
   * Two hosts put the same tree at once, each creating one of its two files marked for its own
   * operation and finding the other's stored: whichever links first, each file ends with one
   * reference held by one link, and no mark is left.
   */
  @Test
  void twoHostsPuttingTheSameTreeEachCreatingOneFileEndWithOneReferenceAFile() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    NewLinks byA = a.newLinks(from);
    NewLinks byB = b.newLinks(from);
    Digest first = byA.put(random(100, 3), null, Map.of()).digest();
    Digest second = byB.put(random(100, 4), null, Map.of()).digest();
    assertThatThrownBy(() -> byA.put(random(100, 4), null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    assertThatThrownBy(() -> byB.put(random(100, 3), null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);

    byA.link(List.of(first, second));
    assertThat(List.of(count(b, first), count(b, second))).as("B's creation mark still held")
        .containsExactly(1L, 2L);
    byB.link(List.of(second, first));

    assertThat(List.of(count(b, first), count(b, second))).containsExactly(1L, 1L);
    assertThat(b.records().record(first).pending()).isEmpty();
    assertThat(b.records().record(second).pending()).isEmpty();
    assertThat(b.info(from).links()).containsExactlyInAnyOrder(first, second);
    clock.advance(bound().plusSeconds(1));
    b.gc(GC);
    assertThat(List.of(count(b, first), count(b, second))).containsExactly(1L, 1L);
  }
  /**
   * Of a batch of two created files, one is deleted before the link: the call links the other
   * (its reference held, its mark removed), removes the link to the deleted one and is NotFound;
   * the caller's plain linkNew after storing the files again (as a tree's put does) is exact.
   */
  @Test
  void aBatchWithOneCreatedFileDeletedLinksTheOtherAndARerunIsExact() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    byte[] gone = random(100, 3);
    NewLinks links = a.newLinks(from);
    Digest deleted = links.put(gone, null, Map.of()).digest();
    Digest kept = links.put(random(100, 4), null, Map.of()).digest();
    b.delete(deleted);

    assertThatThrownBy(() -> links.link(List.of(deleted, kept)))
        .isInstanceOf(NotFoundException.class).hasMessageContaining(deleted.toString());

    assertThat(b.info(from).links()).containsExactly(kept);
    assertThat(count(b, kept)).isEqualTo(1);
    assertThat(b.records().record(kept).pending()).isEmpty();
    assertThat(a.put(gone, deleted, Map.of()).refCount()).isZero();
    a.linkNew(List.of(deleted, kept), from);
    assertThat(List.of(count(b, deleted), count(b, kept))).containsExactly(1L, 1L);
    assertThat(b.info(from).links()).containsExactlyInAnyOrder(deleted, kept);
    clock.advance(bound().plusSeconds(1));
    b.gc(GC);
    assertThat(List.of(count(b, deleted), count(b, kept))).containsExactly(1L, 1L);
    assertThat(read(b, deleted)).isEqualTo(gone);
  }
  /**
   * A created file linked by a first link of the operation, whose step 4 failed (the mark left,
   * the link holding it), and held by another host too; {@code from} is then deleted, and just
   * before its cascade's release of the file lands, a second link of the operation listing the
   * file finds {@code from} not live. The mark is the link's reference, which the cascade
   * releases: the call must keep it, not give it back as well (two releases of one reference,
   * the other host's reference lost).
   */
  @Test
  void aMarkHeldByALinkOfADeletedFromIsNotGivenBackAsWellAsReleasedByItsCascade() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    byte[] content = random(100, 3);
    NewLinks links = a.newLinks(from);
    Digest file = links.put(content, null, Map.of()).digest();
    assertThat(b.putAndRef(content, file, Map.of()).refCount()).as("another holder").isEqualTo(2);
    AtomicBoolean failUnmark = new AtomicBoolean(true);
    sim().network().interceptor(e -> {
      if (failUnmark.get() && isIndexWrite(e, "a", file)) {
        e.answer(500, "InternalError", "the mark's removal fails");
        return;
      }
      e.proceed();
    });
    links.link(List.of(file)); // linked; step 4 fails, the mark is left, the link holds it
    failUnmark.set(false);
    assertThat(b.records().record(file).pending()).hasSize(1);
    assertThat(count(b, file)).isEqualTo(2);
    AtomicBoolean raced = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (isIndexWrite(e, "b", file) && raced.compareAndSet(false, true)) {
        // The cascade's release of the file is on its way: the operation links again first.
        assertThatThrownBy(() -> links.link(List.of(file)))
            .isInstanceOf(NotFoundException.class);
      }
      e.proceed();
    });

    b.deref(from); // deleted: its cascade releases the link's reference on the file

    assertThat(raced).isTrue();
    assertThat(count(b, file)).as("the other host's reference").isEqualTo(1);
    assertThat(b.records().record(file).pending()).isEmpty();
    clock.advance(bound().plusSeconds(1));
    b.gc(GC);
    assertThat(count(b, file)).isEqualTo(1);
    assertThat(read(b, file)).isEqualTo(content);
  }

  /**
   * Two links of one operation at once listing the same stored file (NewLinks allows links from
   * many threads): the first marks it by step 2, the second finds that mark (its operation's)
   * and takes it as its own; the first is then Aborted (its deadline passed) and gives the mark
   * back, and the second links the file on it. The link must hold a reference: count 1. (The
   * links of one operation are made one at a time: the second waits for the first to end.)
   */
  @Test
  void twoLinksOfOneOperationAtOnceOneAbortedLeaveTheOthersLinkHoldingAReference()
      throws Exception {
    S3Store a = host("a");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    NewLinks links = a.newLinks(from);
    Digest file = a.put(random(100, 3), null, Map.of()).digest(); // stored at count 0
    java.util.concurrent.CountDownLatch secondAtStep3 = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch firstDone = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<Thread> second =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicReference<Throwable> secondOutcome =
        new java.util.concurrent.atomic.AtomicReference<>();
    AtomicBoolean started = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (Thread.currentThread() == second.get() && isIndexWrite(e, "a", from)) {
        secondAtStep3.countDown(); // the second's step 3 waits for the first to end
        try {
          firstDone.await();
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
        e.proceed();
        return;
      }
      if (isIndexWrite(e, "a", file) && started.compareAndSet(false, true)) {
        e.proceed(); // the first's step 2: the file marked
        Thread t = new Thread(() -> {
          try {
            links.link(List.of(file));
          } catch (Throwable f) {
            secondOutcome.set(f);
          }
        });
        second.set(t);
        t.start();
        // The second reaches its step 3, or waits for the first to end.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() ->
            secondAtStep3.getCount() == 0 || t.getState() == Thread.State.BLOCKED);
        clock.advance(Duration.ofMinutes(6)); // the first's deadline passes before its step 3
        return;
      }
      e.proceed();
    });

    assertThatThrownBy(() -> links.link(List.of(file))).isInstanceOf(AbortedException.class);
    firstDone.countDown();
    second.get().join(30_000);

    assertThat(secondOutcome.get()).isNull();
    assertThat(a.info(from).links()).containsExactly(file);
    assertThat(count(a, file)).as("the second's link holds a reference").isEqualTo(1);
  }

  /**
   * A put killed after its puts (no link ever), one file listed twice: {@code fsck --repair}
   * past the bound gives back each creation mark exactly once, as gc does, and a second repair
   * or gc changes nothing.
   */
  @Test
  void aRepairPastTheBoundGivesBackEachCreationMarkOfAKilledPutOnce() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    NewLinks links = a.newLinks(from);
    Digest file = links.put(random(100, 3), null, Map.of()).digest();
    assertThatThrownBy(() -> links.put(random(100, 3), null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    Digest other = links.put(random(100, 4), null, Map.of()).digest();
    assertThat(b.putAndRef(random(100, 4), other, Map.of()).refCount()).isEqualTo(2);
    sim().network().kill("a");

    clock.advance(bound().plusSeconds(1));
    b.fsck(true);

    assertThat(List.of(count(b, file), count(b, other))).containsExactly(0L, 1L);
    assertThat(b.records().record(file).pending()).isEmpty();
    assertThat(b.records().record(other).pending()).isEmpty();
    b.fsck(true);
    b.gc(GC);
    assertThat(List.of(count(b, file), count(b, other))).containsExactly(0L, 1L);
    assertThat(b.info(from).links()).isEmpty();
  }
}
