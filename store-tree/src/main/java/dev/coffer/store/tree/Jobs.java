package dev.coffer.store.tree;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Bounded parallel work for trees: a pool per call, ended before the call returns. */
final class Jobs {

  private Jobs() {}

  /**
   * Runs the tasks at most {@code jobs} at a time; on a failure cancels the rest and rethrows it.
   * Returns or throws only once every task has ended, so no task still writes (a temporary file,
   * say) after the call that started it has failed.
   */
  static <T> List<T> runAll(int jobs, List<Callable<T>> tasks) {
    if (tasks.isEmpty()) {
      return List.of();
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(jobs, tasks.size()));
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> task : tasks) {
        futures.add(pool.submit(task));
      }
      List<T> results = new ArrayList<>(futures.size());
      for (Future<T> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          futures.forEach(x -> x.cancel(true));
          throw rethrown(e.getCause());
        } catch (InterruptedException e) {
          futures.forEach(x -> x.cancel(true));
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
      awaitEnd(pool);
    }
  }

  /**
   * A task's failure {@code t} as the caller throws it: a RuntimeException as it is, an Error
   * thrown from here, an IOException as UncheckedIOException, anything else wrapped.
   */
  static RuntimeException rethrown(Throwable t) {
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

  /** Waits for every task of {@code pool} to end, keeping an interrupt for the caller. */
  static void awaitEnd(ExecutorService pool) {
    boolean interrupted = false;
    while (true) {
      try {
        if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
