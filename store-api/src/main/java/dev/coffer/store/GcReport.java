package dev.coffer.store;

import java.time.Duration;
import java.util.List;

/**
 * What one {@link Maintenance#gc} run did.
 *
 * @param blobsPurged blobs removed for good
 * @param bytesFreed bytes of the purged blobs and removed ingests
 * @param ingestsRemoved abandoned ingests removed
 * @param uploadsAborted incomplete multipart uploads aborted
 * @param skipped what was left alone, and why
 * @param elapsed how long the run took
 * @param expired the blobs expired by last use (see {@link GcOptions}), least recently used first;
 *     in a dry run, those that would be: they leave the live blobs and are purged by a later run
 *     once the deletion grace has passed, unless used meanwhile
 * @param bytesExpired the total size of {@code expired}
 */
public record GcReport(long blobsPurged, long bytesFreed, long ingestsRemoved, long uploadsAborted,
    List<Skip> skipped, Duration elapsed, List<Digest> expired, long bytesExpired) {

  public GcReport {
    skipped = List.copyOf(skipped);
    expired = expired == null ? List.of() : List.copyOf(expired);
  }

  /** A report of a run that expired nothing. */
  public GcReport(long blobsPurged, long bytesFreed, long ingestsRemoved, long uploadsAborted,
      List<Skip> skipped, Duration elapsed) {
    this(blobsPurged, bytesFreed, ingestsRemoved, uploadsAborted, skipped, elapsed, List.of(), 0);
  }

  /**
   * One item gc left alone.
   *
   * @param subject the digest, ref or key
   * @param reason why it was skipped, such as "re-referenced during its grace period"
   */
  public record Skip(String subject, String reason) {}
}
