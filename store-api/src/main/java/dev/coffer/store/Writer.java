package dev.coffer.store;

import java.io.Closeable;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Writes one ingest, identified by its ref, and commits it to a blob.
 *
 * <p>A writer holds its ref's lock from the moment it is opened until it is closed or committed:
 * another {@link Ingester#writer} for the same ref, in this process or on another host, fails with
 * {@link UnavailableException} meanwhile. Closing without committing keeps the ingest, which a later
 * writer for the same ref resumes at exactly the offset written, with the same {@code startedAt} and
 * {@link #digest()}.
 *
 * <p>A writer is used by one thread at a time.
 */
public interface Writer extends Closeable {

  /**
   * Appends the remaining bytes of {@code src} to the ingest.
   *
   * @return the number of bytes written (all remaining bytes)
   * @throws FailedPreconditionException if the writer is closed or committed
   */
  int write(ByteBuffer src);

  /** Appends {@code length} bytes of {@code bytes} from {@code offset}; see {@link #write(ByteBuffer)}. */
  default void write(byte[] bytes, int offset, int length) {
    write(ByteBuffer.wrap(bytes, offset, length));
  }

  /** Appends all of {@code bytes}; see {@link #write(ByteBuffer)}. */
  default void write(byte[] bytes) {
    write(bytes, 0, bytes.length);
  }

  /**
   * The digest of the bytes written so far in this ingest, including those written before a resume,
   * with the algorithm of the expected digest (sha256 when none was given). After a commit, the
   * committed digest.
   */
  Digest digest();

  /**
   * Commits the ingest to a blob. In order: a closed writer fails with FailedPrecondition; labels
   * are validated (InvalidArgument); a negative {@code size} is InvalidArgument; a
   * {@code size > 0} other than the bytes written fails with FailedPrecondition; a non-null
   * {@code expected} other than the digest written fails with FailedPrecondition; content already
   * stored discards the ingest and fails with AlreadyExists; otherwise the blob is stored with
   * {@code createdAt = updatedAt = now} and the labels, and the ingest is removed. FailedPrecondition and InvalidArgument keep the ingest.
   * The new blob's reference count is 0.
   *
   * <p>Whatever the outcome, the writer is closed afterwards and its ref's lock released (as
   * containerd's local store does), so a kept ingest is resumed by opening a new writer.
   *
   * @param size the expected size, or 0 if unknown
   * @param expected the expected digest, or null if unknown
   * @param labels labels for the blob; null for none
   * @throws FailedPreconditionException on a closed writer or a size or digest mismatch
   * @throws AlreadyExistsException if the content is already stored
   * @throws InvalidArgumentException if a label is invalid or {@code size} is negative
   */
  void commit(long size, Digest expected, Map<String, String> labels);

  /**
   * Commits as {@link #commit} and takes one reference to the blob: a new blob starts with reference
   * count 1; content already stored gets one more reference instead of failing, and the ingest is
   * discarded. This is the seed blob store's commit.
   *
   * @return the blob's info after the reference was taken
   * @throws FailedPreconditionException on a closed writer or a size or digest mismatch
   * @throws InvalidArgumentException if a label is invalid or {@code size} is negative
   */
  Info commitAndRef(long size, Digest expected, Map<String, String> labels);

  /**
   * The ingest's status as this writer last knew it: ref, offset (bytes written), total, expected
   * digest, startedAt and updatedAt. Works after close too.
   */
  Status status();

  /**
   * Discards the bytes written beyond {@code size}. Stores support at least {@code truncate(0)},
   * which restarts the ingest (its startedAt is kept).
   *
   * @throws InvalidArgumentException if {@code size} is negative or larger than the offset, or not
   *     supported by the store
   * @throws FailedPreconditionException if the writer is closed or committed
   */
  void truncate(long size);

  /**
   * Releases the ref's lock. Without a commit the ingest stays and can be resumed or aborted.
   * Idempotent; a no-op after a commit.
   */
  @Override
  void close();
}
