package dev.coffer.store.s3;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.UnavailableException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Publishes the index record of content whose bytes are stored at its digest key: the last step
 * of a writer's commit and of a put. Creates the record create-only; if one exists, takes a
 * reference (commitAndRef, putAndRef), resurrects a deleted blob (re-storing its bytes if they are
 * gone), waits for a purge in progress to end and publishes anew, or fails with AlreadyExists.
 * One instance serves one publication, on one thread.
 */
final class BlobPublisher {
  private final S3Store store;
  private final S3Objects objects;
  private final Digest digest;
  private final long size;
  private final Map<String, String> labels;
  private final boolean takeRef;
  private final String blobKey;
  /** Ends what the caller holds (a writer's ingest) once the outcome is known. */
  private final Runnable settle;
  /** Stores the bytes at the digest key again, for a blob whose object a purge removed. */
  private Runnable restore;

  /**
   * @param labels the labels of a new record, without empty values
   * @param settle run once the record is published or the content found already stored
   */
  BlobPublisher(S3Store store, Digest digest, long size, Map<String, String> labels,
      boolean takeRef, Runnable settle) {
    this.store = store;
    this.objects = store.objects;
    this.digest = digest;
    this.size = size;
    this.labels = labels;
    this.takeRef = takeRef;
    this.blobKey = store.keys.blob(digest);
    this.settle = settle;
  }

  /** The labels a record keeps of {@code labels}: an empty value means no label. */
  static Map<String, String> kept(Map<String, String> labels) {
    Map<String, String> kept = new TreeMap<>(labels == null ? Map.of() : labels);
    kept.values().removeIf(String::isEmpty);
    return kept;
  }

  /** Whether this publication takes a reference. */
  boolean takesRef() {
    return takeRef;
  }

  /** The record a commit of these bytes creates when there is none. */
  IndexRecord fresh() {
    return IndexRecord.live(digest, size, store.now(), labels, takeRef ? 1 : 0);
  }

  /**
   * Publishes the record once the bytes are at the digest key.
   *
   * @param restoreBytes stores the bytes at the digest key again
   * @return the blob's info as published
   * @throws AlreadyExistsException if the content is live and no reference is taken
   * @throws UnavailableException if a purge of the digest outlasts every attempt
   */
  Info publish(Runnable restoreBytes) {
    restore = restoreBytes;
    IndexRecord created = fresh();
    S3Store.Creation creation = store.createIndex(digest, created);
    if (creation.created()) {
      // The bytes were stored (or found) before the record existed, so something may have deleted
      // them meanwhile: a purge of an earlier record of this digest that found a 'deleting' record
      // whose object was still there, one taken over from a purger that died after deleting the
      // object once already (it deletes it again), or an fsck repair that took the bytes for an
      // interrupted commit and removed them through its own 'purging' claim. Even when this
      // caller's PutObject created the object, the last two can delete it after that and before
      // the record existed. Their records are gone now that ours was created, and nothing purges
      // ours, so one look suffices.
      if (!objects.exists(blobKey)) {
        restore.run();
      }
      settle.run();
      return created.toInfo();
    }
    IndexRecord after = null;
    S3Objects.Fetched found = creation.found(); // the record that refused ours, read once
    for (int attempt = 0; after == null; attempt++) {
      try {
        after = store.casIndex(digest, this::merge, found);
        found = null;
      } catch (AlreadyExistsException e) {
        settle.run();
        throw e;
      } catch (PurgeInProgress e) {
        if (attempt + 1 >= store.config.casAttempts()) {
          throw new UnavailableException("content " + digest
              + " is being purged; commit again once it is gone", e);
        }
        found = null;
        S3Store.pause(attempt); // the purger deletes the blob object, then the record
        new S3Maintenance(store).finishStalePurge(digest); // unless it died doing so
      }
    }
    settle.run();
    store.mirrorTags(digest, after);
    return after.toInfo();
  }

  /** The record after committing these bytes onto {@code record} (see {@link #publish}). */
  private IndexRecord merge(IndexRecord record) {
    if (record == null) {
      // The record vanished after the create-only write failed: a purge ended meanwhile and
      // took the blob object with it.
      if (!objects.exists(blobKey)) {
        restore.run();
      }
      return fresh();
    }
    switch (record.state()) {
      case LIVE:
        if (!takeRef) {
          throw new AlreadyExistsException("content " + digest + " already exists");
        }
        return record.withRefCount(record.refCount() + 1);
      case DELETING:
        // Content-addressed: the stored bytes are these bytes, if they are still there.
        if (!objects.exists(blobKey)) {
          restore.run();
        }
        return fresh();
      default:
        throw new PurgeInProgress();
    }
  }

  /** A purge holds the record: wait for it to end, then publish anew. */
  private static final class PurgeInProgress extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PurgeInProgress() {
      super(null, null, false, false);
    }
  }
}
