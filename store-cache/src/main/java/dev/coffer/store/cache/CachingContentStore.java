package dev.coffer.store.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.StoreException;
import dev.coffer.store.Writer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The caching store: a memory tier for small blobs, a disk tier for blobs up to its bound, an info
 * cache with a short time-to-live, and single-flight fills from the backing store.
 *
 * <p>Every read starts from the blob's info, cached or refreshed, so a blob deleted elsewhere stops
 * being served once its info expires, and a NotFound from the backing store evicts the blob.
 */
final class CachingContentStore implements CachedContentStore {
  private static final Logger LOG = LoggerFactory.getLogger(CachedContentStore.class);
  private static final AtomicInteger FILL_THREADS = new AtomicInteger();

  private final ContentStore backing;
  private final CacheConfig config;
  private final StatsCounter stats = new StatsCounter();
  private final Cache<Digest, byte[]> memory;
  private final Cache<Digest, Info> infos;
  private final DiskTier disk;
  private final ConcurrentHashMap<Digest, Fill> fills = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Digest, CompletableFuture<byte[]>> smallLoads =
      new ConcurrentHashMap<>();
  private final ExecutorService fillExecutor;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean degraded = new AtomicBoolean();
  private volatile long retryDiskAtNanos;

  CachingContentStore(ContentStore backing, CacheConfig config, Executor executor, Ticker ticker) {
    this.backing = backing;
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
    this.disk = config.hasDiskTier() ? openDisk(config, executor) : null;
    ThreadPoolExecutor pool = new ThreadPoolExecutor(config.fillThreads(), config.fillThreads(),
        30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), fillThreads());
    pool.allowCoreThreadTimeOut(true);
    this.fillExecutor = pool;
  }

  private DiskTier openDisk(CacheConfig config, Executor executor) {
    try {
      return DiskTier.open(config.directory(), config.diskMaxBytes(), executor, stats);
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

  private static ThreadFactory fillThreads() {
    return task -> {
      Thread thread = new Thread(task, "coffer-cache-fill-" + FILL_THREADS.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  // ---- reads ----

  @Override
  public ReaderAt readerAt(Descriptor descriptor) {
    checkOpen();
    Digest digest = descriptor.requireDigest();
    long size = info(digest).size();
    if (memory != null && size <= config.memoryMaxBlobBytes()) {
      byte[] bytes = memory.getIfPresent(digest);
      if (bytes != null && bytes.length == size) {
        stats.memoryHits.increment();
        return CacheReader.ofBytes(this, digest, bytes, stats.memoryBytesServed);
      }
      stats.memoryMisses.increment();
      return readSmall(digest, size);
    }
    if (diskUsable() && size <= config.diskMaxBytes()) {
      ReaderAt reader = readFromDisk(digest, size);
      if (reader != null) {
        return reader;
      }
    }
    return CacheReader.ofBacking(this, digest, size);
  }

  /** A disk hit, a reader of a (new or joined) fill, or null if the disk tier cannot serve. */
  private ReaderAt readFromDisk(Digest digest, long size) {
    DiskSource source = diskSource(digest, size);
    if (source == null) {
      return null;
    }
    return CacheReader.ofChannel(this, digest, size, source.channel(), source.fill(),
        source.fill() == null ? stats.diskBytesServed : stats.backingBytesServed);
  }

  /** Reads a blob small enough for the memory tier, through the disk tier or straight. */
  private ReaderAt readSmall(Digest digest, long size) {
    DiskSource source =
        diskUsable() && size <= config.diskMaxBytes() ? diskSource(digest, size) : null;
    if (source != null) {
      if (source.fill() != null && !source.fill().await(size)) {
        closeQuietly(source.channel());
        source.fill().throwIfCorrupt();
      } else {
        byte[] bytes = readFully(digest, source.channel(), size);
        if (bytes != null) {
          memory.put(digest, bytes);
          return CacheReader.ofBytes(this, digest, bytes,
              source.fill() == null ? stats.diskBytesServed : stats.backingBytesServed);
        }
      }
    }
    return CacheReader.ofBytes(this, digest, loadSmall(digest, size), stats.backingBytesServed);
  }

  /** Where the disk tier serves a blob from: its entry ({@code fill} null) or a running fill. */
  private record DiskSource(FileChannel channel, Fill fill) {}

  /** The disk entry of a blob, or a reader's channel on its (new or joined) fill, or null. */
  private DiskSource diskSource(Digest digest, long size) {
    // Two attempts: a fill may install the entry between the lookup and joining it.
    for (int attempt = 0; attempt < 2; attempt++) {
      FileChannel channel = disk.open(digest, size, config.verifyOnOpen());
      if (channel != null) {
        stats.diskHits.increment();
        return new DiskSource(channel, null);
      }
      Fill fill = joinFill(digest, size);
      if (fill != null) {
        stats.diskMisses.increment();
        try {
          channel = fill.openChannel();
        } catch (IOException e) {
          diskFailed("reading the fill of " + digest, e);
          return null;
        }
        return channel == null ? null : new DiskSource(channel, fill);
      }
      if (!disk.contains(digest)) {
        break;
      }
    }
    stats.diskMisses.increment();
    return null;
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // A read-only channel loses nothing on a failed close.
    }
  }

  /** Fetches a small blob once for every concurrent reader and keeps it in memory if verified. */
  private byte[] loadSmall(Digest digest, long size) {
    CompletableFuture<byte[]> mine = new CompletableFuture<>();
    CompletableFuture<byte[]> running = smallLoads.putIfAbsent(digest, mine);
    if (running != null) {
      return join(digest, running);
    }
    long start = System.nanoTime();
    try {
      byte[] bytes = Content.readBlob(backing, Descriptor.of(digest, size));
      Digest actual = Digest.of(digest.algorithm(), bytes);
      if (!actual.equals(digest)) {
        // A backing store whose readBlob does not verify: never serve bytes known to be wrong.
        throw DataLossException.digestMismatch(digest, actual);
      }
      stats.recordLoad(start, true);
      memory.put(digest, bytes);
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

  private byte[] readFully(Digest digest, FileChannel channel, long size) {
    try (channel) {
      ByteBuffer buffer = ByteBuffer.allocate((int) size);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, buffer.position()) < 0) {
          entryFailed(digest, "ends at " + buffer.position(), null);
          return null;
        }
      }
      return buffer.array();
    } catch (IOException e) {
      entryFailed(digest, "cannot be read", e);
      return null;
    }
  }

  /** The running fill of {@code digest}, or a new one, or null if the disk tier cannot take it. */
  private Fill joinFill(Digest digest, long size) {
    Fill fill = fills.computeIfAbsent(digest, d -> {
      if (disk.contains(d)) {
        // Installed since our lookup: the caller's next read finds it; no second fetch.
        return null;
      }
      try {
        return new Fill(this, disk, d, size, disk.newStagingFile(d.hex()));
      } catch (IOException e) {
        diskFailed("creating a staging file for " + d, e);
        return null;
      }
    });
    if (fill != null) {
      fill.start();
    }
    return fill;
  }

  // ---- callbacks of fills, readers and writers ----

  ContentStore backing() {
    return backing;
  }

  StatsCounter counters() {
    return stats;
  }

  ExecutorService fillExecutor() {
    return fillExecutor;
  }

  boolean isClosed() {
    return closed.get();
  }

  void fillFinished(Fill fill, boolean diskFailure, Exception failure) {
    fills.remove(fill.digest, fill);
    if (failure == null || closed.get()) {
      return;
    }
    if (diskFailure) {
      diskFailed("filling " + fill.digest, failure);
    } else {
      LOG.debug("fetching blob {} into the cache failed; reading through", fill.digest, failure);
    }
  }

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

  /** Places a written and committed blob's verified copy in the disk tier. */
  void promote(Digest digest, StagingFile staged, long size) throws IOException {
    if (infos != null) {
      infos.invalidate(digest);
    }
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

  private boolean diskUsable() {
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

  // ---- the manager: info cached, changes through ----

  @Override
  public Info info(Digest digest) {
    checkOpen();
    try {
      return infos == null ? backing.info(digest) : infos.get(digest, backing::info);
    } catch (NotFoundException e) {
      evict(digest);
      throw e;
    }
  }

  @Override
  public Info update(Info info, String... fieldpaths) {
    checkOpen();
    try {
      return backing.update(info, fieldpaths);
    } finally {
      forgetInfo(info.digest());
    }
  }

  @Override
  public void walk(Consumer<? super Info> fn, String... filters) {
    checkOpen();
    backing.walk(fn, filters);
  }

  @Override
  public void delete(Digest digest) {
    checkOpen();
    try {
      backing.delete(digest);
    } finally {
      evict(digest);
      // A delete releases the references of the blob's links: a cascade may remove other blobs.
      forgetAllInfo();
    }
  }

  // ---- ingests: through, with a copy of new blobs ----

  @Override
  public Status status(String ref) {
    checkOpen();
    return backing.status(ref);
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    checkOpen();
    return backing.listStatuses(filters);
  }

  @Override
  public void abort(String ref) {
    checkOpen();
    backing.abort(ref);
  }

  @Override
  public Writer writer(String ref, Descriptor descriptor) {
    checkOpen();
    Writer writer = backing.writer(ref, descriptor);
    Digest expected = descriptor == null ? null : descriptor.digest();
    StagingFile staging;
    try {
      // A resumed ingest has bytes this host never saw: the first read fills the cache instead.
      staging = config.cacheOnCommit() && diskUsable() && writer.status().offset() == 0
          ? stagingFileOrNull("ingest") : null;
    } catch (RuntimeException e) {
      try {
        writer.close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    if (staging != null) {
      return TeeWriter.copying(this, writer, expected, staging);
    }
    if (config.cacheOnCommit() && memory != null && config.memoryMaxBlobBytes() > 0
        && writer.status().offset() == 0) {
      return TeeWriter.buffering(this, writer, expected, config.memoryMaxBlobBytes());
    }
    return TeeWriter.plain(this, writer, expected);
  }

  /** Through to the backing store's put (its fast path); the bytes then fill the cache. */
  @Override
  public Info put(byte[] content, Digest expected, Map<String, String> labels) {
    return putThrough(content, expected, labels, false);
  }

  /** Through to the backing store's putAndRef; the bytes then fill the cache. */
  @Override
  public Info putAndRef(byte[] content, Digest expected, Map<String, String> labels) {
    return putThrough(content, expected, labels, true);
  }

  private Info putThrough(byte[] content, Digest expected, Map<String, String> labels,
      boolean takeRef) {
    checkOpen();
    Digest digest = Content.checkPut(content, expected, labels);
    Info info;
    try {
      info = takeRef ? backing.putAndRef(content, digest, labels)
          : backing.put(content, digest, labels);
    } catch (AlreadyExistsException e) {
      // The backing store has these bytes under their digest: they are still a valid entry.
      cacheCommitted(digest, content);
      throw e;
    } finally {
      forgetInfo(digest);
    }
    cacheCommitted(digest, content);
    return info;
  }

  /**
   * Places the verified bytes of a blob committed through a put where a writer's commit would
   * place its copy: the disk tier if usable, else the memory tier.
   */
  private void cacheCommitted(Digest digest, byte[] content) {
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

  private StagingFile stagingFileOrNull(String prefix) {
    try {
      return disk.newStagingFile(prefix);
    } catch (IOException e) {
      diskFailed("creating a staging file", e);
      return null;
    }
  }

  /** Closes a staging file and deletes it unless it was installed. */
  static void discardQuietly(StagingFile staging) {
    try {
      staging.discard();
    } catch (IOException e) {
      LOG.debug("cannot delete staging file {}", staging.path(), e);
    }
  }

  // ---- reference counts: through; a blob may disappear, so its info is refreshed ----

  @Override
  public Info ref(Digest digest) {
    checkOpen();
    try {
      return backing.ref(digest);
    } finally {
      forgetInfo(digest);
    }
  }

  @Override
  public void deref(Digest digest) {
    checkOpen();
    try {
      backing.deref(digest);
    } finally {
      afterReferenceDrop(digest);
    }
  }

  @Override
  public void deref(Digest digest, long incarnation) {
    checkOpen();
    try {
      backing.deref(digest, incarnation);
    } finally {
      afterReferenceDrop(digest);
    }
  }

  @Override
  public void link(Digest to, Digest from) {
    checkOpen();
    try {
      backing.link(to, from);
    } finally {
      forgetInfo(from);
      afterReferenceDrop(to);
    }
  }

  @Override
  public void unlink(Digest to, Digest from) {
    checkOpen();
    try {
      backing.unlink(to, from);
    } finally {
      forgetInfo(from);
      afterReferenceDrop(to);
    }
  }

  /**
   * After a reference of {@code digest} was dropped: if the blob is gone, evict it, and forget
   * every cached info, as the cascade may have removed blobs it linked to.
   */
  private void afterReferenceDrop(Digest digest) {
    forgetInfo(digest);
    try {
      backing.info(digest);
    } catch (NotFoundException e) {
      evict(digest);
      forgetAllInfo();
    } catch (StoreException e) {
      // The next read asks the backing store again anyway.
      LOG.debug("cannot check blob {} after a dereference", digest, e);
    }
  }

  void forgetInfo(Digest digest) {
    if (infos != null && digest != null) {
      infos.invalidate(digest);
    }
  }

  private void evict(Digest digest) {
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

  // ---- maintenance: through; afterwards no cached info is trusted ----

  @Override
  public GcReport gc(GcOptions options) {
    checkOpen();
    try {
      return backing.gc(options);
    } finally {
      forgetAllInfo();
    }
  }

  /** Verifies the backing store's bytes, not the cache's (its entries are verified on install). */
  @Override
  public FsckReport fsck(FsckOptions options) {
    checkOpen();
    try {
      return backing.fsck(options);
    } finally {
      if (options.repair()) {
        forgetAllInfo();
      }
    }
  }

  @Override
  public FsckReport fsck(boolean repair) {
    checkOpen();
    try {
      return backing.fsck(repair);
    } finally {
      if (repair) {
        forgetAllInfo();
      }
    }
  }

  private void forgetAllInfo() {
    if (infos != null) {
      infos.invalidateAll();
    }
  }

  // ---- the cache's own surface ----

  @Override
  public CacheStats stats() {
    long memoryBytes = memory == null ? 0
        : memory.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    return stats.snapshot(memoryBytes, disk == null ? 0 : disk.bytes(),
        config.hasDiskTier() && !diskUsable());
  }

  @Override
  public void clear() {
    forgetAllInfo();
    if (memory != null) {
      memory.invalidateAll();
    }
    if (disk != null) {
      disk.clear();
    }
  }

  /** Runs the caches' pending maintenance (evictions) now. */
  void cleanUp() {
    if (memory != null) {
      memory.cleanUp();
    }
    if (disk != null) {
      disk.cleanUp();
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    RuntimeException failure = null;
    // Running fills may finish (a restart then finds them); stuck ones are interrupted, and those
    // never started end failed, so no reader waits for them.
    fillExecutor.shutdown();
    try {
      if (!fillExecutor.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("cache fills interrupted by close");
        abandon(fillExecutor.shutdownNow());
      }
    } catch (InterruptedException e) {
      abandon(fillExecutor.shutdownNow());
      Thread.currentThread().interrupt();
    }
    try {
      if (disk != null) {
        disk.close();
      }
    } catch (IOException e) {
      failure = new UncheckedIOException("closing cache directory " + config.directory(),
          e);
    }
    if (memory != null) {
      memory.invalidateAll();
    }
    try {
      backing.close();
    } catch (RuntimeException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static void abandon(List<Runnable> neverStarted) {
    for (Runnable task : neverStarted) {
      if (task instanceof Fill fill) {
        fill.abandon();
      }
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new FailedPreconditionException("the caching store is closed");
    }
  }
}
