package dev.coffer.store;

import java.nio.ByteBuffer;

/** A random-access source over bytes that records the lowest position read. */
final class BytesReaderAt implements ReaderAt {
  private final byte[] bytes;
  private long lowestRead = Long.MAX_VALUE;

  BytesReaderAt(byte[] bytes) {
    this.bytes = bytes;
  }

  @Override
  public int read(ByteBuffer dst, long position) {
    if (position < 0) {
      throw new InvalidArgumentException("invalid read position " + position);
    }
    if (position >= bytes.length) {
      return -1;
    }
    lowestRead = Math.min(lowestRead, position);
    int n = (int) Math.min(dst.remaining(), bytes.length - position);
    dst.put(bytes, (int) position, n);
    return n;
  }

  @Override
  public long size() {
    return bytes.length;
  }

  @Override
  public void close() {}

  /** The lowest position a read started at, {@link Long#MAX_VALUE} if none read bytes. */
  long lowestRead() {
    return lowestRead;
  }
}
