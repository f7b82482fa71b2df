package dev.coffer.store.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Writer;
import dev.coffer.store.spi.Checks;
import dev.coffer.store.spi.ForwardingContentStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The caching store: routes each read to the tier that serves it (the memory tier for small
 * blobs, the disk tier for blobs up to its bound, single-flight fills from the backing store) and
 * each write through to the backing store with a copy for the tiers. The tiers' state is
 * {@link Tiers}, the fetches {@link Fills}; changes to the backing store go through
 * {@link ChangesThrough}, which makes the tiers forget what they made stale; everything else is
 * forwarded.
 *
 * <p>Every read starts from the blob's info, cached or refreshed, so a blob deleted elsewhere stops
 * being served once its info expires, and a NotFound from the backing store evicts the blob. An
 * open reader asks the info again once its last look is {@link CacheReader#RECHECK_AFTER} old.
 */
final class CachingStore extends ForwardingContentStore implements CachedContentStore {
  private final ContentStore backing;
  private final CacheConfig config;
  private final Ticker ticker;
  private final Tiers tiers;
  private final Fills fills;
  private final ChangesThrough changes;

  /**
   * A cache over {@code backing}; {@code executor} runs the caches' maintenance, {@code
   * fillExecutor} the fills (null: the cache's own fill threads), {@code indexExecutor} the disk
   * tier's indexing of the entries found at start.
   */
  CachingStore(ContentStore backing, CacheConfig config, Executor executor, Executor fillExecutor,
      Executor indexExecutor, Ticker ticker) {
    this.backing = backing;
    this.config = config;
    this.ticker = ticker;
    this.tiers = new Tiers(config, executor, indexExecutor, ticker);
    this.fills = new Fills(backing, tiers, fillExecutor);
    this.changes = new ChangesThrough(backing, tiers);
  }

  /** Every operation not routed here goes through {@link ChangesThrough}, while open. */
  @Override
  protected ContentStore delegate() {
    checkOpen();
    return changes;
  }

  // ---- reads ----

  /**
   * Through the tiers as any read, but with the caller's size and without looking the blob's info
   * up: the caller's knowledge that it is held stands for it (a tree's file while the tree lives).
   * A miss is fetched with the backing store's {@code readerAtHeld} (on S3 one GET). Without a
   * size, {@link #readerAt(Descriptor)}.
   */
  @Override
  public ReaderAt readerAtHeld(Descriptor descriptor) {
    checkOpen();
    if (descriptor.size() <= 0) {
      return readerAt(descriptor);
    }
    return read(descriptor.requireDigest(), descriptor.size());
  }

  /**
   * Looks the blob's info up (through the info tier), then reads through the tiers; a miss is
   * fetched with the backing store's {@code readerAtHeld}, since that info was just found live.
   */
  @Override
  public ReaderAt readerAt(Descriptor descriptor) {
    checkOpen();
    Digest digest = descriptor.requireDigest();
    return read(digest, info(digest).size());
  }

  /** Serves {@code size} bytes of {@code digest}, known to be held, from the tiers or a fetch. */
  private ReaderAt read(Digest digest, long size) {
    StatsCounter stats = tiers.counters();
    if (tiers.fitsMemory(size)) {
      byte[] bytes = tiers.inMemory(digest);
      if (bytes != null && bytes.length == size) {
        stats.memoryHits.increment();
        return CacheReader.ofBytes(this, digest, bytes, stats.memoryBytesServed);
      }
      stats.memoryMisses.increment();
      return readSmall(digest, size);
    }
    if (tiers.diskUsable() && size <= config.diskMaxBytes()) {
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
    StatsCounter stats = tiers.counters();
    return CacheReader.ofChannel(this, digest, size, source.channel(), source.fill(),
        source.fill() == null ? stats.diskBytesServed : stats.backingBytesServed);
  }

  /** Reads a blob small enough for the memory tier, through the disk tier or straight. */
  private ReaderAt readSmall(Digest digest, long size) {
    StatsCounter stats = tiers.counters();
    DiskSource source =
        tiers.diskUsable() && size <= config.diskMaxBytes() ? diskSource(digest, size) : null;
    if (source != null) {
      if (source.fill() != null && !source.fill().await(size)) {
        closeQuietly(source.channel());
        source.fill().throwIfCorrupt();
      } else {
        byte[] bytes = readFully(digest, source.channel(), size);
        if (bytes != null) {
          tiers.keepInMemory(digest, bytes);
          return CacheReader.ofBytes(this, digest, bytes,
              source.fill() == null ? stats.diskBytesServed : stats.backingBytesServed);
        }
      }
    }
    return CacheReader.ofBytes(this, digest, fills.loadSmall(digest, size),
        stats.backingBytesServed);
  }

  /** Where the disk tier serves a blob from: its entry ({@code fill} null) or a running fill. */
  private record DiskSource(FileChannel channel, Fill fill) {}

  /**
   * The disk entry of a blob, or a reader's channel on its (new or joined) fill, or null.
   *
   * @throws DataLossException if the fill joined has already failed verification
   */
  private DiskSource diskSource(Digest digest, long size) {
    StatsCounter stats = tiers.counters();
    DiskTier disk = tiers.disk();
    // Two attempts: a fill may install the entry between the lookup and joining it.
    for (int attempt = 0; attempt < 2; attempt++) {
      FileChannel channel = disk.open(digest, size, config.verifyOnOpen());
      if (channel != null) {
        stats.diskHits.increment();
        return new DiskSource(channel, null);
      }
      Fill fill = fills.join(digest, size);
      if (fill != null) {
        stats.diskMisses.increment();
        try {
          channel = fill.openChannel();
        } catch (IOException e) {
          tiers.diskFailed("reading the fill of " + digest, e);
          return null;
        }
        if (channel == null) {
          // The fill ended before this reader opened it. If its bytes did not match the digest,
          // this reader fails as the fill's other readers do: reading through would serve them
          // unverified, fetching again would count the one corrupt fetch twice (INT-4).
          fill.throwIfCorrupt();
          return null;
        }
        return new DiskSource(channel, fill);
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

  private byte[] readFully(Digest digest, FileChannel channel, long size) {
    try (channel) {
      ByteBuffer buffer = ByteBuffer.allocate((int) size);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, buffer.position()) < 0) {
          tiers.entryFailed(digest, "ends at " + buffer.position(), null);
          return null;
        }
      }
      return buffer.array();
    } catch (IOException e) {
      tiers.entryFailed(digest, "cannot be read", e);
      return null;
    }
  }

  @Override
  public Info info(Digest digest) {
    checkOpen();
    try {
      return tiers.info(digest, backing::info);
    } catch (NotFoundException e) {
      tiers.evict(digest);
      throw e;
    }
  }

  // ---- for readers and writers ----

  ContentStore backing() {
    return backing;
  }

  /** The time source of info expiry and of readers' rechecks. */
  Ticker ticker() {
    return ticker;
  }

  StatsCounter counters() {
    return tiers.counters();
  }

  Tiers tiers() {
    return tiers;
  }

  boolean isClosed() {
    return tiers.isClosed();
  }

  // ---- writes: through, with a copy of new blobs ----

  @Override
  public Writer writer(String ref, Descriptor descriptor) {
    checkOpen();
    Writer writer = backing.writer(ref, descriptor);
    Digest expected = descriptor == null ? null : descriptor.digest();
    StagingFile staging;
    try {
      // A resumed ingest has bytes this host never saw: the first read fills the cache instead.
      staging = config.cacheOnCommit() && tiers.diskUsable() && writer.status().offset() == 0
          ? tiers.stagingFileOrNull("ingest") : null;
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
    if (config.cacheOnCommit() && tiers.hasMemory() && config.memoryMaxBlobBytes() > 0
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

  /**
   * Through to the backing store's putFile (its fast path: on S3 straight to the digest key); the
   * file's bytes do not fill the cache, and what the cache knew of the digest is forgotten.
   */
  @Override
  public Info putFile(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return putFileThrough(expected, () -> backing.putFile(file, expected, labels));
  }

  /** Through to the backing store's putFileAndRef, as {@link #putFile}. */
  @Override
  public Info putFileAndRef(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return putFileThrough(expected, () -> backing.putFileAndRef(file, expected, labels));
  }

  /** A put of a file by the backing store, forgetting what the cache knew of the digest. */
  private Info putFileThrough(Digest expected, FilePut put) throws IOException {
    checkOpen();
    try {
      return put.run();
    } finally {
      if (expected != null) {
        tiers.forgetInfo(expected);
      }
    }
  }

  /** The backing store's put of a file. */
  @FunctionalInterface
  private interface FilePut {
    Info run() throws IOException;
  }

  private Info putThrough(byte[] content, Digest expected, Map<String, String> labels,
      boolean takeRef) {
    checkOpen();
    Digest digest = Checks.put(content, expected, labels);
    Info info;
    try {
      info = takeRef ? backing.putAndRef(content, digest, labels)
          : backing.put(content, digest, labels);
    } catch (AlreadyExistsException e) {
      // The backing store has these bytes under their digest: they are still a valid entry.
      tiers.cacheCommitted(digest, content);
      throw e;
    } finally {
      tiers.forgetInfo(digest);
    }
    tiers.cacheCommitted(digest, content);
    return info;
  }

  // ---- the cache's own surface ----

  @Override
  public CacheStats stats() {
    return tiers.stats(true);
  }

  @Override
  public CacheStats statsNow() {
    return tiers.stats(false);
  }

  @Override
  public void clear() {
    tiers.clear();
  }

  @Override
  public void close() {
    if (!tiers.markClosed()) {
      return;
    }
    RuntimeException failure = null;
    fills.close();
    try {
      tiers.close();
    } catch (RuntimeException e) {
      failure = e;
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

  private void checkOpen() {
    if (tiers.isClosed()) {
      throw new FailedPreconditionException("the caching store is closed");
    }
  }
}
