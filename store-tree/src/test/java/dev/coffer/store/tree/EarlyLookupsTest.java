package dev.coffer.store.tree;

import static dev.coffer.store.tree.EarlyWorkDirs.directory;
import static dev.coffer.store.tree.EarlyWorkDirs.random;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delta put looks up its changed files of more than {@link FileCopies#SEND_WITHOUT_LOOKUP}
 * before it commits the tree, not after: on a round trip, that lookup no longer lengthens the
 * second upload's chain of requests.
 */
class EarlyLookupsTest {

  private static final int TWO_MIB = 2 << 20;

  @TempDir Path tmp;
  private final ContentStore store = MemoryStores.open();
  /** With {@link #lookupBeforeOtherPuts}: the digest whose lookup other puts wait for. */
  private final AtomicReference<Digest> lookupOf = new AtomicReference<>();
  private final AtomicReference<CountDownLatch> lookupBeforeOtherPuts = new AtomicReference<>();

  /** The store's calls through {@link #watched}, in order: "info DIGEST", "put DIGEST". */
  private final List<String> calls = new CopyOnWriteArrayList<>();
  /** A digest removed from the store once its lookup has found it, once; or null. */
  private final AtomicReference<Digest> removeAfterLookupOf = new AtomicReference<>();
  /** A digest whose next lookup fails (Unavailable), once; or null. */
  private final AtomicReference<Digest> failLookupOf = new AtomicReference<>();
  private final ContentStore watched = (ContentStore) Proxy.newProxyInstance(
      getClass().getClassLoader(), new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
        if (method.getName().equals("newLinks")) { // puts through the operation come back here
          return InvocationHandler.invokeDefault(proxy, method, args);
        }
        if (method.getName().equals("info") && args[0] instanceof Digest d) {
          calls.add("info " + d);
          if (d.equals(lookupOf.get())) {
            lookupBeforeOtherPuts.get().countDown();
          }
          if (d.equals(failLookupOf.get()) && failLookupOf.compareAndSet(failLookupOf.get(), null)) {
            throw new UnavailableException("lookup of " + d + " failed");
          }
        }
        if (method.getName().equals("put") && args.length == 3) {
          CountDownLatch lookup = lookupBeforeOtherPuts.get();
          if (lookup != null && !args[1].equals(lookupOf.get())) {
            // Any other put (the tree's commit) waits a while for that lookup, so that the order
            // the calls are listed in is the order they were started in, not a race.
            lookup.await(5, TimeUnit.SECONDS);
          }
          calls.add("put " + args[1]);
        }
        try {
          return method.invoke(store, args);
        } catch (InvocationTargetException e) {
          throw e.getCause();
        } finally {
          if (method.getName().equals("info") && args[0] instanceof Digest d
              && d.equals(removeAfterLookupOf.get())
              && removeAfterLookupOf.compareAndSet(removeAfterLookupOf.get(), null)) {
            store.delete(d);
          }
        }
      });

  @AfterEach
  void close() {
    store.close();
  }



  /** The 2 MiB file's new bytes in the tests below. */
  private static final byte[] CHANGED = random(TWO_MIB, 101);
  private static final Digest BIG = Digest.of(CHANGED);
  private final Trees trees = Trees.of(watched).withJobs(4);

  /**
   * Puts {@code src} as a full tree, changes its 2 MiB file to {@link #CHANGED} and forgets the
   * calls so far; returns the full tree, the base of the delta put to come.
   */
  private Digest putThenChange(Path src) throws IOException {
    Digest full = trees.put(src);
    Files.write(src.resolve("big"), CHANGED);
    calls.clear();
    return full;
  }

  @Test
  void aChangedFileThatIsLookedUpIsLookedUpBeforeTheTreeIsCommitted() throws IOException {
    Path src = directory(tmp, TWO_MIB);
    Digest full = putThenChange(src);
    Digest big = BIG;
    lookupOf.set(big);
    lookupBeforeOtherPuts.set(new CountDownLatch(1));

    Digest delta = trees.put(src, Map.of(), full).tree();

    assertThat(calls).contains("info " + big, "put " + delta, "put " + big);
    assertThat(calls.indexOf("info " + big)).as("looked up before the tree's commit")
        .isLessThan(calls.indexOf("put " + delta));
    assertThat(calls.stream().filter(c -> c.equals("info " + big))).as("once").hasSize(1);
    assertThat(store.info(delta).links()).contains(big);
    assertThat(Trees.of(store).withJobs(2).list(delta).files().stream()
        .filter(e -> e.path().equals("big")).findFirst().orElseThrow().digest()).isEqualTo(big);
  }

  @Test
  void aChangedFileFoundStoredByItsEarlyLookupIsNotSent() throws IOException {
    Path src = directory(tmp, TWO_MIB);
    Digest full = putThenChange(src);
    Digest big = store.put(CHANGED, null, Map.of()).digest(); // stored by another build

    Digest delta = trees.put(src, Map.of(), full).tree();

    assertThat(calls).contains("info " + big).doesNotContain("put " + big);
    assertThat(store.info(big).refCount()).as("held by the delta's link").isEqualTo(1);
    assertThat(store.info(delta).links()).contains(big);
  }

  /**
   * Found stored by its early lookup, then released by its other holders before the link: the
   * link is NotFound, and the file, stored again, is looked up afresh (not answered by the early
   * lookup again), sent, and linked.
   */
  @Test
  void aChangedFileReleasedAfterItsEarlyLookupIsLookedUpAgainAndSent() throws IOException {
    Path src = directory(tmp, TWO_MIB);
    Digest full = putThenChange(src);
    Digest big = store.put(CHANGED, null, Map.of()).digest(); // stored by another build
    removeAfterLookupOf.set(big); // which lets it go once looked up

    Digest delta = trees.put(src, Map.of(), full).tree();

    assertThat(calls.stream().filter(c -> c.equals("info " + big))).hasSize(2);
    assertThat(calls).contains("put " + big);
    assertThat(store.info(delta).links()).contains(big);
    assertThat(store.info(big).refCount()).as("held by the delta's link").isEqualTo(1);
  }

  @Test
  void anEarlyLookupThatFailedIsMadeAgainAtTheFilesTurn() throws IOException {
    Path src = directory(tmp, TWO_MIB);
    Digest full = putThenChange(src);
    Digest big = BIG;
    failLookupOf.set(big);

    Digest delta = trees.put(src, Map.of(), full).tree();

    assertThat(calls.stream().filter(c -> c.equals("info " + big))).hasSize(2);
    assertThat(store.info(delta).links()).contains(big);
    assertThat(store.info(big).refCount()).isEqualTo(1);
  }

  @Test
  void aFullPutLooksUpEachFileAtItsTurnAfterTheTreesCommit() throws IOException {
    Path src = directory(tmp, TWO_MIB);

    Digest tree = trees.put(src);

    Digest big = Digest.of(Files.readAllBytes(src.resolve("big")));
    assertThat(calls.indexOf("info " + big)).as("after the commit, as before")
        .isGreaterThan(calls.indexOf("put " + tree));
  }
}
