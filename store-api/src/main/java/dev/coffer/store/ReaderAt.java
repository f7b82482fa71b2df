package dev.coffer.store;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Positional reads of one committed blob. Reads at different positions may run concurrently from
 * several threads; {@link #close()} is idempotent and reads after it fail with
 * {@link FailedPreconditionException}.
 */
public interface ReaderAt extends Closeable {

  /**
   * Reads up to {@code dst.remaining()} bytes starting at {@code position} into {@code dst}.
   * A read that reaches the end returns fewer bytes; a read at or past the end returns -1.
   *
   * @return the number of bytes read, or -1 at end of blob
   * @throws InvalidArgumentException if {@code position} is negative
   * @throws NotFoundException if the blob was deleted meanwhile
   */
  int read(ByteBuffer dst, long position);

  /**
   * Reads up to {@code length} bytes starting at {@code position} into {@code buffer} from
   * {@code offset}, with the contract of {@link #read(ByteBuffer, long)}.
   */
  default int read(byte[] buffer, int offset, int length, long position) {
    return read(ByteBuffer.wrap(buffer, offset, length), position);
  }

  /** The blob's size in bytes. */
  long size();

  /**
   * A stream of the blob's bytes from {@code position} to its end, reading through this reader.
   * Closing the stream does not close this reader.
   */
  default InputStream stream(long position) {
    return new ReaderAtInputStream(this, position);
  }

  /**
   * Writes the bytes from {@code position} to {@code position + count} (fewer if the blob ends
   * first) to {@code target} and returns how many it wrote. A reader of a local file may have the
   * operating system copy them (say {@link java.nio.channels.FileChannel#transferTo}) without
   * passing them through the heap; by default they pass through a buffer, read with
   * {@link #read(ByteBuffer, long)}. Not atomic: after a failure some bytes may have been written.
   *
   * @return the number of bytes written, 0 at or past the end of the blob
   * @throws InvalidArgumentException if {@code position} or {@code count} is negative
   * @throws NotFoundException if the blob was deleted meanwhile
   * @throws IOException if {@code target} cannot be written
   */
  default long transferTo(long position, long count, WritableByteChannel target)
      throws IOException {
    if (position < 0 || count < 0) {
      throw new InvalidArgumentException("invalid transfer of " + count + " bytes at " + position);
    }
    ByteBuffer buffer = ByteBuffer.allocate((int) Math.max(1, Math.min(count, 1 << 20)));
    long done = 0;
    while (done < count) {
      buffer.clear();
      buffer.limit((int) Math.min(buffer.capacity(), count - done));
      int n = read(buffer, position + done);
      if (n < 0) {
        break;
      }
      buffer.flip();
      while (buffer.hasRemaining()) {
        target.write(buffer);
      }
      done += n;
    }
    return done;
  }

  /**
   * Whether every byte this reader has served, and will serve, comes from content that was checked
   * against the blob's digest before this reader was opened (a verified cache entry): a caller that
   * sees {@code true} both before and after its reads need not hash what it read again. False by
   * default; it turns false for good if the reader falls back to unverified content mid-way.
   */
  default boolean servesVerifiedContent() {
    return false;
  }

  /**
   * Whether this reader verifies a whole read made in order by itself: when every byte is read
   * from 0 to the end, each read starting where the previous one ended, the reader hashes the
   * bytes as they pass and the read that reaches the end fails with {@link DataLossException} if
   * they do not hash to the blob's digest (INT-2 of docs/architecture.md). A caller reading so need
   * not hash the bytes itself, provided {@link #verifiedInOrderRead()} says afterwards that the
   * pass was checked. False by default.
   */
  default boolean verifiesInOrderReads() {
    return false;
  }

  /**
   * Whether one read of the whole blob, in order from byte 0 to the end, has been made through
   * this reader and its bytes were found by the reader to hash to the blob's digest. Once true it
   * stays true. False by default, and for readers that do not {@link #verifiesInOrderReads()}.
   */
  default boolean verifiedInOrderRead() {
    return false;
  }

  /** Releases the reader's resources; idempotent. */
  @Override
  void close();
}
