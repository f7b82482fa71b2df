package dev.coffer.store.memory;

import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.ReaderAt;

/** Positional reads over an immutable byte array. */
final class MemoryReader implements ReaderAt {
  private final Digest digest;
  private final byte[] data;
  private volatile boolean closed;

  MemoryReader(Digest digest, byte[] data) {
    this.digest = digest;
    this.data = data;
  }

  @Override
  public int read(java.nio.ByteBuffer dst, long position) {
    if (closed) {
      throw new FailedPreconditionException("reader of " + digest + " is closed");
    }
    if (position < 0) {
      throw new InvalidArgumentException("invalid read position " + position + " in " + digest);
    }
    if (position >= data.length) {
      return dst.hasRemaining() ? -1 : 0;
    }
    int count = (int) Math.min(dst.remaining(), data.length - position);
    dst.put(data, (int) position, count);
    return count;
  }

  @Override
  public long size() {
    return data.length;
  }

  @Override
  public void close() {
    closed = true;
  }
}
