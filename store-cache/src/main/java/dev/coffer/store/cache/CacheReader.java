package dev.coffer.store.cache;

import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * A reader of one blob served by a tier of the cache. When the tier cannot serve a read (a failed
 * fill, a disk error, a truncated file), the reader switches for good to a reader of the backing
 * store: a read never fails because of the cache.
 *
 * <p>A reader holds its tier's bytes (an array, an open file, a backing reader) for as long as it is
 * open, which would serve a blob deleted by another host for ever. So a read or transfer asks the
 * store's info (cached for at most the info time-to-live) once the blob was last found stored
 * {@link #RECHECK_AFTER} ago or more, and fails with NotFound, the blob evicted, if it was deleted
 * (PROTO-8).
 */
abstract sealed class CacheReader implements ReaderAt {
  /** What {@link #readCached} returns when the backing store must serve the read. */
  static final int READ_THROUGH = -2;
  /**
   * How long a reader serves without looking its blob up again: 1 minute, the longest info
   * time-to-live, well inside the S3 store's default deletion grace (15 minutes), PROTO-8.
   */
  static final Duration RECHECK_AFTER = Duration.ofMinutes(1);

  final CachingStore store;
  final Digest digest;
  final long size;
  private final LongAdder served;
  private volatile boolean closed;
  /** When the blob was last found stored ({@link CachingStore#ticker()}). */
  private volatile long checkedAt;
  private ReaderAt backingReader; // guarded by this

  CacheReader(CachingStore store, Digest digest, long size, LongAdder served) {
    this.store = store;
    this.digest = digest;
    this.size = size;
    this.served = served;
    // Opened right after the store found the blob's info (readerAt asks it first).
    this.checkedAt = store.ticker().read();
  }

  /** A reader of bytes held in memory. */
  static ReaderAt ofBytes(CachingStore store, Digest digest, byte[] bytes,
      LongAdder served) {
    return new Bytes(store, digest, bytes, served);
  }

  /** A reader of a disk entry or of a fill in progress ({@code fill} non-null). */
  static ReaderAt ofChannel(CachingStore store, Digest digest, long size,
      FileChannel channel, Fill fill, LongAdder served) {
    return new Channel(store, digest, size, channel, fill, served);
  }

  /** A reader straight from the backing store, opened at once so NotFound surfaces here. */
  static ReaderAt ofBacking(CachingStore store, Digest digest, long size) {
    Through reader = new Through(store, digest, size);
    reader.backing();
    return reader;
  }

  /**
   * Reads {@code want} bytes (never more than remain in the blob, at least one) at
   * {@code position} into {@code dst}, or returns {@link #READ_THROUGH} leaving {@code dst}
   * unchanged.
   */
  abstract int readCached(ByteBuffer dst, long position, int want);

  @Override
  public final int read(ByteBuffer dst, long position) {
    if (closed || store.isClosed()) {
      throw new FailedPreconditionException("reader of blob " + digest + " is closed");
    }
    if (position < 0) {
      throw new InvalidArgumentException(
          "invalid read position " + position + " in blob " + digest);
    }
    recheck();
    if (position >= size) {
      return -1;
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    ReaderAt through;
    synchronized (this) {
      through = backingReader;
    }
    if (through == null) {
      int n = readCached(dst, position, (int) Math.min(dst.remaining(), size - position));
      if (n != READ_THROUGH) {
        served.add(n);
        return n;
      }
      through = backing();
    }
    int n = through.read(dst, position);
    if (n > 0) {
      store.counters().backingBytesServed.add(n);
    }
    return n;
  }

  /**
   * Asks the store's info if the blob was last found stored {@link #RECHECK_AFTER} ago.
   *
   * @throws NotFoundException if the blob was deleted (the store evicts it)
   */
  private void recheck() {
    long now = store.ticker().read();
    if (now - checkedAt >= RECHECK_AFTER.toNanos()) {
      store.info(digest);
      checkedAt = now;
    }
  }

  /**
   * Hands the bytes straight from a disk entry's file to {@code target} ({@link
   * FileChannel#transferTo}: no copy through the heap) while this reader is served by a whole,
   * verified entry; otherwise, and from where the entry fails, reads them through a buffer.
   */
  @Override
  public final long transferTo(long position, long count, WritableByteChannel target)
      throws IOException {
    if (closed || store.isClosed()) {
      throw new FailedPreconditionException("reader of blob " + digest + " is closed");
    }
    if (position < 0 || count < 0) {
      throw new InvalidArgumentException("invalid transfer of " + count + " bytes at " + position
          + " in blob " + digest);
    }
    recheck();
    long end = Math.min(size, position + Math.min(count, Long.MAX_VALUE - position));
    long done = 0;
    if (position < end && servesVerifiedContent()) {
      done = transferCached(position, end, target);
      if (done > 0) {
        served.add(done);
      }
    }
    return done + ReaderAt.super.transferTo(position + done, Math.max(0, end - position - done),
        target);
  }

  /**
   * Transfers bytes {@code position} to {@code end} of the tier's content to {@code target}, and
   * returns how many it transferred: all of them, or fewer if the tier failed (and the reader now
   * reads through). Failures of {@code target} are thrown.
   */
  long transferCached(long position, long end, WritableByteChannel target) throws IOException {
    return 0;
  }

  @Override
  public boolean servesVerifiedContent() {
    return false;
  }

  @Override
  public final long size() {
    return size;
  }

  @Override
  public final void close() {
    if (closed) {
      return;
    }
    closed = true;
    ReaderAt through;
    synchronized (this) {
      through = backingReader;
      backingReader = null;
    }
    try {
      closeTier();
    } finally {
      if (through != null) {
        through.close();
      }
    }
  }

  /** Releases the tier's resources. */
  void closeTier() {}

  /** Whether this reader reads through the backing store now (for good). */
  final synchronized boolean readsThrough() {
    return backingReader != null;
  }

  /** Makes every later read go to the backing store. */
  final void switchToBacking() {
    backing();
  }

  /** The reader of the backing store, opened on first use. */
  final synchronized ReaderAt backing() {
    if (backingReader == null) {
      backingReader = store.backing().readerAtHeld(Descriptor.of(digest, size));
    }
    return backingReader;
  }

  private static final class Bytes extends CacheReader {
    private final byte[] bytes;

    Bytes(CachingStore store, Digest digest, byte[] bytes, LongAdder served) {
      super(store, digest, bytes.length, served);
      this.bytes = bytes;
    }

    @Override
    int readCached(ByteBuffer dst, long position, int want) {
      dst.put(bytes, (int) position, want);
      return want;
    }
  }

  private static final class Channel extends CacheReader {
    private final FileChannel channel;
    private final Fill fill;

    Channel(CachingStore store, Digest digest, long size, FileChannel channel, Fill fill,
        LongAdder served) {
      super(store, digest, size, served);
      this.channel = channel;
      this.fill = fill;
    }

    @Override
    int readCached(ByteBuffer dst, long position, int want) {
      if (fill != null && !fill.await(position + want)) {
        fill.throwIfCorrupt(); // never read through bytes known to be wrong (INT-4)
        return READ_THROUGH;
      }
      int start = dst.position();
      int limit = dst.limit();
      dst.limit(start + want);
      try {
        while (dst.hasRemaining()) {
          int n = channel.read(dst, position + dst.position() - start);
          if (n < 0) {
            // Shorter than its verified size: the file was truncated under us.
            store.tiers().entryFailed(digest, "ends at " + (position + dst.position() - start), null);
            dst.position(start);
            return READ_THROUGH;
          }
        }
        return want;
      } catch (IOException e) {
        store.tiers().entryFailed(digest, "cannot be read", e);
        dst.position(start);
        return READ_THROUGH;
      } finally {
        dst.limit(limit);
      }
    }

    @Override
    public boolean servesVerifiedContent() {
      // An entry is opened only once it was verified (DiskTier.open); a fill is not yet.
      return fill == null && !readsThrough();
    }

    @Override
    long transferCached(long position, long end, WritableByteChannel target) throws IOException {
      long at = position;
      while (at < end) {
        long n;
        try {
          n = channel.transferTo(at, end - at, target);
        } catch (IOException e) {
          if (sourceReadable(at)) {
            throw e; // the target failed, not the entry
          }
          store.tiers().entryFailed(digest, "cannot be read", e);
          switchToBacking();
          return at - position;
        }
        if (n <= 0) {
          // transferTo moves nothing only past the file's end: truncated under us.
          store.tiers().entryFailed(digest, "ends at " + at, null);
          switchToBacking();
          return at - position;
        }
        at += n;
      }
      return at - position;
    }

    /** Whether the entry's file still reads at {@code position}. */
    private boolean sourceReadable(long position) {
      try {
        return channel.read(ByteBuffer.allocate(1), position) == 1;
      } catch (IOException e) {
        return false;
      }
    }

    @Override
    void closeTier() {
      try {
        channel.close();
      } catch (IOException e) {
        // A read-only channel has nothing to flush; nothing is lost.
      }
    }
  }

  private static final class Through extends CacheReader {
    Through(CachingStore store, Digest digest, long size) {
      super(store, digest, size, store.counters().backingBytesServed);
    }

    @Override
    int readCached(ByteBuffer dst, long position, int want) {
      return READ_THROUGH;
    }
  }
}
