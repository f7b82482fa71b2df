package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The purge protocol gc and fsck repairs share (docs/architecture.md, "Purges and repairs";
 * PROTO-10): {@code deleting → purging} by CAS, the blob object deleted, the record deleted
 * If-Match; the takeover of a purge whose purger died; the removal of a blob object without a
 * record under a create-only {@code purging} claim. Keeps no state of its own: thread-safe.
 */
final class Purges {
  private static final Logger LOG = LoggerFactory.getLogger(Purges.class);
  /** S3 reports LastModified in whole seconds. */
  private static final Duration LAST_MODIFIED_PRECISION = Duration.ofSeconds(1);

  private final S3Store store;
  private final S3Objects objects;

  Purges(S3Store store) {
    this.store = store;
    this.objects = store.objects;
  }

  /**
   * Purges {@code digest}: {@code deleting → purging} by CAS on {@code found}'s ETag, then the blob
   * object, then the record If-Match; or takes over a record {@code purging} past the purge timeout,
   * deleting the blob object only if S3 stored it before the dead purger's stamp by
   * {@link #takeoverMargin} (PROTO-10).
   *
   * @return whether the record is gone; false if it changed, is another purger's, or this purge
   *     ran out of time
   * @throws dev.coffer.store.StoreException as S3 failed, Unavailable when worth trying again; a
   *     failed DeleteObject of the blob object leaves the record {@code purging}, for a takeover
   *     once the purge timeout has passed
   */
  boolean purge(Digest digest, Versioned found) {
    IndexRecord record = found.record();
    long now = store.now();
    long timeout = store.config.purgeTimeout().toNanos();
    if (record.isLive()
        || record.state() == IndexRecord.State.PURGING && record.stateChangedAt() > now - timeout) {
      return false;
    }
    String etag = objects.putIfMatch(store.keys.index(digest), Json.write(record.purging(now)),
        found.etag());
    if (etag == null) {
      return false;
    }
    boolean takeover = record.state() == IndexRecord.State.PURGING;
    if (takeover) {
      store.metrics.purgeTakeover();
      LOG.info("taking over the purge of {}, abandoned since {}", digest,
          Times.instant(record.stateChangedAt()));
    }
    boolean deleteBlob = !takeover
        || storedBefore(digest, record.stateChangedAt() - takeoverMargin());
    return deleteAsPurger(digest, etag, now, deleteBlob);
  }

  /**
   * The purger's part once its record is {@code purging} at {@code etag}, stamped at
   * {@code stampedAt}: deletes the blob object (if {@code deleteBlob}) with a single attempt,
   * never retried (PROTO-10), then the record If-Match; does nothing once half the purge timeout
   * has passed since the stamp (another host may be taking the purge over).
   *
   * @return whether the record is gone
   * @throws dev.coffer.store.StoreException if a delete failed; the record stays {@code purging}
   */
  private boolean deleteAsPurger(Digest digest, String etag, long stampedAt, boolean deleteBlob) {
    if (store.now() - stampedAt > store.config.purgeTimeout().toNanos() / 2) {
      return false;
    }
    if (deleteBlob) {
      objects.deleteOnce(store.keys.blob(digest));
    }
    return objects.deleteIfMatch(store.keys.index(digest), etag);
  }

  /**
   * Whether the blob object of {@code digest} exists and S3 stored it before {@code cutoff} (the
   * host's clock, nanoseconds since the epoch). Read while this host holds the digest's record,
   * so no committer's record can appear until that record is gone.
   */
  private boolean storedBefore(Digest digest, long cutoff) {
    S3Objects.Head head = objects.head(store.keys.blob(digest));
    return head != null && head.lastModified() != null
        && Times.nanos(head.lastModified()) < cutoff;
  }

  /**
   * How far before a dead purger's stamp a blob object must have been stored for a takeover to
   * delete it: half the purge timeout plus {@link #LAST_MODIFIED_PRECISION} (PROTO-10; the bound
   * assumes the hosts' and S3's clocks agree within half the timeout).
   */
  private long takeoverMargin() {
    return store.config.purgeTimeout().toNanos() / 2 + LAST_MODIFIED_PRECISION.toNanos();
  }

  /**
   * Finishes the purge of {@code digest} if its record is {@code purging} past the purge timeout
   * (its purger died); a record in any other state is left alone.
   */
  void finishStalePurge(Digest digest) {
    S3Objects.Fetched fetched = objects.get(store.keys.index(digest));
    if (fetched != null) {
      Versioned found = new Versioned(
          Json.read(fetched.bytes(), IndexRecord.class, digest.toString()), fetched.etag());
      if (found.record().state() == IndexRecord.State.PURGING) {
        purge(digest, found);
      }
    }
  }

  /**
   * Removes a blob object that has no record: creates a {@code purging} claim create-only (a
   * committer whose record came first wins, and the blob stays), then deletes the object if S3
   * stored it before {@link #orphanCutoff} (read again under the claim, PROTO-10), then the claim.
   *
   * @return whether the object was removed
   */
  boolean purgeOrphan(Digest digest) {
    long now = store.now();
    IndexRecord claim = IndexRecord.live(digest, 0, now, Map.of(), 0, 0).purging(now);
    byte[] json = Json.write(claim);
    String etag = objects.putIfAbsent(store.keys.index(digest), json, json.length, null, Map.of());
    if (etag == null) {
      return false;
    }
    boolean old = storedBefore(digest, orphanCutoff(store.now()));
    return deleteAsPurger(digest, etag, now, old) && old;
  }

  /**
   * The time before which a blob object without a record must have been stored for a repair to
   * remove it: the purge timeout plus {@link #LAST_MODIFIED_PRECISION} before {@code now}
   * (PROTO-10).
   */
  long orphanCutoff(long now) {
    return now - store.config.purgeTimeout().toNanos() - LAST_MODIFIED_PRECISION.toNanos();
  }

  /** An index record and the ETag it was read at. */
  record Versioned(IndexRecord record, String etag) {}

  /**
   * Every index record of the store, read many at once, with its ETag, iterated in the order of
   * their index keys (the order they are listed and handed over in). A walk over them (a repair's,
   * gc's) so makes its changes in an order that depends on the keys alone, the same on every host
   * and run, rather than in a hash map's.
   */
  Map<Digest, Versioned> records() {
    Map<Digest, Versioned> records = new LinkedHashMap<>();
    List<String> keys = new ArrayList<>();
    objects.list(store.keys.indexPrefix(), key -> {
      if (Keys.digestOf(store.keys.indexPrefix(), key) != null) {
        keys.add(key);
      }
    });
    // As many reads in flight as a walk's.
    store.reads().forEach(keys, (key, fetched) -> {
      if (fetched != null) {
        records.put(Keys.digestOf(store.keys.indexPrefix(), key),
            new Versioned(Json.read(fetched.bytes(), IndexRecord.class, key), fetched.etag()));
      }
    });
    return records;
  }
}
