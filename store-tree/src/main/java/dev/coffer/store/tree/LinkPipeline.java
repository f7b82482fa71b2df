package dev.coffer.store.tree;

import dev.coffer.store.AbortedException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NewLinks;
import dev.coffer.store.NotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Stores a tree's targets and links the tree to them as a pipeline (TREE-3's step 3): {@code jobs}
 * workers store targets one after another, each without a reference, while the calling thread
 * links from the tree, one {@code linkNew} at a time (each is a compare-and-swap of the tree's
 * record), whatever has been stored since its last call: while targets are left to take, once at
 * least as many are stored as are being stored (a file held up alone holds back nobody's link);
 * once none is left, once every target in flight is stored or the oldest stored has waited as
 * long as a link call takes (so the last files, all in flight at once and finishing within a
 * call's time of each other, take one call, and one much slower file holds back the others' link
 * by at most that time). No upload waits for a link.
 *
 * <p>While targets are left to take, a call also waits for at least the files linked so far over
 * {@link #GROWTH}: every call rewrites the tree's record whole (on S3 one object holding a link
 * to each file linked so far, some 3 MB for 10,000 files), so calls of a constant size made a
 * large tree's put write its record a number of times that grows with its files, and its bytes
 * with their square. At most {@link #window(int, long) max(WINDOW_PER_JOB × jobs, jobs + linked /
 * GROWTH)} targets are being stored or stored and not yet linked at any time, {@code linked} being
 * the files linked so far, and for a delta the files its base holds ({@code 8 × jobs} until
 * {@code 7 × GROWTH × jobs} files are linked): a put
 * killed part-way leaves at most that many files stored and not linked (at count 0, or 1 if the
 * killed {@code linkNew} had marked them). A failure stops the rest: no new target is taken,
 * uploads in flight are interrupted, and the failure is thrown only once every worker has ended.
 * A {@code linkNew} that says NotFound (a file found stored but released meanwhile by its other
 * holders) has its targets stored again, once, and is made once more.
 *
 * <p>The links are made as one operation drawn before the files are stored ({@link NewLinks}):
 * the workers put new small files through it, so that each is created holding its link's
 * reference (on S3 a file's record is created with the operation's mark), and every call links
 * as that operation. A file stored waits at most {@link #MAX_LINK_WAIT_NANOS} for its link, however
 * long the others take, so that a mark made at creation is linked well within the store's
 * deadline for it. A NotFound or Aborted of that operation's link (its links refused: on S3 a
 * creation mark past that deadline, or the tree fenced for it by gc past the bound) gives its
 * references back (the store does), and the files are stored again without it and linked by a
 * plain {@code linkNew}, as {@link NewLinks} asks of its callers.
 */
final class LinkPipeline {

  /** The longest a stored file waits for its link while others are being stored. */
  static final long MAX_LINK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

  /** A call links at least the files linked so far over this, while targets are left to take. */
  static final int GROWTH = 16;

  /**
   * The least window, in files per job: the workers keep storing while a link call (on S3 a
   * write of the tree's record, then step 4's writes of the files' records) runs. With 2 per job
   * they waited for the linker: a first upload of 1,000 files took 7.2 to 7.6 s at a 20 ms round
   * trip against 5.9 to 6.4 s with 8 (9.4 to 9.7 s at 50 ms against 12.0 to 12.5 s), and 16 or
   * more gained nothing more.
   */
  static final int WINDOW_PER_JOB = 8;

  /**
   * A blob a tree is to link to: a file to store from unless stored, of {@code size} bytes, or
   * (file null) a tree, stored already, which no worker is given, holding {@code size} files.
   */
  record Target(Digest digest, Path file, long size) {

    /** A tree stored already (a delta's base) that holds {@code files} files. */
    static Target tree(Digest digest, long files) {
      return new Target(digest, null, files);
    }
  }

  /**
   * Stores a target unless it is stored already; {@code first} is false when it is stored again
   * after a {@code linkNew} found it released.
   */
  interface Upload {
    void store(Target target, boolean first) throws IOException;
  }

  private final ContentStore store;
  private final int jobs;
  private final Upload upload;
  private final long maxLinkWaitNanos;
  private final LongSupplier nanoTime;

  /** A pipeline over {@code store}, {@code jobs} uploads at a time. */
  LinkPipeline(ContentStore store, int jobs, Upload upload) {
    this(store, jobs, upload, MAX_LINK_WAIT_NANOS);
  }

