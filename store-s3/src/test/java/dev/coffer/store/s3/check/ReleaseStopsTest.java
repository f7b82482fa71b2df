package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The states an unclear {@code delete} or {@code deref} may have stopped in
 * ({@link Model#releaseStops}): its blob removed, only the first of its cascade's releases made
 * (none, one, ... all but the last), in the order of the removed record's links.
 */
class ReleaseStopsTest {

  /** b11 at 4 references, one of them held by b9's link. */
  private static Model linked() {
    Model m = new Model(true);
    m.publish(11, true, Map.of("k0", "p2"));
    m.ref(11);
    m.ref(11);
    m.ref(11);
    m.publish(9, true, Map.of());
    m.link(11, 9); // one of the caller's references of b11 moves to the link
    return m;
  }

  /**
   * Heavy seed 4, step 4,150: {@code h2 ref b11} landed and h0's {@code delete b9} removed b9 and
   * failed reading b11 for its release: b11 at 5, where both orders of the calls have 4.
   */
  @Test
  void aDeleteWhoseCascadeDidNotLandWithARefOfItsTargetLeavesTheTargetOneHigher() {
    Model m = linked();
    assertThat(m.blobs.get(11).refs).isEqualTo(4);
    assertThat(m.blobs.get(9).links).containsExactly(11);

    Model refFirst = m.copy();
    refFirst.ref(11);
    refFirst.delete(9);
    Model deleteFirst = m.copy();
    deleteFirst.delete(9);
    deleteFirst.ref(11);
    assertThat(refFirst.blobs.get(11).refs).isEqualTo(4);
    assertThat(deleteFirst.blobs.get(11).refs).isEqualTo(4);

    List<Model> stops = m.releaseStops(9, true);
    assertThat(stops).hasSize(1);
    Model stop = stops.get(0);
    assertThat(stop.live(9)).isFalse();
    assertThat(stop.blobs.get(11).refs).isEqualTo(4);
    assertThat(stop.ref(11)).isNull();
    assertThat(stop.blobs.get(11).refs).isEqualTo(5);
    assertThat(m.live(9)).isTrue(); // the model stopped from is unchanged
  }

  /** A deref has the stop only at the last reference, where it removes the blob. */
  @Test
  void aDerefHasTheStopOnlyWhereItRemovesTheBlob() {
    Model m = linked();
    assertThat(m.releaseStops(9, false)).hasSize(1); // b9 at 1 reference
    m.ref(9);
    assertThat(m.releaseStops(9, false)).isEmpty(); // 2: the deref only counts down
    assertThat(m.releaseStops(9, true)).hasSize(1);
  }

  /** Without links that hold a reference, or without the blob, the stop is the end itself. */
  @Test
  void aReleaseWithoutLinksOrWithoutTheBlobHasNoStop() {
    Model m = linked();
    assertThat(m.releaseStops(11, true)).isEmpty(); // b11 links to nothing
    assertThat(m.releaseStops(7, true)).isEmpty(); // no such blob
  }

  /**
   * b9 linking to b3 and b11, each at 2 references; the delete of b9 stopped after releasing b3
   * (a host killed between the two releases), with another host's {@code ref b11} in its
   * middle: b3 at 1 and b11 at 3. Neither order of the two calls (b11 at 2) nor the stop with
   * no release made (b3 at 2) has that state; the stop after one release has it.
   */
  @Test
  void aDeleteStoppedBetweenTwoReleasesIsAStopOfItsOwnInTheRecordsOrder() {
    Model m = new Model(true);
    m.publish(3, true, Map.of());
    m.ref(3);
    m.publish(11, true, Map.of());
    m.ref(11);
    m.publish(9, true, Map.of());
    m.link(3, 9);
    m.link(11, 9); // each link holds one of the two references
    assertThat(List.of(m.blobs.get(3).refs, m.blobs.get(11).refs)).containsExactly(2L, 2L);

    List<Model> stops = m.releaseStops(9, true, b -> b == 9 ? List.of(3, 11) : List.of());
    assertThat(stops).hasSize(2);
    Model none = stops.get(0);
    Model one = stops.get(1);
    assertThat(List.of(none.blobs.get(3).refs, none.blobs.get(11).refs))
        .containsExactly(2L, 2L);
    assertThat(List.of(one.blobs.get(3).refs, one.blobs.get(11).refs)).containsExactly(1L, 2L);
    assertThat(one.ref(11)).isNull();
    assertThat(one.blobs.get(11).refs).isEqualTo(3);
    Model end = m.copy();
    end.delete(9);
    end.ref(11);
    assertThat(end.blobs.get(11).refs).isEqualTo(2);

    // The record's order decides which release comes first: b11's, then b3's.
    Model other = m.releaseStops(9, true, b -> b == 9 ? List.of(11, 3) : List.of()).get(1);
    assertThat(List.of(other.blobs.get(3).refs, other.blobs.get(11).refs))
        .containsExactly(2L, 1L);
  }

  /**
   * A release that removes its target (its last reference) adds that target's links to the
   * cascade: the stops run through them too, and one stopped before that removal keeps the
   * target live at 1 with its own target unreleased.
   */
  @Test
  void aCascadeThroughARemovedTargetHasAStopAfterEachRelease() {
    Model m = new Model(true);
    m.publish(5, true, Map.of());
    m.publish(4, true, Map.of());
    m.link(5, 4); // b5's only reference held by b4's link
    m.publish(9, true, Map.of());
    m.link(4, 9); // b4's only reference held by b9's link
    List<Model> stops = m.releaseStops(9, true);
    assertThat(stops).hasSize(2);
    assertThat(stops.get(0).live(4)).isTrue();
    assertThat(stops.get(0).live(5)).isTrue();
    assertThat(stops.get(1).live(4)).isFalse();
    assertThat(stops.get(1).blobs.get(5).refs).isEqualTo(1);
  }
}
