package dev.coffer.store;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link Maintenance#gc}.
 *
 * <p>Retention by last use: with {@code unusedFor}, gc expires every blob without a reference
 * whose last use ({@link Info#lastUsedAt}) is older than it; with {@code maxBytes}, it expires the
 * least recently used blobs without a reference until the live blobs total at most that many
 * bytes. An expired blob enters the store's deletion states like a deleted one (a later gc purges
 * it after the store's deletion grace), except that a use of it within that grace — a read, an
 * info, a reference, a commit of its bytes — brings it back. A blob with a reference (held
 * directly or by another blob's link) is never expired.
 *
 * @param ingestAge how long an ingest must have gone unwritten, with no live writer, before it is
 *     removed; at least zero
 * @param dryRun whether to only report what would be removed or expired, writing nothing
 * @param unusedFor expire blobs without a reference unused for longer than this; null for no
 *     expiry by age; at least zero
 * @param maxBytes expire the least recently used blobs without a reference until the live blobs
 *     total at most this many bytes; negative for no limit
 */
public record GcOptions(Duration ingestAge, boolean dryRun, Duration unusedFor, long maxBytes) {

  /** The default age of an abandoned ingest: one day. */
  public static final Duration INGEST_AGE_DEFAULT = Duration.ofDays(1);

  /** No limit on the live total ({@link #maxBytes}). */
  public static final long NO_LIMIT = -1;

  /** Removes ingests abandoned for a day; not a dry run; expires nothing. */
  public static final GcOptions DEFAULTS = new GcOptions(INGEST_AGE_DEFAULT, false);

  public GcOptions {
    Objects.requireNonNull(ingestAge, "ingestAge");
    if (ingestAge.isNegative()) {
      throw new InvalidArgumentException("invalid ingest age " + ingestAge + ": must not be negative");
    }
    if (unusedFor != null && unusedFor.isNegative()) {
      throw new InvalidArgumentException("invalid unused-for " + unusedFor
          + ": must not be negative");
    }
    if (maxBytes < 0) {
      maxBytes = NO_LIMIT;
    }
  }

  /** Options that expire nothing by last use. */
  public GcOptions(Duration ingestAge, boolean dryRun) {
    this(ingestAge, dryRun, null, NO_LIMIT);
  }

  /** Whether these options expire anything by last use. */
  public boolean expires() {
    return unusedFor != null || maxBytes >= 0;
  }

  /** A copy that expires blobs without a reference unused for longer than {@code age}. */
  public GcOptions withUnusedFor(Duration age) {
    return new GcOptions(ingestAge, dryRun, age, maxBytes);
  }

  /** A copy that expires least recently used blobs until the live total is at most {@code max}. */
  public GcOptions withMaxBytes(long max) {
    return new GcOptions(ingestAge, dryRun, unusedFor, max);
  }
}
