package dev.coffer.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Opens writers (containerd's {@code Ingester}), and stores content already in memory, or in a file
 * whose digest the caller knows, in one step.
 */
public interface Ingester {

  /**
   * Opens, or resumes, the ingest {@code ref} and takes its lock.
   *
   * <p>A new ingest starts at offset 0 with {@code total = descriptor.size()} and the descriptor's
   * expected digest. An existing ingest is resumed at exactly the offset written, with its startedAt
   * and the digest of the bytes already written.
   *
   * @throws InvalidArgumentException if the ref is not valid ({@link Refs#validate})
   * @throws AlreadyExistsException if the descriptor's digest is already committed
   * @throws UnavailableException if another writer holds the ref
   */
  Writer writer(String ref, Descriptor descriptor);

  /**
   * Stores {@code content} as a blob in one step, as a writer's {@link Writer#commit} would, without
   * an ingest a caller can see, resume or abort. The new blob's reference count is 0.
   *
   * <p>Checks in order: labels are validated (InvalidArgument); a non-null {@code expected} other
   * than the content's digest (in the expected digest's algorithm; sha256 when null) fails with
   * FailedPrecondition naming both digests; content already committed fails with AlreadyExists. A
   * deleted blob (one whose last reference was released) is committed anew, as a writer's commit
   * does.
   *
   * <p>The default goes through a writer on the ref {@code put-<algorithm>-<hex>}, waiting up to a
   * minute while a concurrent put of the same content holds it; stores override it with fewer
   * round trips. Thread-safe as the store is.
   *
   * @param content the whole blob; not modified
   * @param expected the expected digest, or null if unknown
   * @param labels labels for the blob; null for none
   * @return the new blob's info
   * @throws InvalidArgumentException if a label is invalid
   * @throws FailedPreconditionException if the content does not have the {@code expected} digest
   * @throws AlreadyExistsException if the content is already committed
   * @throws UnavailableException if a concurrent put of the same content keeps its ref locked
   */
  default Info put(byte[] content, Digest expected, Map<String, String> labels) {
    return Puts.put(this, content, expected, labels, false);
  }

  /**
   * Stores {@code content} as {@link #put} does and takes one reference to it, as
   * {@link Writer#commitAndRef}: new content starts with reference count 1; content already
   * committed gets one more reference instead of failing, and keeps its labels.
   *
   * @return the blob's info after the reference was taken
   * @throws InvalidArgumentException if a label is invalid
   * @throws FailedPreconditionException if the content does not have the {@code expected} digest
   * @throws UnavailableException if a concurrent put of the same content keeps its ref locked
   */
  default Info putAndRef(byte[] content, Digest expected, Map<String, String> labels) {
    return Puts.put(this, content, expected, labels, true);
  }
  /**
   * Stores the content of {@code file}, whose digest the caller knows (it hashed the file), as
   * {@link #put} stores content in memory: no ingest a caller can see, resume or abort; the new
   * blob's reference count is 0. The file is read once, and the bytes read are hashed as they are
   * stored: if they do not have the {@code expected} digest (the file changed since it was
   * hashed), nothing is stored under any digest and the put fails with FailedPrecondition naming
   * both digests. A store whose bytes can go straight to their digest's place (the S3 store: a
   * multipart upload to the digest key, completed only once the bytes sent hash to
   * {@code expected}) skips the commit's copy.
   *
   * <p>Checks in order: labels are validated (InvalidArgument); content already committed fails
   * with AlreadyExists before anything is read; the file is read and its digest compared
   * (FailedPrecondition). A deleted blob is committed anew, as {@link #put} does.
   *
   * <p>The default goes through a writer on the ref {@code put-<algorithm>-<hex>} (as
   * {@link #put}), committed with {@code expected}, and aborts that ingest if the digest differs.
   * Thread-safe as the store is.
   *
   * @param file a regular file, read from its start to its end
   * @param expected the digest of the file's content; required
   * @param labels labels for the blob; null for none
   * @return the new blob's info
   * @throws IOException if the file cannot be read
   * @throws InvalidArgumentException if a label is invalid
   * @throws FailedPreconditionException if the bytes read do not have the {@code expected} digest
   * @throws AlreadyExistsException if the content is already committed
   * @throws UnavailableException if a concurrent put of the same content keeps its ref locked
   */
  default Info putFile(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return Puts.putFile(this, file, expected, labels, false);
  }

  /**
   * Stores the content of {@code file} as {@link #putFile} does and takes one reference to it, as
   * {@link #putAndRef}: new content starts with reference count 1; content already committed gets
   * one more reference instead of failing, and keeps its labels.
   *
   * @return the blob's info after the reference was taken
   * @throws IOException if the file cannot be read
   * @throws InvalidArgumentException if a label is invalid
   * @throws FailedPreconditionException if the bytes read do not have the {@code expected} digest
   * @throws UnavailableException if a concurrent put of the same content keeps its ref locked
   */
  default Info putFileAndRef(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return Puts.putFile(this, file, expected, labels, true);
  }
}
