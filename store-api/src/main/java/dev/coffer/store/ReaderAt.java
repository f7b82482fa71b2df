package dev.coffer.store;

import java.io.Closeable;
import java.io.InputStream;
import java.nio.ByteBuffer;

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

  /** Releases the reader's resources; idempotent. */
  @Override
  void close();
}
