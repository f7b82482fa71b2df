package dev.coffer.store;

/**
 * Garbage collection and consistency checks of the store's backing storage. Both are online: they
 * are safe to run from several hosts at once and while others read and write.
 */
public interface Maintenance {

  /**
   * Purges blobs whose deletion grace period has passed, and removes abandoned ingests (no live
   * writer, last written longer ago than {@code options.ingestAge()}) with everything they stored.
   * A blob that was re-committed or re-referenced meanwhile is never purged.
   *
   * @return what was removed, and what was skipped and why
   */
  GcReport gc(GcOptions options);

  /**
   * Compares what the store records with what it holds and reports every inconsistency; with
   * {@code repair}, fixes those that can be fixed without deleting anything still referenced.
   *
   * @return the findings, each marked repaired or not
   */
  FsckReport fsck(boolean repair);

  /**
   * As {@link #fsck(boolean)} with {@code options.repair()}, and with {@code options.verify()}
   * also reads and hashes the live blobs (or a sample), {@code options.parallelism()} at once,
   * reporting corrupt ones (INT-3 of docs/architecture.md). This default cannot verify.
   *
   * @throws InvalidArgumentException if verification is asked of a store that cannot do it
   */
  default FsckReport fsck(FsckOptions options) {
    if (options.verify()) {
      throw new InvalidArgumentException("this store cannot verify its content");
    }
    return fsck(options.repair());
  }
}
