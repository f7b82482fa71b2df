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
 */
public record GcReport(long blobsPurged, long bytesFreed, long ingestsRemoved, long uploadsAborted,
    List<Skip> skipped, Duration elapsed) {

  public GcReport {
    skipped = List.copyOf(skipped);
  }

  /**
   * One item gc left alone.
   *
   * @param subject the digest, ref or key
   * @param reason why it was skipped, such as "re-referenced during its grace period"
   */
  public record Skip(String subject, String reason) {}
}
