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
 *
 * <p>Each version keeps its parse once made ({@link #parsed}): a tree's record holds a link to
 * each of its files (some 3 MB of JSON for 10,000), every batch of the tree's put changes it from
 * the version its last batch wrote, and parsing that version again at each batch made the put's
 * linker, one thread, spend time that grew with the links made so far.
 * Bounded by weight (the records' bytes, twice for a version kept with its parse, which takes
 * about as much memory again), evicting on the caller's thread, so a simulated run replays; held
 * in memory only, so a host that dies forgets it. Thread-safe.
 */
final class KnownRecords {
  /** The bytes of records kept, at most; a tree of 10,000 files has a record of about 3 MB. */
  static final long MAX_BYTES = 32L << 20;
  /** What an entry costs beside its record's bytes. */
  private static final int ENTRY_BYTES = 160;

  /** A version, and its parse once made (null before). */
  private record Version(S3Objects.Fetched fetched, IndexRecord parsed) {}

  private final Cache<Digest, Version> versions = Caffeine.newBuilder()
      .maximumWeight(MAX_BYTES)
      .weigher((Digest d, Version v) ->
          ENTRY_BYTES + v.fetched().bytes().length * (v.parsed() == null ? 1 : 2))
      .executor(Runnable::run)
      .build();

  /** The version of {@code digest}'s record last known here, or null. */
  S3Objects.Fetched get(Digest digest) {
    Version v = versions.getIfPresent(digest);
    return v == null ? null : v.fetched();
  }

  /**
   * The parse of {@code fetched} if it is the version of {@code digest}'s record known here (the
   * same bytes) and was parsed already, else null.
   */
  IndexRecord parsed(Digest digest, S3Objects.Fetched fetched) {
    Version v = versions.getIfPresent(digest);
    return v != null && v.fetched().bytes() == fetched.bytes() ? v.parsed() : null;
  }

  /**
   * Remembers {@code fetched} as the current version of {@code digest}'s record (its ETag known);
   * null forgets it (the record was found absent).
   */
  void put(Digest digest, S3Objects.Fetched fetched) {
    put(digest, fetched, null);
  }

  /** {@link #put(Digest, S3Objects.Fetched)}, {@code parsed} being its bytes' record, or null. */
  void put(Digest digest, S3Objects.Fetched fetched, IndexRecord parsed) {
    if (fetched == null || fetched.etag() == null) {
      versions.invalidate(digest);
    } else {
      versions.put(digest, new Version(fetched, parsed));
    }
  }

  /**
   * Keeps {@code parsed}, the record {@code fetched} holds, if {@code fetched} is still the
   * version of {@code digest}'s record known here.
   */
  void parsedNow(Digest digest, S3Objects.Fetched fetched, IndexRecord parsed) {
    versions.asMap().computeIfPresent(digest, (d, v) -> v.fetched().bytes() == fetched.bytes()
        ? new Version(v.fetched(), parsed) : v);
  }

  /** Forgets the version of {@code digest}'s record: it changed in a way not known here. */
  void forget(Digest digest) {
    versions.invalidate(digest);
  }
}
