package dev.coffer.store.cache;

import dev.coffer.store.AbortedException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches from the backing store, once per blob however many readers want it (single flight):
 * {@link Fill}s into the disk tier on the fill threads, and loads of small blobs into the memory
 * tier on the reader's thread. Thread-safe.
 */
final class Fills {
  private static final Logger LOG = LoggerFactory.getLogger(CachedContentStore.class);
  private static final AtomicInteger FILL_THREADS = new AtomicInteger();

  private final ContentStore backing;
  private final Tiers tiers;
  private final ConcurrentHashMap<Digest, Fill> running = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Digest, CompletableFuture<byte[]>> smallLoads =
      new ConcurrentHashMap<>();
  /** The fill threads, or null when fills run on an executor given by the caller. */
  private final ThreadPoolExecutor pool;
  private final Executor executor;

  /**
   * Fills on {@code executor} if given (tests pass {@code Runnable::run} to make a fill end before
   * its first reader opens it), else on a pool of {@link CacheConfig#fillThreads()} threads.
   */
  Fills(ContentStore backing, Tiers tiers, Executor executor) {
    this.backing = backing;
    this.tiers = tiers;
    if (executor == null) {
      int threads = tiers.config().fillThreads();
      this.pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(), fillThreads());
      pool.allowCoreThreadTimeOut(true);
      this.executor = pool;
    } else {
      this.pool = null;
      this.executor = executor;
    }
  }

  private static ThreadFactory fillThreads() {
    return task -> {
      Thread thread = new Thread(task, "coffer-cache-fill-" + FILL_THREADS.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  ContentStore backing() {
    return backing;
  }

  StatsCounter counters() {
    return tiers.counters();
  }

  Executor executor() {
    return executor;
  }

  /** The running fill of {@code digest}, or a new one, or null if the disk tier cannot take it. */
  Fill join(Digest digest, long size) {
    DiskTier disk = tiers.disk();
    Fill fill = running.computeIfAbsent(digest, d -> {
      if (disk.contains(d)) {
        // Installed since our lookup: the caller's next read finds it; no second fetch.
        return null;
      }
      try {
        return new Fill(this, disk, d, size, disk.newStagingFile(d.hex()));
      } catch (IOException e) {
        tiers.diskFailed("creating a staging file for " + d, e);
        return null;
      }
    });
    if (fill != null) {
      fill.start();
    }
    return fill;
  }

  /** Called by a fill when it ends, before it wakes its readers. */
  void finished(Fill fill, boolean diskFailure, Exception failure) {
    running.remove(fill.digest, fill);
    if (failure == null || tiers.isClosed()) {
      return;
    }
    if (diskFailure) {
      tiers.diskFailed("filling " + fill.digest, failure);
    } else {
      LOG.debug("fetching blob {} into the cache failed; reading through", fill.digest, failure);
    }
  }

  /** Fetches a small blob once for every concurrent reader and keeps it in memory if verified. */
  byte[] loadSmall(Digest digest, long size) {
    CompletableFuture<byte[]> mine = new CompletableFuture<>();
    CompletableFuture<byte[]> other = smallLoads.putIfAbsent(digest, mine);
    if (other != null) {
      return join(digest, other);
    }
    StatsCounter stats = tiers.counters();
    long start = System.nanoTime();
    try {
      byte[] bytes = Content.readBlob(backing::readerAtHeld, Descriptor.of(digest, size));
      Digest actual = Digest.of(digest.algorithm(), bytes);
      if (!actual.equals(digest)) {
        // A backing store whose readBlob does not verify: never serve bytes known to be wrong.
        throw DataLossException.digestMismatch(digest, actual);
      }
      stats.recordLoad(start, true);
      tiers.keepInMemory(digest, bytes);
      mine.complete(bytes);
      return bytes;
    } catch (RuntimeException e) {
      stats.recordLoad(start, false);
      if (e instanceof DataLossException) {
        stats.corruptLoads.increment();
        LOG.warn("blob {} read from the backing store is corrupt; not cached", digest);
      }
      mine.completeExceptionally(e);
      throw e;
    } finally {
      smallLoads.remove(digest, mine);
    }
  }

  private static byte[] join(Digest digest, CompletableFuture<byte[]> load) {
    try {
      return load.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while waiting for blob " + digest, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Stops the fill threads: running fills may finish (a restart then finds them); stuck ones are
   * interrupted, and those never started end failed, so no reader waits for them.
   */
  void close() {
    if (pool == null) {
      return; // the caller's executor: not ours to stop
    }
    pool.shutdown();
    try {
      if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("cache fills interrupted by close");
        abandon(pool.shutdownNow());
      }
    } catch (InterruptedException e) {
      abandon(pool.shutdownNow());
      Thread.currentThread().interrupt();
    }
  }

  private static void abandon(List<Runnable> neverStarted) {
    for (Runnable task : neverStarted) {
      if (task instanceof Fill fill) {
        fill.abandon();
      }
    }
  }
}
