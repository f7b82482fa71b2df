package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The purge protocol, shared by gc and fsck repairs: a record in {@code deleting} for longer than
 * the deletion grace becomes {@code purging} (CAS); then the blob object is deleted; then the
 * record is deleted If-Match. A committer that finds {@code deleting} resurrects the blob instead,
 * and one that finds {@code purging} waits for the purge to end, so a blob object is only deleted
 * while its record says {@code purging} and nobody writes it. A blob object without a record is
 * removed through the same protocol, under a create-only {@code purging} claim.
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
   * deleting → purging (CAS), delete the blob object, delete the record If-Match. A record already
   * {@code purging} is another purger's until {@link S3StoreConfig#purgeTimeout()} has passed since
   * its stamp; then this purge stamps it anew by CAS and takes it over. A purger that is half the
   * timeout past its own stamp before deleting the object gives up, so no two purgers ever believe
   * they own one record and no purger deletes an object a later committer stored.
   *
   * <p>The first purger (a record moved from {@code deleting}) deletes the object without looking:
   * a put or commit whose own create-only PutObject created the object found no object there, so
   * unless that record had already lost its object, this purger's delete came before that put
   * (the put then stores or restores the bytes after the record is gone, see
   * {@link BlobPublisher#publish}); the DeleteObject is sent once (see {@link #deleteAsPurger}),
   * and the exception is one that reaches S3 late, sent before its check but held in the network
   * or a paused process past a takeover, the residual risk described in the S3 store's
   * documentation. A takeover deletes the object a second time, possibly after such a
   * put stored it anew, so it deletes only an object stored before the dead purger's stamp (see
   * {@link #takeoverMargin}), and otherwise only the record, leaving the newer object to the
   * committer that stored it (or to a later fsck once it is old).
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
   * {@code stampedAt}: delete the blob object (if {@code deleteBlob}), then the record If-Match,
   * unless half the purge timeout has passed since the stamp (then another host may be taking the
   * purge over).
   *
   * <p>The blob object's DeleteObject is sent once, never retried, by the SDK or here. A put whose
   * own PutObject created the object, with its record close behind, skips the look for it
   * ({@link BlobPublisher}); it created the object because it was absent, so this purge's delete,
   * if it was the one that removed it, had already been applied, and one delete applies once. A
   * retry of an applied delete whose answer was lost would instead remove the put's new object
   * just before the record below goes and the put's record is created: a live record without
   * bytes. So a failed attempt (its outcome unknown) ends this purge with the record left
   * {@code purging}; the failure goes to the caller, and a takeover past the purge timeout
   * finishes the purge, deleting only an object stored before this stamp. What remains is a
   * delete that reaches S3 late, after the takeover: sent before half the timeout had passed
   * (the check above) but held in the network or in a paused process for more than the other
   * half, the residual risk the S3 store's documentation describes for a paused purger.
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
   * delete it: half the purge timeout plus {@link #LAST_MODIFIED_PRECISION}.
   *
   * <p>Why it is safe ({@code B} is the purge timeout). The store already assumes, for leases and
   * for this timeout, that the hosts' clocks agree within {@code B/2}; S3's clock (which stamps
   * LastModified, truncated to the second) is held to the same bound. A put that stored the object
   * after the dead purger's stamp {@code s} has a LastModified of at least {@code s - B/2 - 1 s},
   * so it is spared. An object the takeover does delete has a LastModified below that, so it was
   * stored before the stamp in real time; the takeover's own stamp is {@code B} past {@code s} on
   * the clocks, at least {@code B/2} later in real time. A put that stored such an object creates
   * its record only after the takeover deletes the record, more than {@code B/2} after its
   * PutObject, so it looks for the object and restores it ({@link BlobPublisher}). Too wide a
   * margin costs nothing but an object left without a record, which fsck removes once old.
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
   * Removes a blob object that has no record, through the purge protocol so that a commit of the
   * same content racing with the repair never loses its bytes: a {@code purging} record is created
   * create-only (a committer that created its record first wins, and the blob stays), then the
   * object and the record are deleted; a committer that finds the record waits, then stores anew.
   *
   * <p>Only an object S3 stored before {@link #orphanCutoff} is deleted, read again once the claim
   * holds the digest: a put whose own PutObject created the object does not look for it after
   * creating its record when the two writes were less than half the purge timeout apart
   * ({@link BlobPublisher}), so this repair must never delete an object so young. A younger one
   * keeps its bytes and only the claim is deleted.
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
   * remove it: the purge timeout {@code B} plus {@link #LAST_MODIFIED_PRECISION} before
   * {@code now}. With clocks (the hosts' and S3's) within {@code B/2} of each other, an object
   * older than that was stored more than {@code B/2} before this repair reads it, so a put that
   * stored it and creates its record after the repair has deleted its claim looks for the object
   * afterwards and restores it.
   */
  long orphanCutoff(long now) {
    return now - store.config.purgeTimeout().toNanos() - LAST_MODIFIED_PRECISION.toNanos();
  }

  /** An index record and the ETag it was read at. */
  record Versioned(IndexRecord record, String etag) {}

  /** Every index record of the store, read many at once, with its ETag. */
  Map<Digest, Versioned> records() {
    Map<Digest, Versioned> records = new HashMap<>();
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
