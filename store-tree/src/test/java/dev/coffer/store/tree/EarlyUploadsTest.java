package dev.coffer.store.tree;

import static dev.coffer.store.tree.EarlyWorkDirs.directory;
import static dev.coffer.store.tree.EarlyWorkDirs.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delta put starts sending its changed files of more than {@link FileCopies#ONE_STEP_LIMIT}
 * before it commits the tree, not after: on a round trip, the largest changed file's upload no
 * longer follows the tree's commit in the second upload's chain.
 */
class EarlyUploadsTest {

  private static final int FIVE_MIB = 5 << 20;
  /** The large file's new bytes in the tests below. */
  private static final byte[] CHANGED = random(FIVE_MIB, 101);
  private static final Digest BIG = Digest.of(CHANGED);

  @TempDir Path tmp;
  private final ContentStore store = MemoryStores.open();
  /** The store's calls through {@link #watched}, in order: "put DIGEST", "putFile DIGEST". */
  private final List<String> calls = new CopyOnWriteArrayList<>();
  /** With {@link #holdCommits}: counted down once the large file's putFile has ended. */
  private final CountDownLatch bigSent = new CountDownLatch(1);
  /** Whether other puts (the tree's commit) wait a while for the large file's putFile. */
  private final AtomicBoolean holdCommits = new AtomicBoolean();
  /** Whether the next putFile of the large file fails (Unavailable), once. */
  private final AtomicBoolean failBigOnce = new AtomicBoolean();
  /** Whether the next put (in a delta over unchanged small files, the tree's commit) fails. */
  private final AtomicBoolean failNextPut = new AtomicBoolean();
  private final ContentStore watched = (ContentStore) Proxy.newProxyInstance(
      getClass().getClassLoader(), new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
        if (method.getName().equals("newLinks")) { // puts through the operation come back here
          return InvocationHandler.invokeDefault(proxy, method, args);
        }
        if (method.getName().equals("putFile") && args.length == 3) {
          calls.add("putFile " + args[1]);
          if (args[1].equals(BIG) && failBigOnce.compareAndSet(true, false)) {
            throw new UnavailableException("put of " + BIG + " failed");
          }
        }
        if (method.getName().equals("put") && args.length == 3) {
          if (holdCommits.get()) {
            // The tree's commit waits a while for the large file's upload to end, so that the
            // order the calls are listed in is the order they were started in, not a race.
            bigSent.await(5, TimeUnit.SECONDS);
          }
          calls.add("put " + args[1]);
          if (failNextPut.compareAndSet(true, false)) {
            throw new UnavailableException("put of " + args[1] + " failed");
          }
        }
        try {
          return method.invoke(store, args);
        } catch (InvocationTargetException e) {
          throw e.getCause();
        } finally {
          if (method.getName().equals("putFile") && args[1].equals(BIG)) {
            bigSent.countDown();
          }
        }
      });
  private final Trees trees = Trees.of(watched).withJobs(4);

  @AfterEach
  void close() {
    store.close();
  }



  /**
   * Puts {@code src} as a full tree, changes its large file to {@link #CHANGED} and forgets the
   * calls so far; returns the full tree, the base of the delta put to come.
   */
  private Digest putThenChange(Path src) throws IOException {
    Digest full = trees.put(src);
    Files.write(src.resolve("big"), CHANGED);
    calls.clear();
    return full;
  }

  /** The bytes stored under the digest {@code tree} lists for its large file. */
  private byte[] listedBytes(Digest tree) throws IOException {
    Digest listed = Trees.of(store).withJobs(2).list(tree).files().stream()
        .filter(e -> e.path().equals("big")).findFirst().orElseThrow().digest();
    try (ReaderAt reader = store.readerAt(Descriptor.of(listed));
        InputStream in = reader.stream(0)) {
      return in.readAllBytes();
    }
  }

  @Test
  void aLargeChangedFileIsSentBeforeTheTreeIsCommitted() throws IOException {
    Path src = directory(tmp, FIVE_MIB);
    Digest full = putThenChange(src);
    holdCommits.set(true);

    TreeTransfer put = trees.put(src, Map.of(), full);

    Digest delta = put.tree();
    assertThat(calls).contains("putFile " + BIG, "put " + delta);
    assertThat(calls.indexOf("putFile " + BIG)).as("sent before the tree's commit")
        .isLessThan(calls.indexOf("put " + delta));
    assertThat(calls.stream().filter(c -> c.equals("putFile " + BIG))).as("once").hasSize(1);
    assertThat(put.newFiles()).isEqualTo(1);
    assertThat(store.info(delta).links()).contains(BIG);
    assertThat(store.info(BIG).refCount()).as("held by the delta's link").isEqualTo(1);
    assertThat(listedBytes(delta)).isEqualTo(CHANGED);
  }

  @Test
  void aLargeChangedFileStoredAlreadyIsNotSentAndIsLinked() throws IOException {
    Path src = directory(tmp, FIVE_MIB);
    Digest full = putThenChange(src);
    store.put(CHANGED, null, Map.of()); // stored by another build

    TreeTransfer put = trees.put(src, Map.of(), full);

    assertThat(put.newFiles()).isZero();
    assertThat(store.info(put.tree()).links()).contains(BIG);
    assertThat(store.info(BIG).refCount()).as("held by the delta's link").isEqualTo(1);
  }

  @Test
  void anEarlyUploadThatFailedIsMadeAgainAtTheFilesTurn() throws IOException {
    Path src = directory(tmp, FIVE_MIB);
    Digest full = putThenChange(src);
    failBigOnce.set(true);

    Digest delta = trees.put(src, Map.of(), full).tree();

    assertThat(calls.stream().filter(c -> c.equals("putFile " + BIG))).hasSize(2);
    assertThat(store.info(delta).links()).contains(BIG);
    assertThat(store.info(BIG).refCount()).isEqualTo(1);
    assertThat(listedBytes(delta)).isEqualTo(CHANGED);
  }

  /**
   * The tree's commit fails after the large file was sent: the put fails with the commit's error,
   * the file is stored held by nothing (gc's to reclaim), and the put made again finishes the job.
   */
  @Test
  void aPutWhoseCommitFailsLeavesItsEarlyUploadHeldByNothingAndARerunFinishes()
      throws IOException {
    Path src = directory(tmp, FIVE_MIB);
    Digest full = putThenChange(src);
    holdCommits.set(true);
    failNextPut.set(true);

    assertThatThrownBy(() -> trees.put(src, Map.of(), full))
        .isInstanceOf(UnavailableException.class).hasMessageContaining("put of ");

    assertThat(calls.indexOf("putFile " + BIG)).as("sent before the failed commit").isZero();
    assertThat(store.info(BIG).refCount()).as("stored, held by nothing").isZero();
    Digest delta = trees.put(src, Map.of(), full).tree();
    assertThat(store.info(BIG).refCount()).as("held by the delta's link").isEqualTo(1);
    assertThat(store.info(delta).refCount()).isEqualTo(1);
  }

  @Test
  void aFullPutSendsEachFileAtItsTurnAfterTheTreesCommit() throws IOException {
    Path src = directory(tmp, FIVE_MIB);

    Digest tree = trees.put(src);

    Digest big = Digest.of(Files.readAllBytes(src.resolve("big")));
    assertThat(calls.indexOf("putFile " + big)).as("after the commit, as before")
        .isGreaterThan(calls.indexOf("put " + tree));
  }
}
