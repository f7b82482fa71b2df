package dev.coffer.store.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the cache holds and its upkeep: the info cache, the memory tier, the disk tier with its
 * degraded episodes, the counters, and whether the cache is closed. Placing, forgetting and
 * evicting entries go through here, whoever asks (reads, fills, writers, changes through the
 * backing store). Thread-safe.
 */
final class Tiers {
  private static final Logger LOG = LoggerFactory.getLogger(CachedContentStore.class);

  private final CacheConfig config;
  private final StatsCounter stats = new StatsCounter();
  private final Cache<Digest, byte[]> memory;
  private final Cache<Digest, Info> infos;
  private final DiskTier disk;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean degraded = new AtomicBoolean();
  private volatile long retryDiskAtNanos;

  Tiers(CacheConfig config, Executor executor, Executor indexExecutor, Ticker ticker) {
    this.config = config;
    this.memory = config.memoryMaxBytes() == 0 ? null : Caffeine.newBuilder()
        .maximumWeight(config.memoryMaxBytes())
        .weigher((Digest digest, byte[] bytes) -> bytes.length)
        .evictionListener((Digest digest, byte[] bytes, RemovalCause cause) -> {
          if (cause.wasEvicted()) {
            stats.memoryEvictions.increment();
          }
        })
        .executor(executor)
        .build();
    this.infos = config.infoTtl().isZero() ? null : Caffeine.newBuilder()
        .maximumSize(100_000)
        .expireAfterWrite(config.infoTtl())
        .ticker(ticker)
        .executor(executor)
        .build();
    this.disk = config.hasDiskTier() ? openDisk(config, executor, indexExecutor) : null;
  }

  private DiskTier openDisk(CacheConfig config, Executor executor, Executor indexExecutor) {
    try {
      return DiskTier.open(config.directory(), config.diskMaxBytes(), executor, indexExecutor,
          stats);
    } catch (UnsafeDirectoryException e) {
      // Not a failing disk to read through: someone else could place content under a digest.
      throw new FailedPreconditionException(e.getMessage());
    } catch (IOException | RuntimeException e) {
      degraded.set(true);
      stats.diskFailures.increment();
      // One line: another process holding the directory is routine for a command-line tool.
      LOG.warn("cache directory {} is unusable ({}); reading through without a disk tier",
          config.directory(), e instanceof FileSystemException f && f.getReason() != null
              ? f.getReason() : e.toString());
      LOG.debug("cache directory {} is unusable", config.directory(), e);
      return null;
    }
  }

  CacheConfig config() {
    return config;
  }

  StatsCounter counters() {
    return stats;
  }

  boolean isClosed() {
    return closed.get();
  }

  /** Marks the cache closed; true the first time only. */
  boolean markClosed() {
    return closed.compareAndSet(false, true);
  }

  // ---- lookups ----

  /** The blob's info, cached or from {@code load}. */
  Info info(Digest digest, Function<Digest, Info> load) {
    return infos == null ? load.apply(digest) : infos.get(digest, load);
  }

  boolean hasMemory() {
    return memory != null;
  }

  /** Whether a blob of {@code size} bytes belongs in the memory tier. */
  boolean fitsMemory(long size) {
    return memory != null && size <= config.memoryMaxBlobBytes();
  }

  /** The blob's bytes in the memory tier, or null. */
  byte[] inMemory(Digest digest) {
    return memory.getIfPresent(digest);
  }

  void keepInMemory(Digest digest, byte[] bytes) {
    memory.put(digest, bytes);
  }

  /** The disk tier, when {@link #diskUsable()}. */
  DiskTier disk() {
    return disk;
  }

  /** Whether the disk tier exists and is not in a degraded episode. */
  boolean diskUsable() {
    if (disk == null) {
      return false;
    }
    if (degraded.get()) {
      if (System.nanoTime() - retryDiskAtNanos < 0) {
        return false;
      }
      degraded.set(false);
    }
    return true;
  }

  StagingFile stagingFileOrNull(String prefix) {
    try {
      return disk.newStagingFile(prefix);
    } catch (IOException e) {
      diskFailed("creating a staging file", e);
      return null;
    }
  }

  // ---- failures ----

