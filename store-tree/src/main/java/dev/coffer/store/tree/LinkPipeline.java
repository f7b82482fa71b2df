package dev.coffer.store.tree;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Stores a tree's targets and links the tree to them as a pipeline (TREE-3's step 3): {@code jobs}
 * workers store targets one after another, each without a reference, while the calling thread
 * links from the tree, one {@code linkNew} at a time (each is a compare-and-swap of the tree's
 * record), whatever has been stored since its last call, at most {@code jobs} targets a call. No
 * file waits for another's upload before its link, nor an upload for a link.
 *
 * <p>At most {@code 2 × jobs} targets are being stored or stored and not yet linked at any time:
 * a put killed part-way leaves at most that many files stored and not linked (at count 0, or 1 if
 * the killed {@code linkNew} had marked them). A failure stops the rest: no new target is taken,
 * uploads in flight are interrupted, and the failure is thrown only once every worker has ended.
 * A {@code linkNew} that says NotFound (a file found stored but released meanwhile by its other
 * holders) has its targets stored again, once, and is made once more.
 */
final class LinkPipeline {

  /** A blob a tree is to link to: a file to store from unless stored, or (file null) a tree. */
  record Target(Digest digest, Path file, long size) {}

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

  /** A pipeline over {@code store}, {@code jobs} uploads at a time. */
  LinkPipeline(ContentStore store, int jobs, Upload upload) {
    this.store = store;
    this.jobs = jobs;
    this.upload = upload;
  }

  /** A stored target, or (target null) the end of a worker that failed. */
  private record Done(Target target) {}

  /**
   * Stores each of {@code targets} and links {@code tree} to all of them; returns once every
   * link is made, or throws the first failure once every worker has ended.
   */
  void run(Digest tree, List<Target> targets) {
    if (targets.isEmpty()) {
      return;
    }
    int workers = Math.min(jobs, targets.size());
    Semaphore window = new Semaphore(2 * jobs);
    BlockingQueue<Done> stored = new LinkedBlockingQueue<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Iterator<Target> next = targets.iterator();
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    try {
      for (int i = 0; i < workers; i++) {
        pool.execute(() -> work(next, window, stored, failure));
      }
      link(tree, targets.size(), window, stored, failure);
    } catch (RuntimeException | Error e) {
      failure.compareAndSet(null, e);
    } finally {
      pool.shutdownNow(); // interrupts uploads in flight once a failure stopped the links
      Jobs.awaitEnd(pool);
    }
    Throwable t = failure.get();
    if (t != null) {
      throw rethrown(t);
    }
  }

  /** A worker: takes the next target while the window has room, stores it, hands it on. */
  private void work(Iterator<Target> next, Semaphore window, BlockingQueue<Done> stored,
      AtomicReference<Throwable> failure) {
    try {
      while (failure.get() == null) {
        window.acquire();
        Target target;
        synchronized (next) {
          if (!next.hasNext()) {
            return;
          }
          target = next.next();
        }
        upload.store(target, true);
        stored.add(new Done(target));
      }
    } catch (InterruptedException stopped) {
      Thread.currentThread().interrupt(); // the put failed elsewhere and stops the workers
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
      stored.add(new Done(null)); // wakes the linker, which stops
    }
  }

  /** The linker: links what has been stored, {@code jobs} at most a call, until all of them. */
  private void link(Digest tree, int total, Semaphore window, BlockingQueue<Done> stored,
      AtomicReference<Throwable> failure) {
    int linked = 0;
    List<Done> batch = new ArrayList<>(jobs);
    while (linked < total) {
      batch.clear();
      try {
        batch.add(stored.take());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
      stored.drainTo(batch, jobs - 1);
      if (failure.get() != null || batch.stream().anyMatch(d -> d.target() == null)) {
        return; // a worker failed: run() throws its failure once every worker has ended
      }
      List<Target> targets = batch.stream().map(Done::target).toList();
      linkNew(tree, targets);
      linked += targets.size();
      window.release(targets.size());
    }
  }

  private void linkNew(Digest tree, List<Target> targets) {
    List<Digest> digests = targets.stream().map(Target::digest).toList();
    try {
      store.linkNew(digests, tree);
    } catch (NotFoundException releasedMeanwhile) {
      for (Target t : targets) {
        try {
          upload.store(t, false);
        } catch (IOException e) {
          throw new UncheckedIOException(e.getMessage(), e);
        }
      }
      store.linkNew(digests, tree);
    }
  }

  private static RuntimeException rethrown(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    if (t instanceof IOException io) {
      return new UncheckedIOException(io.getMessage(), io);
    }
    return new IllegalStateException(t);
  }
}
