package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The state an unclear {@code unlink} may have stopped in ({@link Model#unlinkStops}): its link
 * removed, its release not made, an outcome of its own only where that release would remove
 * {@code from}.
 */
class UnlinkStopsTest {

  /** b0 at 1 reference, linking to itself (the link holds that reference) and to b9. */
  private static Model selfLinked() {
    Model m = new Model(true);
    m.publish(9, true, Map.of());
    m.publish(0, true, Map.of("k1", "v1"));
    m.link(0, 0); // the caller's reference moves to the link
    m.link(9, 0);
    return m;
  }

  /** Heavy seed 26, step 873, shrunk: {@code unlink b0 from b0} at b0's last reference. */
  @Test
  void aSelfUnlinkWhoseReleaseDidNotLandLeavesFromLiveWithoutTheLink() {
    Model m = selfLinked();
    assertThat(m.blobs.get(0).refs).isEqualTo(1);
    assertThat(m.blobs.get(0).links).containsExactly(0, 9);

    Model end = m.copy();
    assertThat(end.unlink(0, 0)).isNull();
    assertThat(end.live(0)).isFalse(); // removed, and b9's reference released with it
    assertThat(end.live(9)).isFalse();

    List<Model> stops = m.unlinkStops(0, 0);
    assertThat(stops).hasSize(1);
    Model.Blob b0 = stops.get(0).blobs.get(0);
    assertThat(b0.refs).isEqualTo(1);
    assertThat(b0.links).containsExactly(9);
    assertThat(b0.labels).containsEntry("k1", "v1");
    assertThat(stops.get(0).blobs.get(9).refs).isEqualTo(1);
    assertThat(m.blobs.get(0).links).containsExactly(0, 9); // the model stopped from is unchanged
  }

  /** b0 and b1 link to each other at 1 reference each: the release of b1 cascades to b0. */
  @Test
  void anUnlinkWhoseReleaseCascadesToFromHasTheStopToo() {
    Model m = new Model(true);
    m.publish(0, true, Map.of());
    m.publish(1, true, Map.of());
    m.link(1, 0);
    m.link(0, 1);
    List<Model> stops = m.unlinkStops(1, 0);
    assertThat(stops).hasSize(1);
    assertThat(stops.get(0).blobs.get(0).links).isEmpty();
    assertThat(stops.get(0).blobs.get(1).refs).isEqualTo(1);
  }

  /** Where {@code from} outlives the release, the stop differs from the end in counts only. */
  @Test
  void anUnlinkThatLeavesFromLiveOrChangesNothingHasNoStop() {
    Model m = new Model(true);
    m.publish(0, true, Map.of());
    m.publish(1, true, Map.of());
    m.link(1, 0);
    assertThat(m.unlinkStops(1, 0)).isEmpty(); // b1 removed, b0 live without the link either way
    assertThat(m.unlinkStops(0, 1)).isEmpty(); // no such link
    assertThat(m.unlinkStops(7, 0)).isEmpty(); // no such blob
  }
}
