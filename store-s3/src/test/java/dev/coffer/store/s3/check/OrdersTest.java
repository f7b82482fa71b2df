package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.NotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The orders the checker holds a step to (INV-8): every point between the model's record changes,
 * and candidates told apart by what the bucket does not show.
 */
class OrdersTest {

  private static Model model() {
    return new Model(true);
  }

  @Test
  void twoSingleChangesHaveTwoOrdersAndOneThatBeganAfterHasOne() {
    Model m = model();
    m.publish(1, true, Map.of());
    List<Orders.Order> orders = Orders.of(m, x -> x.ref(1), x -> x.deref(1), true);
    assertThat(orders).extracting(Orders.Order::point).containsExactly(0, -1);
    assertThat(Orders.of(m, x -> x.ref(1), x -> x.deref(1), false))
        .extracting(Orders.Order::point).containsExactly(-1);
    assertThat(m.blobs.get(1).refs).isEqualTo(1); // the model the orders start from is unchanged
  }

  /**
   * Seed 23's faulty history, step 29,162, cut down: a tree link of b2 and a missing b8 from b6,
   * with another host's {@code link b2 from b6} between its reference on b2 and the one on b8.
   * Once the tree link has read b6's links and before its give-back reads them again, the link
   * leaves the give-back finding b2 linked, so it keeps its reference: b2 has one reference more
   * (an over-count), which neither of the two whole orders gives.
   */
  @Test
  void aLinkBetweenATreeLinksReferencesIsAnOrderOfItsOwn() {
    Model m = model();
    m.publish(2, true, Map.of());
    m.publish(6, true, Map.of());
    List<Orders.Order> orders = Orders.of(m, x -> x.treeLink(List.of(2, 8), 6),
        x -> x.link(2, 6), true);
    assertThat(orders).allSatisfy(o -> {
      assertThat(o.answer()).isEqualTo(NotFoundException.class);
      assertThat(o.after().blobs.get(6).links).containsExactly(2);
    });
    // The link before the tree link reads b6, after its read, after its reference on b2, after
    // the failed reference on b8, after the give-back's read, after the tree link.
    assertThat(orders).extracting(Orders.Order::point).containsExactly(0, 1, 2, 3, 4, -1);
    assertThat(orders).extracting(o -> o.after().blobs.get(2).refs)
        .containsExactly(1L, 2L, 2L, 2L, 1L, 1L);
  }

  /**
   * Seed 2's faulty history, step 29,108, cut down: a deref to zero and a commit with a reference
   * in its middle leave the same count in either order, but only the deref first makes the blob
   * anew, so b1's link to it holds a reference in one order and not in the other.
   */
  @Test
  void ordersTheBucketCannotTellApartAreDistinctCandidates() {
    Model m = model();
    m.publish(3, true, Map.of());
    m.publish(1, true, Map.of());
    m.ref(3);
    m.link(3, 1); // b1 holds one of b3's two references
    m.deref(3);
    List<Orders.Order> orders = Orders.of(m, x -> x.deref(3), x -> x.publish(3, true, Map.of()),
        true);
    assertThat(orders).hasSize(2);
    Model otherFirst = orders.get(0).after();
    Model derefFirst = orders.get(1).after();
    assertThat(otherFirst.differences(derefFirst)).isEmpty(); // the bucket shows the same
    assertThat(otherFirst.signature()).isNotEqualTo(derefFirst.signature());
    // Removing b1 releases what its link holds: b3's last reference in one order, nothing of the
    // new b3 in the other.
    assertThat(otherFirst.deref(1)).isNull();
    assertThat(otherFirst.live(3)).isFalse();
    assertThat(derefFirst.deref(1)).isNull();
    assertThat(derefFirst.blobs.get(3).refs).isEqualTo(1);
  }

