package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnknownException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The trees' pattern (TREE-3: a reference taken on a file, handed to a link by {@code linkAll},
 * given back if no link took it) when {@code linkAll} answers Unknown: its change of the tree's
 * record may still land, after the give-back has read the tree's links. Giving back then
 * under-counts: the link lands holding a reference that was given back, and the file can be
 * removed while the tree links it. Keeping the references instead over-counts by at most the
 * batch, and only while the change does not land.
 */
class TreeLinkAfterUnknownTest extends SimStoreTestBase {

  private boolean isRecordWrite(Exchange e, Digest digest) {
    return e.operation() == Operation.PUT_OBJECT && keys.index(digest).equals(e.request().key())
        && e.request().header("If-Match") != null;
  }

  /** A file with its owner's reference, a tree at count 0, and a tree link's reference. */
  private record Setup(ContentStore store, Digest file, Digest tree, long incarnation) {}

  private Setup setUp(long seed) {
    ContentStore store = open("h", config().casAttempts(3).build());
    Digest file = store.putAndRef(random(100, seed), null, Map.of()).digest();
    Digest tree = store.put(random(50, seed + 1), null, Map.of()).digest();
    long incarnation = store.ref(file).incarnation(); // the tree link's reference: 2
    return new Setup(store, file, tree, incarnation);
  }

  /** linkAll of {@code file} from {@code tree}, every write of the tree's record held back. */
  private List<Exchange> linkAllUnknown(Setup s) {
    List<Exchange> held = new ArrayList<>();
    sim().network().interceptor(e -> {
      if (isRecordWrite(e, s.tree())) {
        e.hold();
        held.add(e);
      } else {
        e.proceed();
      }
    });
    assertThatThrownBy(() -> s.store().linkAll(List.of(s.file()), s.tree()))
        .isInstanceOf(UnknownException.class);
    sim().network().interceptor(null);
    assertThat(held).isNotEmpty();
    return held;
  }

  @Test
  void givingBackAfterAnUnknownLinkAllLetsTheFileGoWhileTheTreeLinksIt() {
    Setup s = setUp(31);
    List<Exchange> held = linkAllUnknown(s);

    // The give-back reads the tree's links: the change has not landed, so the reference goes.
    assertThat(s.store().info(s.tree()).links()).isEmpty();
    s.store().deref(s.file(), s.incarnation());
    held.get(0).release(); // the compare-and-swap in flight lands: its condition still holds
    assertThat(s.store().info(s.tree()).links()).containsExactly(s.file());
    assertThat(s.store().info(s.file()).refCount()).isEqualTo(1); // the owner's alone

    s.store().deref(s.file()); // the owner lets go
    assertThatThrownBy(() -> s.store().info(s.file())).isInstanceOf(NotFoundException.class);
    assertThat(s.store().info(s.tree()).links()).containsExactly(s.file());
  }

  @Test
  void keptReferencesAfterAnUnknownLinkAllAreTheLinksOnceItLands() {
    Setup s = setUp(41);
    linkAllUnknown(s).get(0).release();
    s.store().deref(s.file()); // the owner lets go: the link holds the file
    assertThat(s.store().info(s.file()).refCount()).isEqualTo(1);
    assertThat(s.store().info(s.tree()).links()).containsExactly(s.file());
  }

  @Test
  void keptReferencesAfterAnUnknownLinkAllThatNeverLandsAreOneOverEach() {
    Setup s = setUp(51);
    linkAllUnknown(s).forEach(Exchange::drop); // the change never lands
    s.store().deref(s.file());
    assertThat(s.store().info(s.file()).refCount()).isEqualTo(1); // one over, no link
    assertThat(s.store().info(s.tree()).links()).isEmpty();
  }
}