  /** The same, a stored file waiting at most {@code maxLinkWaitNanos} for its link. */
  LinkPipeline(ContentStore store, int jobs, Upload upload, long maxLinkWaitNanos) {
    this(store, jobs, upload, maxLinkWaitNanos, System::nanoTime);
  }

  /**
   * The same, its waits measured by {@code nanoTime} (as {@link System#nanoTime}; a test's clock
   * makes them exact): the linker waits on a monitor for a time computed from it, and looks again
   * when that time is up or a target is stored.
   */
  LinkPipeline(ContentStore store, int jobs, Upload upload, long maxLinkWaitNanos,
      LongSupplier nanoTime) {
    this.store = store;
    this.jobs = jobs;
    this.upload = upload;
    this.maxLinkWaitNanos = maxLinkWaitNanos;
    this.nanoTime = nanoTime;
  }

  /**
   * What the workers and the linker share, guarded by its monitor: the targets not yet taken, how
   * many are being stored, those stored and not yet linked, and the first failure.
   */
  private static final class State {
    final Iterator<Target> next;
    final List<Target> stored = new ArrayList<>();
    /** When the oldest of {@link #stored} was stored (the pipeline's clock). */
    long oldestStored;
    /** How long the oldest of {@link #stored} took to store. */
    long oldestUpload;
    int inFlight;
    /** How many files the linker has linked. */
    int linked;
    Throwable failure;

    State(List<Target> targets) {
      this.next = targets.iterator();
    }
  }

  /**
   * Stores each of {@code targets} and links {@code links.from()} (the tree) to all of them, as
   * operation {@code links}; returns once every link is made, or throws the first failure once
   * every worker has ended. The targets with no file (trees, stored already) are linked at once,
   * in a call of their own made while the workers store the files: on S3 its reads and marks of
   * their records then overlap the uploads, where linked with the first files stored they came
   * after them. The files those trees hold count as linked for the window from the start, so that
   * the workers keep storing while that call runs (on S3 a read and two writes of a record holding
   * a link to each of the base's files, some 3 MB for 10,000: longer than storing a hundred small
   * files).
   */
  void run(NewLinks links, List<Target> targets) {
    List<Target> trees = targets.stream().filter(t -> t.file() == null).toList();
    List<Target> files = targets.stream().filter(t -> t.file() != null).toList();
    if (files.isEmpty()) {
      if (!trees.isEmpty()) {
        linkNew(links, trees);
      }
      return;
    }
    int workers = Math.min(jobs, files.size());
    long held = trees.stream().mapToLong(Target::size).sum();
    Semaphore window = new Semaphore(window(jobs, held));
    State state = new State(files);
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    try {
      for (int i = 0; i < workers; i++) {
        pool.execute(() -> work(state, window));
      }
      link(links, trees, held, files.size(), window, state);
    } catch (RuntimeException | Error e) {
      fail(state, e);
    } finally {
      pool.shutdownNow(); // interrupts uploads in flight once a failure stopped the links
      Jobs.awaitEnd(pool);
    }
    Throwable t;
    synchronized (state) {
      t = state.failure;
    }
    if (t != null) {
      throw Jobs.rethrown(t);
    }
  }

  private static void fail(State state, Throwable e) {
    synchronized (state) {
      if (state.failure == null) {
        state.failure = e;
      }
      state.notifyAll(); // wakes the linker, which stops
    }
  }

  /** A worker: takes the next target while the window has room, stores it, hands it on. */
  private void work(State state, Semaphore window) {
    try {
      while (true) {
        window.acquire();
        Target target;
        synchronized (state) {
          if (state.failure != null || !state.next.hasNext()) {
            return;
          }
          target = state.next.next();
          state.inFlight++;
        }
        long started = nanoTime.getAsLong();
        upload.store(target, true);
        synchronized (state) {
          state.inFlight--;
          if (state.stored.isEmpty()) {
            state.oldestStored = nanoTime.getAsLong();
            state.oldestUpload = state.oldestStored - started;
          }
          state.stored.add(target);
          state.notifyAll();
        }
      }
    } catch (InterruptedException stopped) {
      Thread.currentThread().interrupt(); // the put failed elsewhere and stops the workers
    } catch (Throwable e) {
      fail(state, e);
    }
  }

