package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The state an unclear {@code delete} or {@code deref} may have stopped in
 * ({@link Model#releaseStops}): its blob removed, its cascade's releases not made.
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
}
