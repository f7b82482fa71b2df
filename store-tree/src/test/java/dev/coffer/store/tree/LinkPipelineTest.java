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
import java.nio.file.Path;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * When the pipeline links: a stored file waits at most the bound for its link (a mark made at its
 * creation, on S3, must be linked well within the store's deadline for it, however long other
 * files take); the last files in flight finishing within a link call's time of each other are
 * linked in one call, while a much slower one holds back nobody's link; a target that needs no
 * upload (a delta's base) is linked at once, in a call of its own, while the files are stored.
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

  /** A file to store (its content stored already, so that a link finds it). */
  private Target file(String content, long size) {
    return new Target(stored(content), Path.of(content), size);
  }

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  /** The operation's links, each call's targets recorded in order, then {@code after} run. */
  private final class Calls implements NewLinks {
    final Digest tree;
    final List<List<Digest>> made = new ArrayList<>();
    final Consumer<Collection<Digest>> after;

    Calls(Digest tree, Consumer<Collection<Digest>> after) {
      this.tree = tree;
      this.after = after;
    }

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
      store.linkNew(to, tree);
      synchronized (made) {
        made.add(List.copyOf(to));
      }
      after.accept(to);
    }

    List<List<Digest>> made() {
      synchronized (made) {
        return List.copyOf(made);
      }
    }
  }

  private static void await(CountDownLatch latch) throws InterruptedIOException {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new InterruptedIOException("stopped");
    }
  }

  /**
   * Ten files, all in flight at once (the tail: none left to take), finish one after another, the
   * first after 100 ms and the others 1 ms apart (a test clock): all finish within the first
   * one's own upload time of it, so one call links them all. Linking once as many were stored as
   * in flight took two calls or more (the first with about half of them), each a write of the
   * tree's record and a removal of marks on S3.
   */
  @Test
  void tenFilesInFlightFinishingOneAfterAnotherAreLinkedInOneCall() throws Exception {
    Digest tree = stored("tree");
    List<Target> targets = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      targets.add(file("file " + i, 10 - i));
    }
    AtomicLong now = new AtomicLong();
    CountDownLatch started = new CountDownLatch(targets.size());
    CountDownLatch go = new CountDownLatch(1);
    List<CountDownLatch> done = targets.stream().map(t -> new CountDownLatch(1)).toList();
    Calls links = new Calls(tree, to -> { });
    LinkPipeline pipeline = new LinkPipeline(store, 16, (t, first) -> {
      int i = targets.indexOf(t);
      started.countDown();
      await(go);
      if (i > 0) {
        await(done.get(i - 1));
        now.addAndGet(MS);
      }
      done.get(i).countDown();
    }, LinkPipeline.MAX_LINK_WAIT_NANOS, now::get);
    Thread run = new Thread(() -> pipeline.run(links, targets));
    run.start();

    assertThat(started.await(30, TimeUnit.SECONDS)).as("all ten in flight").isTrue();
    now.set(100 * MS);
    go.countDown();
    run.join(TimeUnit.SECONDS.toMillis(30));

    assertThat(run.isAlive()).isFalse();
    assertThat(links.made()).hasSize(1);
    assertThat(links.made().get(0))
        .containsExactlyInAnyOrderElementsOf(targets.stream().map(Target::digest).toList());
    assertThat(store.info(tree).links()).hasSize(10);
  }

  /**
   * Ten files in flight at once; nine are stored 10 ms after they started (a test clock) and the
   * tenth is held. Once the oldest stored has waited its own upload's time, the nine are linked
   * without waiting for the tenth, which is linked in a last call of its own once released.
   */
  @Test
  void aFileMuchSlowerThanTheOthersDoesNotHoldBackTheirLink() throws Exception {
    Digest tree = stored("tree");
    Target slow = file("slow", 100);
    List<Target> fast = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      fast.add(file("fast " + i, 9 - i));
    }
    List<Target> targets = new ArrayList<>(List.of(slow));
    targets.addAll(fast);
    AtomicLong now = new AtomicLong();
    Semaphore linkerLooked = new Semaphore(0);
    Thread[] linker = new Thread[1];
    CountDownLatch started = new CountDownLatch(targets.size());
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch fastLinked = new CountDownLatch(fast.size());
    Calls links = new Calls(tree, to -> fast.stream()
        .filter(t -> to.contains(t.digest())).forEach(t -> fastLinked.countDown()));
    LinkPipeline pipeline = new LinkPipeline(store, 16, (t, first) -> {
      started.countDown();
      await(go);
      if (t.equals(slow)) {
        await(release);
      }
    }, LinkPipeline.MAX_LINK_WAIT_NANOS, () -> {
      if (Thread.currentThread() == linker[0]) {
        linkerLooked.release(); // it looks at the clock only with a file stored
      }
      return now.get();
    });
    linker[0] = new Thread(() -> pipeline.run(links, targets));
    linker[0].start();

    assertThat(started.await(30, TimeUnit.SECONDS)).as("all ten in flight").isTrue();
    now.set(10 * MS);
    go.countDown();
    assertThat(linkerLooked.tryAcquire(30, TimeUnit.SECONDS)).as("a file stored").isTrue();
    now.set(TimeUnit.SECONDS.toNanos(1)); // far past the oldest's wait, well within the bound
    assertThat(fastLinked.await(30, TimeUnit.SECONDS)).as("linked while the slow one is held")
        .isTrue();
    assertThat(store.info(tree).links())
        .containsExactlyInAnyOrderElementsOf(fast.stream().map(Target::digest).toList());
    release.countDown();
    linker[0].join(TimeUnit.SECONDS.toMillis(30));

    assertThat(linker[0].isAlive()).isFalse();
    List<List<Digest>> made = links.made();
    assertThat(made.get(made.size() - 1)).containsExactly(slow.digest());
    assertThat(store.info(tree).links()).hasSize(10);
  }

  /**
   * A delta's base (a target with no file: nothing to upload) is linked at once, in a call of its
   * own made while the files are still being stored (on S3 its record's read and mark then
   * overlap their uploads), and the files are linked after it, in one call here (they are stored
   * together, within the base's call's time). Before, the base waited in the pipeline with the
   * files and was linked with the first of them.
   */
  @Test
  void aTreeTargetIsLinkedInACallOfItsOwnBeforeAnyFileIsStored() throws Exception {
    Digest tree = stored("tree");
    Target a = file("a", 2);
    Target b = file("b", 1);
    Target base = Target.tree(stored("base tree"), 0);
    AtomicLong now = new AtomicLong();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch firstCall = new CountDownLatch(1);
    List<Target> uploaded = new ArrayList<>();
    CountDownLatch bothTaken = new CountDownLatch(2);
    Calls links = new Calls(tree, to -> {
      now.addAndGet(100 * MS); // each call takes 100 ms
      firstCall.countDown();
    });
    LinkPipeline pipeline = new LinkPipeline(store, 16, (t, first) -> {
      synchronized (uploaded) {
        uploaded.add(t);
      }
      bothTaken.countDown();
      await(release);
    }, LinkPipeline.MAX_LINK_WAIT_NANOS, now::get);
    Thread run = new Thread(() -> pipeline.run(links, List.of(a, b, base)));
    run.start();

    assertThat(firstCall.await(10, TimeUnit.SECONDS)).as("a call while the files are held")
        .isTrue();
    assertThat(links.made()).containsExactly(List.of(base.digest()));
    assertThat(store.info(tree).links()).containsExactly(base.digest());
    // Both in flight before either is stored: one taken later would be a file left to take.
    assertThat(bothTaken.await(10, TimeUnit.SECONDS)).as("both files in flight").isTrue();
    release.countDown();
    run.join(TimeUnit.SECONDS.toMillis(30));

    assertThat(run.isAlive()).isFalse();
    assertThat(links.made()).hasSize(2);
    assertThat(links.made().get(1)).containsExactlyInAnyOrder(a.digest(), b.digest());
    assertThat(uploaded).as("the base needs no upload").containsExactlyInAnyOrder(a, b);
    assertThat(store.info(tree).links())
        .containsExactlyInAnyOrder(base.digest(), a.digest(), b.digest());
  }

  /**
   * A delta of 100 changed files over a base holding 10,000 (four jobs): the base's call, the
   * first, holds the linker until every file is stored, as on S3 its read and two writes of a
   * 3 MB record take longer than storing a hundred small files. The base's files count as linked
   * for the window, so the workers store all 100 meanwhile; with the window at its least, 8 ×
   * jobs, they stopped at 32 and waited for that call.
   */
  @Test
  void aDeltasFilesAreStoredWhileItsBaseIsLinkedWithinTheWindowTheBasesFilesGive()
      throws Exception {
    Digest tree = stored("tree");
    Target base = Target.tree(stored("base tree"), 10_000);
    List<Target> targets = new ArrayList<>();
    targets.add(base);
    for (int i = 0; i < 100; i++) {
      targets.add(file("changed " + i, 1));
    }
    CountDownLatch allStored = new CountDownLatch(100);
    AtomicLong storedDuringBase = new AtomicLong(-1);
    Calls links = new Calls(tree, to -> {
      if (to.contains(base.digest())) {
        try {
          allStored.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        storedDuringBase.set(100 - allStored.getCount());
      }
    });
    new LinkPipeline(store, 4, (t, first) -> allStored.countDown()).run(links, targets);

    assertThat(storedDuringBase.get()).as("files stored while the base was being linked")
        .isEqualTo(100);
    assertThat(links.made().get(0)).containsExactly(base.digest());
    assertThat(store.info(tree).links()).hasSize(101);
    assertThat(LinkPipeline.window(4, 10_000)).isEqualTo(4 + 10_000 / LinkPipeline.GROWTH);
  }

  /**
   * One file stored while two others are still being stored (held until released), in the tail
   * (none left to take): its own upload took 100 ms (a test clock), so the tail's rule would have
   * it wait 100 ms for the others; a bound of 50 ms links it once it has waited 50 ms, without
   * waiting for the others. With no bound it waited for them.
   */
  @Test
  void aStoredFileIsLinkedOnceItHasWaitedTheBoundWhileOthersAreStillBeingStored()
      throws Exception {
    Digest tree = stored("tree");
    Target fast = file("fast", 1);
    Target slow = file("slow", 3);
    Target slower = file("slower", 2);
    AtomicLong now = new AtomicLong();
    Semaphore linkerLooked = new Semaphore(0);
    Thread[] linker = new Thread[1];
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch fastLinked = new CountDownLatch(1);
    Calls links = new Calls(tree, to -> {
      if (to.contains(fast.digest())) {
        fastLinked.countDown();
      }
    });
    LinkPipeline pipeline = new LinkPipeline(store, 3, (t, first) -> {
      if (t.equals(fast)) {
        now.addAndGet(100 * MS);
      } else {
        await(release);
      }
    }, 50 * MS, () -> {
      if (Thread.currentThread() == linker[0]) {
        linkerLooked.release(); // it looks at the clock only with a file stored
      }
      return now.get();
    });
    linker[0] = new Thread(() -> pipeline.run(links, List.of(slow, slower, fast)));
    linker[0].start();

    assertThat(linkerLooked.tryAcquire(30, TimeUnit.SECONDS)).as("a file stored").isTrue();
    now.addAndGet(51 * MS);
    assertThat(fastLinked.await(30, TimeUnit.SECONDS)).as("linked while the others are held")
        .isTrue();
    assertThat(store.info(tree).links()).containsExactly(fast.digest());
    release.countDown();
    linker[0].join(TimeUnit.SECONDS.toMillis(30));
    assertThat(linker[0].isAlive()).isFalse();
    assertThat(store.info(tree).links())
        .containsExactlyInAnyOrder(fast.digest(), slow.digest(), slower.digest());
  }

  /**
   * 3,000 files stored at once (four jobs) into a tree whose every link call rewrites its record
   * whole: each call links at least the files linked so far over {@link LinkPipeline#GROWTH}, so
   * about a hundred calls rather than one every few files (375 or more without it, a record of up to
   * 3,000 links written each time: on S3 some 3 MB for 10,000, its bytes growing with the square
   * of the files); and at most {@link LinkPipeline#window} files are being stored or stored and
   * not linked at any time.
   */
  @Test
  void aLargeTreesLinkCallsGrowWithTheLinksMadeAndItsWindowWithThem() {
    Digest tree = stored("tree");
    List<Target> targets = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      targets.add(file("file " + i, 1));
    }
    int jobs = 4;
    AtomicLong linked = new AtomicLong();
    AtomicLong started = new AtomicLong();
    AtomicLong mostOver = new AtomicLong(Long.MIN_VALUE);
    Calls links = new Calls(tree, to -> linked.addAndGet(to.size()));
    new LinkPipeline(store, jobs, (t, first) -> {
      long now = linked.get();
      mostOver.accumulateAndGet(started.incrementAndGet() - now
          - LinkPipeline.window(jobs, (int) now), Math::max);
    }).run(links, targets);

    List<List<Digest>> made = links.made();
    assertThat(made.stream().mapToInt(List::size).sum()).isEqualTo(3000);
    assertThat(store.info(tree).links()).hasSize(3000);
    assertThat(made.size()).as("link calls").isBetween(2, 150);
    assertThat(mostOver.get()).as("at most the window stored or being stored and not linked")
        .isLessThanOrEqualTo(0);
    assertThat(LinkPipeline.window(jobs, 0)).isEqualTo(LinkPipeline.WINDOW_PER_JOB * jobs);
    assertThat(LinkPipeline.window(jobs, 2999)).isEqualTo(4 + 2999 / LinkPipeline.GROWTH);
  }
}
