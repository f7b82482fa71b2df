package dev.coffer.store.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.coffer.store.Digest;

/**
 * The last version of each index record that this store instance wrote, or read while changing
 * it, with its ETag: where a record change may start instead of reading the record.
 *
 * <p>Only a hint. A version another host has replaced since costs the compare-and-swap that
 * starts from it one refused write (412, or 404 for a record deleted meanwhile), after which the
 * change reads the record exactly as it would have without this: the stale entry costs that one
 * request and the read it would have made anyway, and no outcome is taken from it that a
 * conditional write did not confirm (see {@link IndexRecords#casKnown}, {@link LinkNew} and
 * {@link MarkRemovals}).
 * Bounded by weight (the records' bytes), evicting on the caller's thread, so a simulated run
 * replays; held in memory only, so a host that dies forgets it. Thread-safe.
 */
final class KnownRecords {
  /** The bytes of records kept, at most; a tree of 10,000 files has a record of about 2 MB. */
  static final long MAX_BYTES = 32L << 20;
  /** What an entry costs beside its record's bytes. */
  private static final int ENTRY_BYTES = 160;

  private final Cache<Digest, S3Objects.Fetched> versions = Caffeine.newBuilder()
      .maximumWeight(MAX_BYTES)
      .weigher((Digest d, S3Objects.Fetched f) -> ENTRY_BYTES + f.bytes().length)
      .executor(Runnable::run)
      .build();

  /** The version of {@code digest}'s record last known here, or null. */
  S3Objects.Fetched get(Digest digest) {
    return versions.getIfPresent(digest);
  }

  /**
   * Remembers {@code fetched} as the current version of {@code digest}'s record (its ETag known);
   * null forgets it (the record was found absent).
   */
  void put(Digest digest, S3Objects.Fetched fetched) {
    if (fetched == null || fetched.etag() == null) {
      versions.invalidate(digest);
    } else {
      versions.put(digest, fetched);
    }
  }

  /** Forgets the version of {@code digest}'s record: it changed in a way not known here. */
  void forget(Digest digest) {
    versions.invalidate(digest);
  }
}
