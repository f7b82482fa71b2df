package dev.coffer.store.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Scheduler;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Open readers shared by the Read calls of one blob. containerd reads a layer as one Read call per
 * 32 KiB; opening a reader for each costs the store an info and, on S3, its read-ahead. A reader
 * stays open while calls use it and for an idle period after the last, within a bound on the
 * number open; one that leaves the cache is closed once its last call ends.
 *
 * <p>Thread-safe.
 */
final class ReaderCache implements AutoCloseable {

  private final ContentStore store;
  private final Cache<Digest, Shared> readers;

  ReaderCache(ContentStore store, int maxReaders, Duration idle) {
    this.store = store;
    this.readers = maxReaders == 0 ? null : Caffeine.newBuilder()
        .maximumSize(maxReaders)
        .expireAfterAccess(idle)
        .scheduler(Scheduler.systemScheduler()) // closes idle readers without waiting for traffic
        .executor(Runnable::run)
        .<Digest, Shared>removalListener((digest, shared, cause) -> shared.evict())
        .build();
  }

  /**
   * A reader of {@code digest}; closing it releases it. With caching off (a bound of 0) every call
   * gets its own reader.
   *
   * @throws dev.coffer.store.NotFoundException if the blob is not stored
   */
  ReaderAt open(Digest digest) {
    if (readers != null) {
      Shared shared = readers.get(digest, d -> new Shared(store.readerAt(d)));
      if (shared.retain()) {
        return new Lease(shared);
      }
      readers.asMap().remove(digest, shared); // evicted and closed since the lookup
    }
    return store.readerAt(digest);
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
    private int users;
    private boolean evicted;
    private boolean closed;

    Shared(ReaderAt reader) {
      this.reader = reader;
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
