package dev.coffer.store.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.SimClock;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tree without a reference expires as a unit (RET-4): gc expires the tree, and its cascade frees
 * exactly the files no other tree or reference holds.
 */
class TreeRetentionTest {
  @TempDir Path tmp;

  private final SimClock clock = new SimClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final ContentStore store = MemoryStores.open(clock);

  /**
   * The store as a put killed before its last step sees it: the caller's reference on the tree
   * (the one ref of a blob that has links) fails, leaving the tree at count 0 with its links.
   */
  private ContentStore killedBeforeTheTreeReference() {
    return (ContentStore) Proxy.newProxyInstance(ContentStore.class.getClassLoader(),
        new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("ref") && args.length == 1
              && !store.info((Digest) args[0]).links().isEmpty()) {
            throw new UnavailableException("killed");
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  private Path dir(String name, String... files) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    for (String file : files) {
      Files.writeString(dir.resolve(file), "content of " + file, UTF_8);
    }
    return dir;
  }

  private static Digest digestOf(String file) {
    return Digest.of(("content of " + file).getBytes(UTF_8));
  }

  @Test
  void anUnreferencedTreeExpiresWithTheFilesOnlyItHolds() throws IOException {
    Path abandoned = dir("a", "only-a", "shared");
    Path held = dir("b", "shared", "only-b");
    assertThatThrownBy(() -> Trees.of(killedBeforeTheTreeReference()).put(abandoned))
        .isInstanceOf(UnavailableException.class);
    Digest heldTree = Trees.of(store).put(held);
    assertThat(store.info(digestOf("shared")).refCount()).isEqualTo(2);

    clock.advance(Duration.ofDays(40));
    GcReport report = store.gc(new GcOptions(Duration.ofDays(1), false)
        .withUnusedFor(Duration.ofDays(30)));

    assertThat(report.expired()).hasSize(1);
    Digest expired = report.expired().get(0);
    assertThat(expired).isNotEqualTo(heldTree);
    assertThatThrownBy(() -> store.info(expired)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.info(digestOf("only-a")))
        .isInstanceOf(NotFoundException.class);
    assertThat(store.info(digestOf("shared")).refCount()).isEqualTo(1);
    assertThat(store.info(digestOf("only-b")).refCount()).isEqualTo(1);
    Path restored = tmp.resolve("restored");
    Trees.of(store).get(heldTree, restored);
    assertThat(Files.readString(restored.resolve("shared"), UTF_8)).isEqualTo("content of shared");
  }

  @Test
  void anUnreferencedDeltaTreeExpiresWithItsBaseWhenNothingElseHoldsTheBase() throws IOException {
    String[] names = new String[8];
    for (int i = 0; i < names.length; i++) {
      names[i] = "f" + i;
    }
    Path dir = dir("d", names);
    Digest base = Trees.of(store).put(dir);
    Files.writeString(dir.resolve("f0"), "changed", UTF_8);
    // Killed before its own reference: the delta is left at count 0, linking to its base and to
    // the one file it lists (the base is referenced by then: its count is 1, the put's).
    ContentStore killed = (ContentStore) Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          if (method.getName().equals("newLinks")) { // the memory store's, through this proxy
            return InvocationHandler.invokeDefault(proxy, method, args);
          }
          if (method.getName().equals("ref") && args.length == 1
              && store.info((Digest) args[0]).refCount() == 0
              && !store.info((Digest) args[0]).links().isEmpty()) {
            throw new UnavailableException("killed");
          }
          try {
            return method.invoke(store, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    assertThatThrownBy(() -> Trees.of(killed).put(dir, java.util.Map.of(), base))
        .isInstanceOf(UnavailableException.class);
    assertThat(store.info(base).refCount()).as("the put's and the delta's link").isEqualTo(2);
    store.deref(base); // the base's own holder lets go: only the delta holds it now

    clock.advance(Duration.ofDays(40));
    GcReport report = store.gc(new GcOptions(Duration.ofDays(1), false)
        .withUnusedFor(Duration.ofDays(30)));

    // RET-4: the delta expires, its cascade releases the base's link, and the base and every
    // file expire with it.
    assertThat(report.expired()).hasSize(1);
    assertThatThrownBy(() -> store.info(base)).isInstanceOf(NotFoundException.class);
    for (String name : names) {
      assertThatThrownBy(() -> store.info(digestOf(name))).isInstanceOf(NotFoundException.class);
    }
    assertThatThrownBy(() -> store.info(Digest.of("changed".getBytes(UTF_8))))
        .isInstanceOf(NotFoundException.class);
  }
}
