package dev.coffer.store.grpc;

import dev.coffer.store.AbortedException;
import dev.coffer.store.UnavailableException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This server's Write streams by the store ref whose writer each holds, so that a stream reopening
 * a ref whose earlier stream is closing its writer waits for that close instead of failing.
 *
 * <p>containerd's proxy writer closes with a bare CloseSend and may open the ref again at once
 * (containerd's Resume cases do), while the store's close takes time (for S3, completing the
 * partial object and releasing the lease: two round trips). The store meanwhile refuses the ref as
 * locked, and UNAVAILABLE would fail that reopen. A stream is marked ending on the transport's
 * thread when the client's close arrives (see {@link ContentService#callExecutors()}), so a reopen
 * the client sent after the close always finds the mark. A ref held by a stream that is not ending
 * stays UNAVAILABLE at once: that is another writer (docs/architecture.md, GRPC-4).
 *
 * <p>Thread-safe.
 */
final class WriteSessions {

  /** How long a reopen waits for the close of the ref's writer by default. */
  static final Duration CLOSE_WAIT_DEFAULT = Duration.ofSeconds(10);

  private final ConcurrentMap<String, WriteSession> byRef = new ConcurrentHashMap<>();
  /** How many writers the streams have closed, so a close just before a lookup is not missed. */
  private final AtomicLong closes = new AtomicLong();
  private final Duration closeWait;

  WriteSessions(Duration closeWait) {
    this.closeWait = closeWait;
  }

  /** How long a reopen waits for a closing writer. */
  Duration closeWait() {
    return closeWait;
  }

  /** Records that {@code session} holds the store's writer of {@code ref}. */
  void opened(String ref, WriteSession session) {
    byRef.put(ref, session);
  }

  /** Records that {@code session} closed its writer of {@code ref}. */
  void closed(String ref, WriteSession session) {
    // Counted before the stream is forgotten: a reopen that finds it gone then sees the count.
    closes.incrementAndGet();
    byRef.remove(ref, session);
  }

  /** Writers the streams hold open now, one per ref. */
  int open() {
    return byRef.size();
  }

  /** A count of the closes so far; {@link #awaitClose} compares it with its own. */
  long closes() {
    return closes.get();
  }

  /**
   * Called when the store refused {@code ref} as locked: waits for this server's writer of the
   * ref to close, if the stream holding it is ending.
   *
   * @param closesBefore {@link #closes()} read before the refused open: a writer closed since
   *     then may have been the ref's, whose stream is no longer found
   * @return true once that writer is closed, or if a writer closed since {@code closesBefore} (open
   *     again); false if no ending stream of this server holds the ref (the lock is an open
   *     stream's, or another host's)
   * @throws UnavailableException naming the ref if the close outlasts {@link #closeWait()}
   * @throws AbortedException if interrupted while waiting (the interrupt is kept)
   */
  boolean awaitClose(String ref, long closesBefore) {
    WriteSession holding = byRef.get(ref);
    if (holding == null || !holding.ending()) {
      return closes.get() != closesBefore;
    }
    try {
      holding.closed().get(closeWait.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException timedOut) {
      throw new UnavailableException("ref \"" + ref + "\" is still being closed by an earlier"
          + " stream after " + closeWait.toMillis() + " ms; try again"); // no cause: SEC-6
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while waiting for the writer of ref \"" + ref
          + "\" to close", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a write stream's close future failed", e);
    }
  }
}
