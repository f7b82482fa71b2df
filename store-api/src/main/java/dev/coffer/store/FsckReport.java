package dev.coffer.store;

import java.util.List;

/**
 * What one {@link Maintenance#fsck} run found.
 *
 * @param blobsChecked how many blob records were checked
 * @param findings every inconsistency found
 */
public record FsckReport(long blobsChecked, List<Finding> findings) {

  public FsckReport {
    findings = List.copyOf(findings);
  }

  /** Whether nothing was found, or everything found was repaired. */
  public boolean clean() {
    return findings.stream().allMatch(Finding::repaired);
  }

  /** The kinds of inconsistency. */
  public enum Kind {
    /** Content stored with no index record: an interrupted commit or a purge. */
    BLOB_WITHOUT_RECORD,
    /** A live index record whose content is missing. */
    RECORD_WITHOUT_BLOB,
    /** Object tags that disagree with the index record (the record is the truth). */
    TAG_DRIFT,
    /** A link to a blob that does not exist. */
    DANGLING_LINK,
    /** A record stuck in deletion that gc has not finished. */
    STALE_DELETION,
    /** An ingest with no live writer and no data, or data without a record. */
    ORPHAN_INGEST,
    /**
     * A live blob whose stored bytes do not hash to its digest or differ from its size (found
     * only with {@link FsckOptions#verify()}); a repair makes the next commit of the true bytes
     * restore it, with its references, links and labels.
     */
    CORRUPT_BLOB,
    /**
     * A reference taken for a link ({@code linkNew}) that was never made, older than the store's
     * bound for a call still under way; a repair gives it back (TREE-3).
     */
    PENDING_LINK_MARK
  }

  /**
   * One inconsistency.
   *
   * @param kind what is wrong
   * @param subject the digest, ref or key concerned
   * @param detail a sentence saying what was found
   * @param repaired whether this run repaired it
   */
  public record Finding(Kind kind, String subject, String detail, boolean repaired) {}
}
