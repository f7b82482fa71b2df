package dev.coffer.store.s3;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;

/**
 * The keys under a prefix, in S3's order, listed page by page (ListObjectsV2) on the store's
 * workers ahead of their consumer: the consumer takes the first page's keys while the next pages
 * are being listed, so a walk reads records while it lists. A failure of the listing is thrown by
 * {@link #hasNext()} once the keys listed before it are taken. {@link #close()} stops the listing
 * at its next key. Not thread-safe: one consumer.
 */
final class ListedKeys implements Iterator<String>, AutoCloseable {
  /** The end of the listing: a key of its own, told apart by identity. */
  private static final String END = new String("end of listing");

  private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
  private volatile boolean closed;
  private volatile RuntimeException failure;
  private String next;

  ListedKeys(S3Objects objects, ExecutorService workers, String prefix) {
    try {
      workers.execute(() -> {
        try {
          objects.list(prefix, key -> {
            if (closed) {
              throw new CancellationException("listing " + prefix + " was closed");
            }
            queue.add(key);
          });
        } catch (RuntimeException e) {
          failure = e;
        } finally {
          queue.add(END);
        }
      });
    } catch (RejectedExecutionException e) {
      failure = S3Errors.translate("listing " + prefix, e);
      queue.add(END);
    }
  }

  @Override
  public boolean hasNext() {
    if (next == null) {
      try {
        next = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new dev.coffer.store.AbortedException("interrupted while listing", e);
      }
    }
    if (next == END) {
      queue.add(END); // so that a later call ends again
      next = null;
      if (failure != null) {
        throw failure;
      }
      return false;
    }
    return true;
  }

  @Override
  public String next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    String key = next;
    next = null;
    return key;
  }

  @Override
  public void close() {
    closed = true;
  }
}