  /**
   * Seed 20261203101's faulty history, step 218, cut down: b1 and b7 link to each other, each
   * held only by the other's link. {@code delete b1} writes b1 {@code deleting}, then releases b7
   * by a compare-and-swap of its own (the cascade, one per step); another host's {@code deref b7}
   * landing between the two finds b7 live at one reference, removes it (its cascade skips b1, gone
   * already), and the delete's release then skips b7. Both answer success, which neither whole
   * order gives: each has the other's cascade remove the second blob first, so one call answers
   * NotFound.
   */
  @Test
  void aDerefBetweenADeletesRemovalAndItsCascadeIsAnOrderOfItsOwn() {
    Model m = model();
    m.publish(1, true, Map.of());
    m.publish(7, true, Map.of());
    m.publish(8, true, Map.of());
    m.ref(8);
    m.link(7, 1); // b7's reference moves to b1's link
    m.link(1, 7); // b1's to b7's link
    m.link(8, 1); // and one of b8's two
    assertThat(m.blobs.get(1).refs).isEqualTo(1);
    assertThat(m.blobs.get(7).refs).isEqualTo(1);
    List<Orders.Order> orders = Orders.of(m, x -> x.delete(1), x -> x.deref(7), true);
    // The deref before the delete, after b1's removal, after b7's release (b8's to come), after
    // the delete.
    assertThat(orders).extracting(Orders.Order::point).containsExactly(0, 1, 2, -1);
    assertThat(orders).extracting(Orders.Order::answer)
        .containsExactly(NotFoundException.class, null, null, null);
    assertThat(orders).extracting(Orders.Order::otherAnswer)
        .containsExactly(null, null, NotFoundException.class, NotFoundException.class);
    assertThat(orders).allSatisfy(o -> {
      assertThat(o.after().live(1)).isFalse();
      assertThat(o.after().live(7)).isFalse();
      assertThat(o.after().blobs.get(8).refs).isEqualTo(1); // released once in every order
    });
  }

  /**
   * Seed 20261203109's faulty history, step 40,409, cut down: b6 held only by b0's link. {@code
   * unlink b6 from b0} removes the link, then releases b6 by a change of its own; another host's
   * {@code deref b6} landing between the two removes b6, and the release, finding it gone, has
   * nothing to release: both answer success, which neither whole order gives.
   */
  @Test
  void aDerefBetweenAnUnlinksTwoChangesIsAnOrderOfItsOwn() {
    Model m = model();
    m.publish(0, true, Map.of());
    m.publish(6, true, Map.of());
    m.link(6, 0); // b6's reference moves to b0's link
    List<Orders.Order> orders = Orders.of(m, x -> x.unlink(6, 0), x -> x.deref(6), true);
    assertThat(orders).extracting(Orders.Order::point).containsExactly(0, 1, -1);
    assertThat(orders).extracting(Orders.Order::answer)
        .containsExactly(NotFoundException.class, null, null);
    assertThat(orders).extracting(Orders.Order::otherAnswer)
        .containsExactly(null, null, NotFoundException.class);
    assertThat(orders).allSatisfy(o -> assertThat(o.after().live(6)).isFalse());
    // The deref first leaves the link, to a blob gone, where the unlink answers NotFound.
    assertThat(orders).extracting(o -> o.after().blobs.get(0).links.size())
        .containsExactly(1, 0, 0);
  }