  /**
   * The linker: links {@code trees} (holding {@code held} files) at once (unless none), then what
   * has been stored, until all {@code files} of it, when {@link #untilLink} says; a stored file
   * waits no longer than the pipeline's bound ({@link #MAX_LINK_WAIT_NANOS}).
   */
  private void link(NewLinks links, List<Target> trees, long held, int files, Semaphore window,
      State state) {
    long lastCall = trees.isEmpty() ? -1 : timedLinkNew(links, trees); // -1: no call made yet
    int linked = 0;
    while (linked < files) {
      List<Target> batch;
      synchronized (state) {
        while (state.failure == null) {
          long wait = untilLink(state, lastCall);
          if (wait == 0) {
            break;
          }
          try {
            if (wait > 0) {
              TimeUnit.NANOSECONDS.timedWait(state, wait);
            } else {
              state.wait();
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
          }
        }
        if (state.failure != null) {
          return; // run() throws it once every worker has ended
        }
        batch = List.copyOf(state.stored);
        state.stored.clear();
      }
      lastCall = timedLinkNew(links, batch);
      int before = window(jobs, held + linked);
      linked += batch.size();
      synchronized (state) {
        state.linked = linked;
      }
      window.release(batch.size() + window(jobs, held + linked) - before);
    }
  }

  /** Links {@code targets}; returns how long that took. */
  private long timedLinkNew(NewLinks links, List<Target> targets) {
    long start = nanoTime.getAsLong();
    linkNew(links, targets);
    return nanoTime.getAsLong() - start;
  }

  /**
   * How many targets may be being stored or stored and not linked once {@code linked} files are
   * linked (or held by the trees linked at the start): {@link #WINDOW_PER_JOB} × {@code jobs}, or
   * once more, {@code jobs} and the least a call then links ({@code linked / GROWTH}), so that the
   * workers keep storing while that many wait for their link.
   */
  static int window(int jobs, long linked) {
    return (int) Math.min(Integer.MAX_VALUE / 2,
        Math.max(WINDOW_PER_JOB * jobs, jobs + linked / GROWTH));
  }

  /**
   * How long the linker waits before it links what is stored: 0 to link now, a time to wait
   * unless a target is stored meanwhile, or -1 (nothing stored) to wait for one. The clock is read
   * only once a target is stored.
   *
   * <p>While targets are left to take, it links once at least as many are stored as are being
   * stored (a file held up alone holds back no link of others), and at least the files linked so
   * far over {@link #GROWTH}. Once none is left (the tail), it
   * links once none is being stored, or once the oldest stored has waited as long as a link call
   * takes: the last call's time, or before any call that file's own upload's (a small file's
   * upload and a link call are each about two writes to the store). Files finishing within a
   * call's time of each other are then linked by one call rather than two (waiting for the others
   * costs at most the call it saves), and a file much slower than the rest holds back their link
   * by at most that time. Either way the oldest stored waits no longer than the bound.
   */
  private long untilLink(State state, long lastCall) {
    if (state.stored.isEmpty()) {
      return -1;
    }
    long waited = nanoTime.getAsLong() - state.oldestStored;
    long bound = maxLinkWaitNanos - waited;
    if (bound <= 0) {
      return 0;
    }
    if (state.next.hasNext()) {
      return state.stored.size() >= Math.max(state.inFlight, state.linked / GROWTH) ? 0 : bound;
    }
    if (state.inFlight == 0) {
      return 0;
    }
    long tail = (lastCall >= 0 ? lastCall : state.oldestUpload) - waited;
    return tail <= 0 ? 0 : Math.min(tail, bound);
  }

  private void linkNew(NewLinks links, List<Target> targets) {
    List<Digest> digests = targets.stream().map(Target::digest).toList();
    try {
      links.link(digests);
    } catch (NotFoundException | AbortedException refused) {
      // NotFound: a file released meanwhile by its other holders, or from committed anew;
      // Aborted: the operation's links refused (on S3 its creation marks past their deadline,
      // or from fenced for it by gc past the bound). Either way its references were given back.
      for (Target t : targets) {
        try {
          upload.store(t, false);
        } catch (IOException e) {
          throw new UncheckedIOException(e.getMessage(), e);
        }
      }
      store.linkNew(digests, links.from());
    }
  }
}
