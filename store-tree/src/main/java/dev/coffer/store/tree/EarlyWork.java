package dev.coffer.store.tree;

import dev.coffer.store.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Work on some of a delta put's files started before its tree is committed rather than at each
 * file's turn ({@link EarlyLookups}, {@link EarlyUploads}): on a pool of its own, at most {@code
 * jobs} at a time, each digest's result taken once, at its file's turn. A result not there to take
 * (no work started for that digest, taken already, or failed) is the caller's to make then, as
 * without early work.
 *
 * <p>{@link #close} ends the work still running (interrupting it) before it returns. Thread-safe.
 *
 * @param <T> a result
 */
final class EarlyWork<T> implements AutoCloseable {

  /** The work for one digest. */
  @FunctionalInterface
  interface Task<T> {
    T run(Digest d) throws IOException;
  }

  private final Map<Digest, CompletableFuture<T>> started = new ConcurrentHashMap<>();
  private final ExecutorService pool;

  /** Starts {@code task} for each of {@code digests}, at most {@code jobs} at a time. */
  EarlyWork(Collection<Digest> digests, int jobs, String threadName, Task<T> task) {
    this.pool = digests.isEmpty() ? null
        : Executors.newFixedThreadPool(Math.min(jobs, digests.size()), r -> {
          Thread t = new Thread(r, threadName);
          t.setDaemon(true);
          return t;
        });
    for (Digest d : digests) {
      started.computeIfAbsent(d, x -> CompletableFuture.supplyAsync(() -> {
        try {
          return task.run(x);
        } catch (IOException e) {
          throw new UncheckedIOException(e.getMessage(), e);
        }
      }, pool));
    }
  }

  /**
   * The result for {@code d} once there is one, given once; null if no work was started for
   * {@code d}, its result was taken already, or the work failed (the caller then does it itself).
   */
  T take(Digest d) {
    CompletableFuture<T> early = started.remove(d);
    if (early == null) {
      return null;
    }
    try {
      return early.get();
    } catch (ExecutionException failed) {
      return null; // made again at the file's turn, as without early work
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
      Jobs.awaitEnd(pool);
    }
  }
}