  /**
   * Seed 48211's clean history, step 49,920, cut down: b3 links to b8, b8 holds the only
   * reference of b9, and b7 links to an earlier b9 (a link that holds nothing). {@code fsck
   * --repair} reads the records one at a time (b8's first, b9's last) before it repairs anything;
   * another host's {@code deref b8} landing after b8's read removes b8 and, by its cascade, b9. The
   * repair then keeps b3's link to b8 (live when read) and drops b7's to b9 (gone when read): both
   * answer success, and neither whole order leaves one link to a removed blob without the other.
   */
  @Test
  void aDerefBetweenAnFscksReadsOfTwoRecordsIsAnOrderOfItsOwn() {
    Model m = model();
    m.publish(9, true, Map.of());
    m.publish(7, true, Map.of());
    m.link(9, 7);
    m.deref(9); // b9 removed, b7's link to it left
    m.publish(9, true, Map.of()); // b9 anew: b7's link holds none of its references
    m.publish(8, true, Map.of());
    m.link(9, 8); // b9's reference moves to b8's link
    m.publish(3, true, Map.of());
    m.link(8, 3); // b8's to b3's
    List<Integer> readOrder = List.of(8, 3, 7, 9);
    List<Orders.Order> orders = Orders.of(m, x -> x.repairDanglingLinks(readOrder, Map.of()),
        x -> x.deref(8), true);
    assertThat(orders).allSatisfy(o -> {
      assertThat(o.answer()).isNull();
      assertThat(o.otherAnswer()).isNull();
      assertThat(o.after().live(8)).isFalse();
      assertThat(o.after().live(9)).isFalse(); // released by b8's cascade
      assertThat(o.after().blobs.get(3).refs).isEqualTo(1);
      assertThat(o.after().blobs.get(7).refs).isEqualTo(1);
    });
    // The deref before the fsck, after its read of b8, of b3, of b7, and after the fsck (once
    // every record is read, the repair has nothing to do): a link is dropped only where its
    // target's record was read after the deref.
    assertThat(orders).extracting(Orders.Order::point).containsExactly(0, 1, 2, 3, -1);
    assertThat(orders).extracting(o -> o.after().blobs.get(3).links.size())
        .containsExactly(0, 1, 1, 1, 1);
    assertThat(orders).extracting(o -> o.after().blobs.get(7).links.size())
        .containsExactly(0, 0, 0, 0, 1);
  }

  /**
   * Seed 48211's clean history, step 96,721, cut down: b6 at one reference, which its unlinked
   * mark (a {@code linkNew} that died after marking, not yet past {@code pendingLinkBound()})
   * counts, linked from b1 and b3. {@code delete b1} removes b1, then releases b6 by its cascade;
   * another host's {@code fsck --repair} landing between the two finds b6 live, keeps b3's link to
   * it and leaves its mark (too young to give back), and the release then removes b6: b3 keeps a
   * link to a removed blob. The bucket after the step holds no record of b6 to say the mark was
   * kept, and a model that took every mark the bucket no longer holds as given back had the
   * repair take b6 to 0 and the release skip it, so no order removed b6 and kept the link.
   */
  @Test
  void aRepairMayKeepTheMarkOfABlobTheOtherOperationRemovesAfterIt() {
    Model m = model();
    m.publish(6, true, Map.of());
    m.publish(1, true, Map.of());
    m.link(6, 1); // b6's reference moves to b1's link
    m.publish(3, true, Map.of());
    m.ref(6);
    m.link(6, 3); // a second reference of b6 moves to b3's link
    Model.Blob b6 = m.blobs.get(6);
    b6.marks.add("op-died"); // a mark no link holds, counted
    b6.refs++;
    m.deref(6);
    m.deref(6); // b6 at the one reference its mark counts
    assertThat(b6.refs).isEqualTo(1);
    // The bucket after the step: b1 and b6 removed, no mark left anywhere.
    LinkNewMarks.Snapshot after = new LinkNewMarks.Snapshot(Map.of(), Map.of(), Set.of(3));
    assertThat(LinkNewMarks.undecided(after, m)).containsExactly(6);
    List<Set<Integer>> choices = LinkNewMarks.keptChoices(LinkNewMarks.undecided(after, m));
    assertThat(choices).containsExactly(Set.of(), Set.of(6));

    List<Integer> readOrder = List.of(1, 3, 6);
    List<List<Orders.Order>> byChoice = new ArrayList<>();
    for (Set<Integer> kept : choices) {
      byChoice.add(Orders.of(m, x -> x.delete(1),
          x -> x.repairDanglingLinks(readOrder, LinkNewMarks.stillPending(after, x, kept)), true));
    }
    // The repair before the delete, after b1's removal (before b6's release), after the delete.
    byChoice.forEach(orders -> assertThat(orders).extracting(Orders.Order::point)
        .containsExactly(0, 1, -1));
    // The mark given back: the release finds b6 at 0 and skips it, or the repair drops the link.
    assertThat(byChoice.get(0)).noneSatisfy(o -> {
      assertThat(o.after().live(6)).isFalse();
      assertThat(o.after().blobs.get(3).links).containsExactly(6);
    });
    assertThat(byChoice.get(0)).extracting(o -> o.after().live(6))
        .containsExactly(true, true, false);
    // The mark kept: the repair between the removal and the release keeps the link, as the store.
    assertThat(byChoice.get(1)).extracting(o -> o.after().live(6))
        .containsExactly(false, false, false);
    assertThat(byChoice.get(1)).extracting(o -> o.after().blobs.get(3).links.size())
        .containsExactly(1, 1, 0);
  }


