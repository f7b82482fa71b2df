package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.NotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 23: {@code linkAll} links one blob to many in one compare-and-swap of its record
 * (docs/architecture.md, PROTO-11), where a loop of {@code link} writes that record once a target.
 */
class LinkAllTest extends SimStoreTestBase {
  private static final int TARGETS = 50;

  private List<Digest> referencedTargets(ContentStore store, int seed) {
    List<Digest> targets = new ArrayList<>();
    for (int i = 0; i < TARGETS; i++) {
      targets.add(store.putAndRef(random(100, seed + i), null, Map.of()).digest());
    }
    return targets;
  }

  @Test
  void linkAllWritesTheRecordOfFromOnceAndReadsEachTargetOnce() {
    ContentStore store = open("h");
    List<Digest> targets = referencedTargets(store, 1000);
    Digest from = store.putAndRef(random(100, 1), null, Map.of()).digest();
    sim().log().clear();

    store.linkAll(targets, from);

    assertThat(requests(Operation.PUT_OBJECT, keys.index(from))).hasSize(1);
    assertThat(requests(Operation.GET_OBJECT, keys.index(from))).hasSize(1);
    for (Digest t : targets) {
      assertThat(requests(Operation.GET_OBJECT, keys.index(t))).hasSize(1);
    }
    assertThat(sim().log().total()).isEqualTo(TARGETS + 2);
    assertThat(store.info(from).links()).containsExactlyInAnyOrderElementsOf(targets);
    for (Digest t : targets) {
      assertThat(store.info(t).refCount()).isEqualTo(1);
    }
  }

  @Test
  void aLoopOfLinkWritesTheRecordOfFromOnceATarget() {
    ContentStore store = open("h");
    List<Digest> targets = referencedTargets(store, 2000);
    Digest from = store.putAndRef(random(100, 2), null, Map.of()).digest();
    sim().log().clear();

    targets.forEach(t -> store.link(t, from));

    assertThat(requests(Operation.PUT_OBJECT, keys.index(from))).hasSize(TARGETS);
    assertThat(sim().log().total()).isEqualTo(3L * TARGETS);
  }

  @Test
  void aTargetLinkedAlreadyLosesTheCallersReferenceInItsOwnWrite() {
    ContentStore store = open("h");
    Digest linked = store.putAndRef(random(100, 3), null, Map.of()).digest();
    Digest fresh = store.putAndRef(random(100, 4), null, Map.of()).digest();
    Digest from = store.putAndRef(random(100, 5), null, Map.of()).digest();
    store.link(linked, from);
    store.ref(linked);
    sim().log().clear();

    store.linkAll(List.of(linked, fresh), from);

    assertThat(requests(Operation.PUT_OBJECT, keys.index(from))).hasSize(1);
    assertThat(requests(Operation.PUT_OBJECT, keys.index(linked))).hasSize(1);
    assertThat(requests(Operation.PUT_OBJECT, keys.index(fresh))).isEmpty();
    assertThat(store.info(linked).refCount()).isEqualTo(1);
    assertThat(store.info(fresh).refCount()).isEqualTo(1);
    assertThat(store.info(from).links()).containsExactlyInAnyOrder(linked, fresh);
  }

  @Test
  void aTargetMissingOrWithoutAReferenceFailsBeforeAnyChange() {
    ContentStore store = open("h");
    Digest fresh = store.putAndRef(random(100, 6), null, Map.of()).digest();
    Digest unreferenced = store.put(random(100, 7), null, Map.of()).digest();
    Digest from = store.putAndRef(random(100, 8), null, Map.of()).digest();
    Digest missing = Digest.of(random(100, 9));

    assertThatThrownBy(() -> store.linkAll(List.of(fresh, missing), from))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.linkAll(List.of(fresh, unreferenced), from))
        .isInstanceOf(FailedPreconditionException.class);

    assertThat(store.info(from).links()).isEmpty();
    assertThat(store.info(fresh).refCount()).isEqualTo(1);
  }
}
