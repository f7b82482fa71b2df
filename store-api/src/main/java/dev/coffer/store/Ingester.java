package dev.coffer.store;

import java.util.Map;

/**
 * Opens writers (containerd's {@code Ingester}), and stores content already in memory in one step.
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
}
