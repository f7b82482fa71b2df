package dev.coffer.store;

/** Opens writers (containerd's {@code Ingester}). */
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
}