  /**
   * b2 holds one reference for b8's link and one for an unlinked mark past the bound; b8's only
   * reference is held by b3's link. {@code fsck --repair} reads b8, b3 and b2, and only then, at
   * b2's turn, gives the mark back; another host's {@code deref b8} landing after b8's read
   * removes b8 and releases b2 while the mark still counts: b2 stays live and is then taken to 0,
   * and b3 keeps its link to b8 (live when read). A model that gave marks back before its reads
   * had the release remove b2 at that point.
   */
  @Test
  void aDerefBetweenAnFscksReadsFindsTheMarksItGivesBackLaterStillCounted() {
    Model m = model();
    m.publish(2, true, Map.of());
    m.publish(8, true, Map.of());
    m.link(2, 8); // b2's reference moves to b8's link
    m.publish(3, true, Map.of());
    m.link(8, 3); // b8's to b3's
    Model.Blob b2 = m.blobs.get(2);
    b2.marks.add("op-died"); // a mark no link holds, past the bound, counted
    b2.refs++;
    List<Orders.Order> orders = Orders.of(m, x -> x.repairDanglingLinks(List.of(8, 3, 2), Map.of()),
        x -> x.deref(8), true);
    assertThat(orders).allSatisfy(o -> {
      assertThat(o.answer()).isNull();
      assertThat(o.otherAnswer()).isNull();
      assertThat(o.after().live(8)).isFalse();
    });
    assertThat(orders).anySatisfy(o -> {
      assertThat(o.after().blobs.get(3).links).containsExactly(8);
      assertThat(o.after().live(2)).isTrue();
      assertThat(o.after().blobs.get(2).refs).isZero();
      assertThat(o.after().blobs.get(2).marks).isEmpty();
    });
  }

  /**
   * b5 and b2 each hold one reference for b7's link and one for an unlinked mark past the bound;
   * b5's record comes before b2's in key order. {@code fsck --repair} gives each blob's marks back
   * at its record's turn, in key order, after every read; another host's {@code deref b7} landing
   * between the two give-backs releases b5 at its last reference (removed) and b2 at two (live,
   * then taken to 0 by its give-back). A model that gave every mark back at once has no such
   * order, and one that went in blob order had b2 removed and b5 live instead.
   */
  @Test
  void aDerefBetweenTwoRecordsGiveBacksMeetsTheFirstInKeyOrderGivenBack() {
    Model m = model();
    m.publish(2, true, Map.of());
    m.publish(5, true, Map.of());
    m.publish(7, true, Map.of());
    m.link(2, 7); // b2's reference moves to b7's link
    m.link(5, 7); // b5's too
    for (int b : List.of(2, 5)) {
      m.blobs.get(b).marks.add("op-died-" + b);
      m.blobs.get(b).refs++;
    }
    List<Orders.Order> orders = Orders.of(m, x -> x.repairDanglingLinks(List.of(5, 2, 7), Map.of()),
        x -> x.deref(7), true);
    assertThat(orders).allSatisfy(o -> {
      assertThat(o.answer()).isNull();
      assertThat(o.otherAnswer()).isNull();
      assertThat(o.after().live(7)).isFalse();
    });
    assertThat(orders).anySatisfy(o -> {
      assertThat(o.after().live(5)).isFalse();
      assertThat(o.after().live(2)).isTrue();
      assertThat(o.after().blobs.get(2).refs).isZero();
    });
    assertThat(orders).noneSatisfy(o -> {
      assertThat(o.after().live(2)).isFalse();
      assertThat(o.after().live(5)).isTrue();
    });
  }
}
