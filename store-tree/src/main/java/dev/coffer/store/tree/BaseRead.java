package dev.coffer.store.tree;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The read of a delta put's base tree ({@link TreeChain#resolve}) on a thread of its own, so that
 * its requests and the decoding of its chain run while the directory is scanned and hashed rather
 * than before: neither waits on the other, and the put needs both before it writes anything. The
 * read makes the requests it would make on the caller's thread, no others.
 *
 * <p>{@link #close} ends the thread (interrupting a read still running) before it returns, so that
 * a put ends every thread it started. Thread-safe.
 */
final class BaseRead implements AutoCloseable {

  private final CompletableFuture<TreeChain> chain = new CompletableFuture<>();
  private final Thread thread;

  private BaseRead(ContentStore store, Digest base, TreeCache cache) {
    thread = new Thread(() -> {
      try {
        chain.complete(TreeChain.resolve(store, base, cache));
      } catch (Throwable t) {
        chain.completeExceptionally(t);
      }
    }, "coffer-tree-base");
    thread.setDaemon(true);
  }

  /**
   * Starts reading tree {@code base} and its chain from {@code store}, its blobs' bytes from
   * {@code cache} when kept there (unless null).
   */
  static BaseRead start(ContentStore store, Digest base, TreeCache cache) {
    BaseRead read = new BaseRead(store, base, cache);
    read.thread.start();
    return read;
  }

  /** Whether the read has ended in a failure already (without waiting for it). */
  boolean failed() {
    return chain.isCompletedExceptionally();
  }

  /**
   * The base's chain, once read.
   *
   * @throws RuntimeException what {@link TreeChain#resolve} threw (NotFound, InvalidArgument,
   *     DataLoss...)
   */
  TreeChain get() {
    Throwable failure = failure();
    if (failure != null) {
      throw Jobs.rethrown(failure);
    }
    return chain.join();
  }

  /**
   * What the put throws when its local work failed with {@code local}: the read's failure if it
   * fails (a base that cannot be read is reported first, as when it was read before the
   * directory), else {@code local} itself.
   */
  RuntimeException failureOr(RuntimeException local) {
    Throwable failure = failure();
    if (failure == null) {
      return local;
    }
    if (failure != local) {
      failure.addSuppressed(local);
    }
    return Jobs.rethrown(failure);
  }

  /** Waits for the read to end; its failure, or null if it succeeded. */
  private Throwable failure() {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          chain.get();
          return null;
        } catch (ExecutionException e) {
          return e.getCause();
        } catch (InterruptedException e) {
          interrupted = true; // the read is a few requests: it ends soon
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Interrupts the read if it still runs, and waits for its thread to end. */
  @Override
  public void close() {
    if (!chain.isDone()) {
      thread.interrupt();
    }
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
