package dev.coffer.store.cache;

import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.ReaderAt;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.LongAdder;

/**
 * A reader of one blob served by a tier of the cache. When the tier cannot serve a read (a failed
 * fill, a disk error, a truncated file), the reader switches for good to a reader of the backing
 * store: a read never fails because of the cache.
 */
abstract sealed class CacheReader implements ReaderAt {
  /** What {@link #readCached} returns when the backing store must serve the read. */
  static final int READ_THROUGH = -2;

  final CachingContentStore store;
  final Digest digest;
  final long size;
  private final LongAdder served;
  private volatile boolean closed;
  private ReaderAt backingReader; // guarded by this

  CacheReader(CachingContentStore store, Digest digest, long size, LongAdder served) {
    this.store = store;
    this.digest = digest;
    this.size = size;
    this.served = served;
  }

  /** A reader of bytes held in memory. */
  static ReaderAt ofBytes(CachingContentStore store, Digest digest, byte[] bytes,
      LongAdder served) {
    return new Bytes(store, digest, bytes, served);
  }

  /** A reader of a disk entry or of a fill in progress ({@code fill} non-null). */
  static ReaderAt ofChannel(CachingContentStore store, Digest digest, long size,
      FileChannel channel, Fill fill, LongAdder served) {
    return new Channel(store, digest, size, channel, fill, served);
  }

  /** A reader straight from the backing store, opened at once so NotFound surfaces here. */
  static ReaderAt ofBacking(CachingContentStore store, Digest digest, long size) {
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

  /** The reader of the backing store, opened on first use. */
  final synchronized ReaderAt backing() {
    if (backingReader == null) {
      backingReader = store.backing().readerAt(Descriptor.of(digest, size));
    }
    return backingReader;
  }

  private static final class Bytes extends CacheReader {
    private final byte[] bytes;

    Bytes(CachingContentStore store, Digest digest, byte[] bytes, LongAdder served) {
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

    Channel(CachingContentStore store, Digest digest, long size, FileChannel channel, Fill fill,
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
            store.entryFailed(digest, "ends at " + (position + dst.position() - start), null);
            dst.position(start);
            return READ_THROUGH;
          }
        }
        return want;
      } catch (IOException e) {
        store.entryFailed(digest, "cannot be read", e);
        dst.position(start);
        return READ_THROUGH;
      } finally {
        dst.limit(limit);
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
    Through(CachingContentStore store, Digest digest, long size) {
      super(store, digest, size, store.counters().backingBytesServed);
    }

    @Override
    int readCached(ByteBuffer dst, long position, int want) {
      return READ_THROUGH;
    }
  }
}
