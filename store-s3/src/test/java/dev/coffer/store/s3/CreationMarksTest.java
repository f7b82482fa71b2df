package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.NewLinks;
import dev.coffer.store.NotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mark at creation (PROTO-13, {@link CreationMarks}): content put through an operation of
 * {@code linkNew} drawn before it is stored is created holding that operation's marked reference,
 * so its link costs one request (the mark's removal) where a target stored at count 0 costs three
 * (its mark, the tags, the removal); a put whose link never comes leaves one reference over on
 * each file it created, which gc past the bound gives back exactly.
 */
class CreationMarksTest extends SimStoreTestBase {
  @TempDir Path dir;
  private static final GcOptions GC = new GcOptions(Duration.ofDays(1), false);

  private S3Store host(String name) {
    return (S3Store) open(name, config().deletionGrace(Duration.ZERO).build());
  }

  private Duration bound() {
    return LinkMarks.bound(config().build());
  }

  private static long count(ContentStore store, Digest d) {
    return store.info(d).refCount();
  }

  /** {@code t} holds one reference, its creation's mark, and its object the tag {@code refs=1}. */
  private void assertCreatedMarked(S3Store store, Digest t) {
    assertThat(count(store, t)).isEqualTo(1);
    assertThat(store.records().record(t).pending()).hasSize(1);
    assertThat(stores.client(SimStores.INSPECTOR, config().build()).getObjectTagging(b -> b
        .bucket(SimStores.BUCKET).key(keys.blob(t))).tagSet())
        .anyMatch(tag -> tag.key().equals("refs") && tag.value().equals("1"));
  }

  @Test
  void eachNewFileIsCreatedWithItsLinksReferenceAndItsLinkCostsOneRequest() {
    S3Store store = host("h");
    Digest from = store.putAndRef(random(100, 1), null, Map.of()).digest();
    Digest stored = store.put(random(100, 2), null, Map.of()).digest();
    sim().log().clear();

    NewLinks links = store.newLinks(from);
    List<Digest> targets = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      targets.add(links.put(random(100, 100 + i), null, Map.of()).digest());
    }
    assertThatThrownBy(() -> links.put(random(100, 2), null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    // The draw starts from from's record as this host wrote it, no request; each file: its
    // object (tags refs=1) and its record, marked.
    assertThat(sim().log().total()).isEqualTo(2L * targets.size() + 2);
    targets.forEach(t -> assertCreatedMarked(store, t));
    targets.add(stored);
    sim().log().clear();

    links.link(targets);

    // Each created file: the mark's removal only; the stored one: its mark, tags and removal;
    // from's one write. No read: this host wrote each record last (PROTO-14).
    assertThat(sim().log().total()).isEqualTo(20L + 3 + 1);
    assertThat(requests(Operation.PUT_OBJECT_TAGGING, keys.blob(targets.get(0)))).isEmpty();
    for (Digest t : targets) {
      assertThat(count(store, t)).isEqualTo(1);
      assertThat(store.records().record(t).pending()).isEmpty();
    }
    assertThat(store.info(from).links()).containsExactlyInAnyOrderElementsOf(targets);
    links.link(targets); // a rerun changes nothing
    targets.forEach(t -> assertThat(count(store, t)).isEqualTo(1));
  }

  /**
   * A file put through the operation ({@link NewLinks#putFile}, straight to its digest key) is
   * created holding the operation's mark too, in one PutObject or in parts: its link then costs
   * one request (the mark's removal), not three (the mark, the tags, the removal). Content stored
   * already is AlreadyExists, unmarked.
   */
  @Test
  void aFilePutThroughTheOperationIsCreatedWithItsMarkInOneStepOrInParts() throws IOException {
    S3Store store = host("h");
    Digest from = store.putAndRef(random(100, 1), null, Map.of()).digest();
    byte[] small = random(3 * MIB, 2);
    byte[] large = random(12 * MIB + 7, 3); // parts of 5 MiB (SimStores' config)
    byte[] stored = random(100, 4);
    store.put(stored, null, Map.of());
    NewLinks links = store.newLinks(from);
    List<Digest> targets = new ArrayList<>();
    sim().log().clear();

    targets.add(links.putFile(file(small), Digest.of(small), Map.of()).digest());
    // Its record read, its object (tags refs=1) and its record, marked.
    assertThat(sim().log().total()).isEqualTo(3);
    sim().log().clear();
    targets.add(links.putFile(file(large), Digest.of(large), Map.of()).digest());
    // Its record read, the upload (create, 3 parts, completion), its record, marked, and its tags
    // (refs=1); the object its completion created is not looked for (PROTO-10).
    assertThat(sim().log().total()).isEqualTo(8);
    assertThatThrownBy(() -> links.putFile(file(stored), Digest.of(stored), Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    assertThat(count(store, Digest.of(stored))).isZero();
    targets.forEach(t -> assertCreatedMarked(store, t));
    sim().log().clear();

    links.link(targets);

    // Each file: the mark's removal only; from's one write.
    assertThat(sim().log().total()).isEqualTo(2L + 1);
    for (Digest t : targets) {
      assertThat(count(store, t)).isEqualTo(1);
      assertThat(store.records().record(t).pending()).isEmpty();
    }
    assertThat(read(store, targets.get(1))).isEqualTo(large);
    assertThat(store.info(from).links()).containsExactlyInAnyOrderElementsOf(targets);
  }

  private Path file(byte[] content) throws IOException {
    Path file = Files.createTempFile(dir, "content", "");
    Files.write(file, content);
    return file;
  }

  /**
   * A tree's put commits the tree and then draws its links' operation: the draw starts from the
   * version of the tree's record this host has just written, with no request. A host that did not
   * write it reads it once.
   */
  @Test
  void aDrawRightAfterThisHostsPutOfFromMakesNoRequestAndAnotherHostReadsFromOnce() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.put(random(100, 1), null, Map.of()).digest();
    sim().log().clear();

    NewLinks byA = a.newLinks(from);
    assertThat(sim().log().total()).as("from's record as a wrote it").isZero();
    NewLinks byB = b.newLinks(from);
    assertThat(sim().log().entries()).extracting(e -> e.host() + " " + e.operation() + " "
        + e.key()).containsExactly("b " + Operation.GET_OBJECT + " " + keys.index(from));

    Digest first = byA.put(random(100, 3), null, Map.of()).digest();
    Digest second = byB.put(random(100, 4), null, Map.of()).digest();
    byA.link(List.of(first));
    byB.link(List.of(second));
    for (Digest t : List.of(first, second)) {
      assertThat(count(b, t)).isEqualTo(1);
      assertThat(b.records().record(t).pending()).isEmpty();
      assertThat(b.records().record(from).linkIncarnation(t))
          .isEqualTo(b.records().record(t).incarnation());
    }
    assertThat(b.info(from).links()).containsExactlyInAnyOrder(first, second);
  }

  /**
   * A remembered version of {@code from} that is not live decides nothing: the draw reads the
   * record, and finds it committed anew by another host (PROTO-14: an outcome that writes nothing
   * is not taken from a remembered version).
   */
  @Test
  void aDrawFromARememberedVersionOfFromNotLiveReadsItAndFindsItCommittedAnew() {
    S3Store a = host("a");
    S3Store b = host("b");
    byte[] tree = random(100, 1);
    Digest from = a.putAndRef(tree, null, Map.of()).digest();
    a.deref(from); // a remembers from deleting
    assertThat(a.records().parse(from, a.records().known(from)).isLive()).isFalse();
    b.putAndRef(tree, null, Map.of()); // committed anew
    sim().log().clear();

    NewLinks links = a.newLinks(from);

    assertThat(requests(Operation.GET_OBJECT, keys.index(from))).hasSize(1);
    assertThat(sim().log().total()).isEqualTo(1);
    Digest created = links.put(random(100, 3), null, Map.of()).digest();
    links.link(List.of(created));
    assertThat(count(b, created)).isEqualTo(1);
    assertThat(b.records().record(created).pending()).isEmpty();
    assertThat(b.records().record(from).linkIncarnation(created))
        .isEqualTo(b.records().record(created).incarnation());
  }

  @Test
  void aPutWhoseLinkNeverComesLeavesOneReferenceOverThatGcPastTheBoundGivesBack() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.put(random(100, 1), null, Map.of()).digest();
    Digest held = a.putAndRef(random(100, 2), null, Map.of()).digest();
    NewLinks links = a.newLinks(from);
    Digest created = links.put(random(100, 3), null, Map.of()).digest();
    Digest other = links.put(random(100, 4), null, Map.of()).digest();
    assertThatThrownBy(() -> links.put(random(100, 2), null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    sim().network().kill("a"); // killed before its link

    assertThat(List.of(count(b, created), count(b, other), count(b, held)))
        .containsExactly(1L, 1L, 1L);
    b.gc(GC);
    assertThat(List.of(count(b, created), count(b, other))).as("within the bound")
        .containsExactly(1L, 1L);
    clock.advance(bound().plusSeconds(1));
    assertThat(b.fsck(false).findings()).extracting(FsckReport.Finding::kind)
        .containsExactly(FsckReport.Kind.PENDING_LINK_MARK, FsckReport.Kind.PENDING_LINK_MARK);
    b.gc(GC);

    assertThat(List.of(count(b, created), count(b, other), count(b, held)))
        .as("the marks given back, nothing else").containsExactly(0L, 0L, 1L);
    assertThat(b.info(from).links()).isEmpty();
    assertThat(b.fsck(false).findings()).isEmpty();
    b.linkNew(List.of(created, other, held), from); // a rerun's links
    assertThat(List.of(count(b, created), count(b, other), count(b, held)))
        .containsExactly(1L, 1L, 2L);
  }

  @Test
  void aLinkAfterFromWasCommittedAnewGivesTheMarksBackAndIsNotFound() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    NewLinks links = a.newLinks(from);
    Digest created = links.put(random(100, 3), null, Map.of()).digest();
    b.deref(from);
    b.gc(GC);
    b.putAndRef(random(100, 1), null, Map.of()); // another incarnation of from

    assertThatThrownBy(() -> links.link(List.of(created)))
        .isInstanceOf(NotFoundException.class);

    assertThat(count(b, created)).isZero();
    assertThat(b.records().record(created).pending()).isEmpty();
    assertThat(b.info(from).links()).isEmpty();
  }

  /**
   * A second link of the same operation, after its first made the link and failed to remove the
   * mark (step 4 is best effort), finds the target linked by that operation: the mark is the
   * link's reference and is kept (removed, the count unchanged), not given back.
   */
  @Test
  void aMarkLeftByItsOwnOperationsLinkIsKeptNotGivenBackByALaterLink() {
    S3Store store = host("a");
    Digest from = store.putAndRef(random(100, 1), null, Map.of()).digest();
    NewLinks links = store.newLinks(from);
    Digest created = links.put(random(100, 3), null, Map.of()).digest();
    java.util.concurrent.atomic.AtomicBoolean failUnmark = new java.util.concurrent.atomic
        .AtomicBoolean(true);
    sim().network().interceptor(e -> {
      if (failUnmark.get() && e.operation() == Operation.PUT_OBJECT
          && keys.index(created).equals(e.request().key())) {
        e.answer(500, "InternalError", "the mark's removal fails");
        return;
      }
      e.proceed();
    });
    links.link(List.of(created)); // step 4 fails: the mark is left, the link holds it
    assertThat(store.records().record(created).pending()).hasSize(1);
    assertThat(count(store, created)).isEqualTo(1);
    failUnmark.set(false);

    links.link(List.of(created));

    assertThat(count(store, created)).as("the link's reference").isEqualTo(1);
    assertThat(store.records().record(created).pending()).isEmpty();
    assertThat(store.info(from).links()).containsExactly(created);
  }

  @Test
  void aTargetLinkedByAnotherCallMeanwhileHasItsCreationMarkGivenBack() {
    S3Store a = host("a");
    S3Store b = host("b");
    Digest from = a.putAndRef(random(100, 1), null, Map.of()).digest();
    NewLinks links = a.newLinks(from);
    Digest created = links.put(random(100, 3), null, Map.of()).digest();
    b.linkNew(List.of(created), from); // another host's put of the same tree

    links.link(List.of(created));

    assertThat(count(b, created)).isEqualTo(1);
    assertThat(b.records().record(created).pending()).isEmpty();
    assertThat(b.info(from).links()).containsExactly(created);
  }
}
