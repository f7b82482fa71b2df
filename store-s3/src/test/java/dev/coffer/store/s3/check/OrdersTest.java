package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.NotFoundException;
import java.util.List;
import java.util.Map;
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
}
