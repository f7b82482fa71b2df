package dev.coffer.store.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.AbortedException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.NewLinks;
import dev.coffer.store.memory.MemoryStores;
import dev.coffer.store.tree.LinkPipeline.Target;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A link of the put's operation refused as Aborted (on S3: its creation marks older than the
 * deadline for its links, or {@code from} fenced for it by gc past the bound; the store gave the
 * marks back) is made again as {@link NewLinks} says: the files stored again without the
 * operation and linked by a plain {@code linkNew}, so the put ends with every link made.
 */
class LinkPipelineRefusedLinkTest {
  private final ContentStore store = MemoryStores.open();

  @AfterEach
  void close() {
    store.close();
  }

  private Digest stored(String content) {
    return store.put(content.getBytes(StandardCharsets.UTF_8), null, Map.of()).digest();
  }

  @Test
  void aLinkRefusedAsAbortedIsMadeAgainByAPlainLinkNew() {
    Digest tree = stored("tree");
    List<Target> targets = List.of(new Target(stored("a"), Path.of("a"), 2),
        new Target(stored("b"), Path.of("b"), 1));
    AtomicInteger refused = new AtomicInteger();
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
      public Info putFile(Path file, Digest expected, Map<String, String> labels)
          throws IOException {
        return store.putFile(file, expected, labels);
      }

      @Override
      public void link(Collection<Digest> to) {
        refused.incrementAndGet();
        throw new AbortedException("the links from " + tree + " of this call were given up");
      }
    };
    List<Target> storedAgain = new ArrayList<>();
    LinkPipeline pipeline = new LinkPipeline(store, 2, (t, first) -> {
      if (!first) {
        synchronized (storedAgain) {
          storedAgain.add(t);
        }
      }
    }, TimeUnit.MILLISECONDS.toNanos(50));

    pipeline.run(links, targets);

    assertThat(refused.get()).isPositive();
    assertThat(storedAgain).containsExactlyInAnyOrderElementsOf(targets);
    assertThat(store.info(tree).links())
        .containsExactlyInAnyOrder(targets.get(0).digest(), targets.get(1).digest());
    targets.forEach(t -> assertThat(store.info(t.digest()).refCount()).isEqualTo(1));
  }
}
