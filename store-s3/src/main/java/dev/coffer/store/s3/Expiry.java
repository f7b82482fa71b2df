package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * gc's expiry by last use (RET-2): moves live blobs without a reference whose recorded last use
 * is older than the limit, or the least recently used of them while the live total exceeds
 * {@link GcOptions#maxBytes}, into {@code deleting} (marked expired), each by a compare-and-swap
 * that gives up if the blob gained a reference or a newer use meanwhile; then releases what their
 * links hold, expiring what that leaves without a reference (RET-4). A later gc purges them after
 * the deletion grace, as deleted blobs; a use before that brings them back (RET-3). One instance
 * serves one gc run.
 */
final class Expiry {
  private final S3Store store;

  /**
   * What one run expired.
   *
   * @param expired the blobs expired (or, in a dry run, that would be), least recently used first
   * @param bytes their total size
   */
  record Outcome(List<Digest> expired, long bytes) {}

  Expiry(S3Store store) {
    this.store = store;
  }

  /**
   * Expires what {@code options} (or, when they name no age, the store's configured {@code
   * unusedFor}) select among {@code records}, the records as gc has just listed them.
   *
   * @throws InvalidArgumentException if the age is below the touch interval: a blob in use could
   *     then look unused, its last use recorded up to one interval late
   */
  Outcome run(GcOptions options, Map<Digest, Purges.Versioned> records,
      List<GcReport.Skip> skipped) {
    Duration unusedFor = options.unusedFor() != null ? options.unusedFor()
        : store.config.unusedFor().orElse(null);
    long maxBytes = options.maxBytes();
    if (unusedFor == null && maxBytes < 0) {
      return new Outcome(List.of(), 0);
    }
    Duration interval = store.config.touchInterval();
    if (unusedFor != null && unusedFor.compareTo(interval) < 0) {
      throw new InvalidArgumentException("unused-for " + unusedFor + " is below the touch interval "
          + interval + ": a blob in use could look unused");
    }
    long now = store.now();
    long cutoff = unusedFor == null ? Long.MIN_VALUE : now - unusedFor.toNanos();
    long total = 0;
    List<IndexRecord> unreferenced = new ArrayList<>();
    for (Purges.Versioned found : records.values()) {
      IndexRecord record = found.record();
      if (record.isLive()) {
        total += record.size();
        if (record.refCount() == 0) {
          unreferenced.add(record);
        }
      }
    }
    unreferenced.sort(Comparator.comparingLong(IndexRecord::lastUsed)
        .thenComparing(IndexRecord::digest));
    List<Digest> expired = new ArrayList<>();
    long bytes = 0;
    for (IndexRecord candidate : unreferenced) {
      boolean old = candidate.lastUsed() < cutoff;
      boolean over = maxBytes >= 0 && total > maxBytes;
      if (!old && !over) {
        break; // the rest were used later still
      }
      Digest digest = Digest.parse(candidate.digest());
      if (options.dryRun() || expire(digest, candidate, now, skipped)) {
        expired.add(digest);
        bytes += candidate.size();
        total -= candidate.size();
      }
    }
    return new Outcome(expired, bytes);
  }

  /**
   * Expires {@code digest} unless, since gc listed it as {@code listed}, it gained a reference,
   * a newer use, or left the live state; then releases what its links hold.
   */
  private boolean expire(Digest digest, IndexRecord listed, long now,
      List<GcReport.Skip> skipped) {
    AtomicReference<String> kept = new AtomicReference<>();
    IndexRecord after;
    try {
      after = store.records().casIndex(digest, record -> {
        kept.set(null);
        if (record == null || !record.isLive()) {
          kept.set("deleted during gc");
        } else if (record.refCount() > 0) {
          kept.set("referenced during gc");
        } else if (record.lastUsed() > listed.lastUsed()) {
          kept.set("used during gc");
        } else {
          return record.expiring(now);
        }
        return null;
      });
    } catch (StoreException e) {
      skipped.add(new GcReport.Skip(digest.toString(), "not expired: " + e.getMessage()));
      return false;
    }
    if (kept.get() != null) {
      skipped.add(new GcReport.Skip(digest.toString(), "not expired: " + kept.get()));
      return false;
    }
    store.records().mirrorTags(digest, after);
    store.references().cascade(after, digest, true);
    return true;
  }
}
