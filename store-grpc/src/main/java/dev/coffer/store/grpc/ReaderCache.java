package dev.coffer.store.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Open readers shared by the Read calls of one blob. containerd reads a layer as one Read call per
 * 32 KiB; opening a reader for each costs the store an info and, on S3, its read-ahead. A reader
 * stays open while calls use it and for an idle period after the last, within a bound on the
 * number open; one that leaves the cache is closed once its last call ends.
 *
 * <p>A reader kept busy never goes idle, and a reader opened before the blob was deleted (by
 * another host, or by anyone through the store) may go on reading it until it is purged, or for
 * ever from a store that keeps the bytes it opened. So a shared reader whose blob was last found
 * stored {@link #RECHECK_AFTER} ago or more asks the store's info before a new call uses it: a
 * blob deleted meanwhile fails that call with NotFound and its reader is no longer shared
 * (PROTO-8). Calls that are already streaming finish on the reader they have.
 *
 * <p>Thread-safe.
 */
final class ReaderCache implements AutoCloseable {

  /**
   * How long a shared reader serves new calls before its blob is looked up again: 1 minute, well
   * inside the S3 store's default deletion grace (15 minutes), PROTO-8.
   */
  static final Duration RECHECK_AFTER = Duration.ofMinutes(1);

  private final ContentStore store;
  private final Ticker ticker;
  private final Cache<Digest, Shared> readers;

  /** A cache whose idle and recheck times are measured by {@code ticker}. */
  ReaderCache(ContentStore store, int maxReaders, Duration idle, Ticker ticker) {
    this.store = store;
    this.ticker = ticker;
    this.readers = maxReaders == 0 ? null : Caffeine.newBuilder()
        .maximumSize(maxReaders)
        .expireAfterAccess(idle)
        .ticker(ticker)
        .scheduler(Scheduler.systemScheduler()) // closes idle readers without waiting for traffic
        .executor(Runnable::run)
        .<Digest, Shared>removalListener((digest, shared, cause) -> shared.evict())
        .build();
  }

  /**
   * A reader of {@code digest}; closing it releases it. With caching off (a bound of 0) every call
   * gets its own reader.
   *
   * @throws NotFoundException if the blob is not stored, or was deleted since its shared reader
   *     was opened and last checked
   */
  ReaderAt open(Digest digest) {
    if (readers != null) {
      Shared shared = readers.get(digest, d -> new Shared(store.readerAt(d), ticker.read()));
      if (shared.retain()) {
        try {
          recheck(digest, shared);
        } catch (RuntimeException e) {
          shared.release();
          throw e;
        }
        return new Lease(shared);
      }
      readers.asMap().remove(digest, shared); // evicted and closed since the lookup
    }
    return store.readerAt(digest);
  }

  /** Looks the blob up if its shared reader last found it stored {@link #RECHECK_AFTER} ago. */
  private void recheck(Digest digest, Shared shared) {
    long now = ticker.read();
    if (now - shared.checkedAt < RECHECK_AFTER.toNanos()) {
      return;
    }
    try {
      store.info(digest);
    } catch (NotFoundException e) {
      readers.asMap().remove(digest, shared); // closed once its running calls end
      throw e;
    }
    // Other failures leave the time as it was: the next call asks again.
    shared.checkedAt = now;
  }

  /** Stops sharing the reader of {@code digest}, after a delete or a failed read. */
  void invalidate(Digest digest) {
    if (readers != null) {
      readers.invalidate(digest);
    }
  }

  /** Closes the idle readers; readers in use close when their calls end. Idempotent. */
  @Override
  public void close() {
    if (readers != null) {
      readers.invalidateAll();
      readers.cleanUp();
    }
  }

  /** One open reader and the number of calls using it. */
  private static final class Shared {
    private final ReaderAt reader;
    /** When the blob was last found stored ({@link Ticker#read()}). */
    private volatile long checkedAt;
    private int users;
    private boolean evicted;
    private boolean closed;

    Shared(ReaderAt reader, long openedAt) {
      this.reader = reader;
      this.checkedAt = openedAt;
    }

    synchronized boolean retain() {
      if (closed) {
        return false;
      }
      users++;
      return true;
    }

    synchronized void release() {
      if (--users == 0 && evicted) {
        closeReader();
      }
    }

    synchronized void evict() {
      evicted = true;
      if (users == 0) {
        closeReader();
      }
    }

    private void closeReader() {
      closed = true;
      reader.close();
    }
  }

  /** One call's use of a shared reader; closing it releases the reader once. */
  private static final class Lease implements ReaderAt {
    private final Shared shared;
    private boolean released;

    Lease(Shared shared) {
      this.shared = shared;
    }

    @Override
    public int read(ByteBuffer dst, long position) {
      return shared.reader.read(dst, position);
    }

    @Override
    public long size() {
      return shared.reader.size();
    }

    @Override
    public synchronized void close() {
      if (!released) {
        released = true;
        shared.release();
      }
    }
  }
}