  /** A disk entry failed a read: counted as corrupt, evicted, fetched again by the next read. */
  void entryFailed(Digest digest, String problem, IOException cause) {
    LOG.warn("cache entry {} {}; evicting it", digest, problem, cause);
    stats.corruptEntries.increment();
    if (disk != null) {
      disk.remove(digest);
    }
    if (memory != null) {
      memory.invalidate(digest);
    }
  }

  /** A disk operation failed: bypass the disk tier for a while, warning once per episode. */
  void diskFailed(String operation, Exception cause) {
    stats.diskFailures.increment();
    retryDiskAtNanos = System.nanoTime() + config.degradedRetry().toNanos();
    if (degraded.compareAndSet(false, true)) {
      LOG.warn("cache directory {} failed {}; reading through for {}", config.directory(),
          operation, config.degradedRetry(), cause);
    }
  }

  // ---- placing committed blobs ----

  /** Places a written and committed blob's verified copy in the disk tier. */
  void promote(Digest digest, StagingFile staged, long size) throws IOException {
    forgetInfo(digest);
    if (size <= config.diskMaxBytes() && !closed.get()) {
      disk.install(digest, staged, size);
    }
  }

  /** Places a written and committed small blob's verified bytes in the memory tier. */
  void promote(Digest digest, byte[] bytes) {
    forgetInfo(digest);
    if (!closed.get()) {
      memory.put(digest, bytes);
    }
  }

  /**
   * Places the verified bytes of a blob committed through a put where a writer's commit would
   * place its copy: the disk tier if usable, else the memory tier.
   */
  void cacheCommitted(Digest digest, byte[] content) {
    if (!config.cacheOnCommit() || closed.get()) {
      return;
    }
    if (diskUsable()) {
      StagingFile staging = stagingFileOrNull("put");
      if (staging != null) {
        try {
          FileChannel copy = staging.channel();
          ByteBuffer source = ByteBuffer.wrap(content);
          while (source.hasRemaining()) {
            copy.write(source);
          }
          copy.force(false); // as a writer's copy: the entry is whole once it is in place
          promote(digest, staging, content.length);
        } catch (IOException e) {
          diskFailed("placing put blob " + digest + " in the cache", e);
        } finally {
          discardQuietly(staging);
        }
        return;
      }
    }
    if (memory != null && content.length <= config.memoryMaxBlobBytes()) {
      promote(digest, content.clone());
    }
  }

  /** Closes a staging file and deletes it unless it was installed. */
  private static void discardQuietly(StagingFile staging) {
    try {
      staging.discard();
    } catch (IOException e) {
      LOG.debug("cannot delete staging file {}", staging.path(), e);
    }
  }

  // ---- forgetting ----

  void forgetInfo(Digest digest) {
    if (infos != null && digest != null) {
      infos.invalidate(digest);
    }
  }

  void forgetAllInfo() {
    if (infos != null) {
      infos.invalidateAll();
    }
  }

  /** Drops the blob from every tier. */
  void evict(Digest digest) {
    if (digest == null) {
      return;
    }
    forgetInfo(digest);
    if (memory != null) {
      memory.invalidate(digest);
    }
    if (disk != null) {
      disk.remove(digest);
    }
  }

  // ---- the cache's own surface ----

  /**
   * The counters and sizes; {@code exact}: after waiting for the disk tier's index, else with the
   * disk bytes indexed so far.
   */
  CacheStats stats(boolean exact) {
    if (exact && disk != null) {
      disk.awaitIndexed();
    }
    long memoryBytes = memory == null ? 0
        : memory.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    return stats.snapshot(memoryBytes, disk == null ? 0 : disk.bytes(),
        config.hasDiskTier() && !diskUsable());
  }

  void clear() {
    forgetAllInfo();
    if (memory != null) {
      memory.invalidateAll();
    }
    if (disk != null) {
      disk.clear();
    }
  }

  /** Closes the disk tier and empties the memory tier; after the fills have stopped. */
  void close() {
    try {
      if (disk != null) {
        disk.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("closing cache directory " + config.directory(), e);
    } finally {
      if (memory != null) {
        memory.invalidateAll();
      }
    }
  }
}
