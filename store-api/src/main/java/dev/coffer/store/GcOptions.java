package dev.coffer.store;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link Maintenance#gc}.
 *
 * @param ingestAge how long an ingest must have gone unwritten, with no live writer, before it is
 *     removed; at least zero
 * @param dryRun whether to only report what would be removed
 */
public record GcOptions(Duration ingestAge, boolean dryRun) {

  /** The default age of an abandoned ingest: one day. */
  public static final Duration INGEST_AGE_DEFAULT = Duration.ofDays(1);

  /** Removes ingests abandoned for a day; not a dry run. */
  public static final GcOptions DEFAULTS = new GcOptions(INGEST_AGE_DEFAULT, false);

  public GcOptions {
    Objects.requireNonNull(ingestAge, "ingestAge");
    if (ingestAge.isNegative()) {
      throw new InvalidArgumentException("invalid ingest age " + ingestAge + ": must not be negative");
    }
  }
}
