package dev.coffer.store.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.NewLinks;
import dev.coffer.store.memory.MemoryStores;
import dev.coffer.store.tree.LinkPipeline.Target;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's bound on how long a stored file waits for its link: a mark made at its creation
 * (S3) must be linked well within the store's deadline for it, however long other files take.
 */
class LinkPipelineTest {
  private final ContentStore store = MemoryStores.open();

  @AfterEach
  void close() {
    store.close();
  }

  private Digest stored(String content) {
    return store.put(content.getBytes(StandardCharsets.UTF_8), null, Map.of()).digest();
  }

  /**
   * One file stored while two others are still being stored (held until released): the linker,
   * which waits while fewer are stored than in flight, links the stored one once it has waited
   * the bound, without waiting for the others. With no bound it waited for them.
   */
  @Test
  void aStoredFileIsLinkedOnceItHasWaitedTheBoundWhileOthersAreStillBeingStored()
      throws Exception {
    Digest tree = stored("tree");
    Target fast = new Target(stored("fast"), null, 1);
    Target slow = new Target(stored("slow"), null, 3);
    Target slower = new Target(stored("slower"), null, 2);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch fastLinked = new CountDownLatch(1);
    NewLinks links = new NewLinks() {
      @Override
      public Digest from() {
        return tree;
      }

      @Override
      public Info put(byte[] content, Digest expected, Map<String, String> labels) {
        return store.put(content, expected, labels);
      }

      @Override
      public void link(Collection<Digest> to) {
        store.linkNew(to, tree);
        if (to.contains(fast.digest())) {
          fastLinked.countDown();
        }
      }
    };
    LinkPipeline pipeline = new LinkPipeline(store, 3, (t, first) -> {
      if (!t.equals(fast)) {
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new InterruptedIOException("stopped");
        }
      }
    }, TimeUnit.MILLISECONDS.toNanos(50));
    Thread run = new Thread(() -> pipeline.run(links, List.of(slow, slower, fast)));
    run.start();

    assertThat(fastLinked.await(30, TimeUnit.SECONDS)).as("linked while the others are held")
        .isTrue();
    assertThat(store.info(tree).links()).containsExactly(fast.digest());
    release.countDown();
    run.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(run.isAlive()).isFalse();
    assertThat(store.info(tree).links())
        .containsExactlyInAnyOrder(fast.digest(), slow.digest(), slower.digest());
  }
}
