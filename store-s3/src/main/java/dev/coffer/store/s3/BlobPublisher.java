package dev.coffer.store.s3;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.Info;
import dev.coffer.store.UnavailableException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Publishes the index record of content whose bytes are stored at its digest key: the last step
 * of a writer's commit and of a put. Creates the record create-only (or, when the caller's own
 * create-only PutObject found the object there, reads it first); if one exists, takes a
 * reference (commitAndRef, putAndRef), resurrects a deleted blob (re-storing its bytes if they are
 * gone), waits for a purge in progress to end and publishes anew, or fails with AlreadyExists;
 * a live record whose blob object is missing gets its bytes again (docs/architecture.md, "The
 * protocol in steps", publication; PROTO-1, PROTO-5, PROTO-10). One instance serves one
 * publication, on one thread.
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
  /** Whether this caller's own PutObject just stored or found the object at the digest key. */
  private boolean put;
  /** The operation of linkNew a record this publication creates is marked for, or null. */
  private LinkNew.Drawn drawn;

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

  /**
   * Creates the record, if this publication creates one, with the marked reference of {@code op}
   * in it (count one more, PROTO-13: the mark at creation); content found live is not marked.
   */
  BlobPublisher markedFor(LinkNew.Drawn op) {
    this.drawn = op;
    return this;
  }

  /** Whether this publication takes a reference. */
  boolean takesRef() {
    return takeRef;
  }

  /** The record a commit of these bytes creates when there is none: a new incarnation. */
  IndexRecord fresh() {
    long now = store.now();
    IndexRecord record = IndexRecord.live(digest, size, now, labels, takeRef ? 1 : 0,
        store.records().newIncarnation());
    return drawn == null ? record : record.withMark(drawn.markAt(now));
  }

  /**
   * Stores {@code length} bytes of {@code bytes} at the digest key unless an object is there, with
   * their SHA-256 as checksum where the digest is one and the tags of a {@link #fresh()} record,
   * then publishes the record: the whole of a small put or commit.
   */
  Info storeAndPublish(byte[] bytes, int length) {
    Created created = putBlob(bytes, length, fresh());
    return publish(() -> objects.put(blobKey, bytes, length), created);
  }

  /**
   * The conditional PutObject of {@link #storeAndPublish}.
   *
   * @return when this call's PutObject was sent, if it created the object; null if it found one
   *     (a PutObject whose answer was lost and that the SDK retried into a 412 counts as found)
   */
  private Created putBlob(byte[] bytes, int length, IndexRecord record) {
    byte[] sha256 = digest.algorithm() == DigestAlgorithm.SHA256 ? digest.hash() : null;
    Created sending = Created.sending(store);
    return objects.putIfAbsent(blobKey, bytes, length, sha256, record.tags()) != null
        ? sending : null;
  }

  /**
   * When this caller sent the create-only PutObject that created the blob object (it did not
   * find one there), or the CreateMultipartUpload of the upload whose create-only completion
   * created it: on the host's monotonic clock and on the store's clock.
   */
  record Created(long sentNanos, long sentAt) {
    /** Now, just before sending that PutObject or CreateMultipartUpload. */
    static Created sending(S3Store store) {
      return new Created(store.runtime.nanoTime().getAsLong(), store.now());
    }
  }

  /**
   * Publishes the record once the bytes are at the digest key, stored in a way that does not tell
   * whether this caller created the object (a copy, or content found stored).
   *
   * @see #publish(Runnable, Created)
   */
  Info publish(Runnable restoreBytes) {
    return publish(restoreBytes, null, false);
  }

  /**
   * Publishes the record once the bytes are at the digest key, put there without tags (a copy, a
   * multipart upload, or content found stored), then writes the tags of the record: the last step
   * of a commit of parts and of a put of a file.
   *
   * @param created when this caller's own create-only completion of a multipart upload created
   *     the object (stamped before the upload was created), or null if the bytes got there
   *     otherwise: then the object is looked for once the record is created (PROTO-10)
   */
  Info publishStored(Runnable restoreBytes, Created created) {
    Info info = created == null ? publish(restoreBytes) : publish(restoreBytes, created);
    store.records().mirrorTags(digest, fresh().withRefCount(info.refCount()));
    return info;
  }

  /**
   * Publishes the record once this caller's create-only PutObject stored the bytes at the digest
   * key, or found an object there.
   *
   * @param restoreBytes stores the bytes at the digest key again
   * @param created when this caller's own create-only PutObject created the object, or null if it
   *     found one
   * @return the blob's info as published
   * @throws AlreadyExistsException if the content is live and no reference is taken
   * @throws UnavailableException if a purge of the digest outlasts every attempt
   */
  Info publish(Runnable restoreBytes, Created created) {
    return publish(restoreBytes, created, true);
  }

  private Info publish(Runnable restoreBytes, Created created, boolean putByCaller) {
    restore = restoreBytes;
    put = putByCaller;
    S3Objects.Fetched found = null; // the record that refused ours, read once
    if (!putByCaller || created != null) {
      IndexRecord record = fresh();
      IndexRecords.Creation creation = store.records().createIndex(digest, record);
      if (creation.created()) {
        // The bytes may have been purged between their PutObject and this record (PROTO-10).
        if (!keptSince(created) && !objects.exists(blobKey)) {
          restore.run();
        }
        settle.run();
        return record.toInfo();
      }
      found = creation.found();
    }
    // Else this caller's create-only PutObject found the object: its record is there but for a
    // put cut short, so it is read and changed rather than refused first (one request less for
    // stored content); a record found absent is created by the same compare-and-swap.
    IndexRecord after = null;
    Backoff backoff = store.records().backoff();
    for (int attempt = 0; after == null; attempt++) {
      try {
        after = store.records().casIndex(digest, this::merge, found);
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
        backoff.pause(attempt); // the purger deletes the blob object, then the record
        new Purges(store).finishStalePurge(digest); // unless it died doing so
      }
    }
    settle.run();
    store.records().mirrorTags(digest, after);
    return after.toInfo();
  }

  /**
   * Whether the object this caller's PutObject (or completion) created is known to be there
   * still, without looking: true if that PutObject (or its upload's create) was sent less than
   * half the purge timeout before the record creation's answer came, on both the monotonic and
   * the store's clock (PROTO-10, "Young blob objects"); false for a copy or an object found
   * there.
   */
  private boolean keptSince(Created created) {
    if (created == null) {
      return false;
    }
    long bound = store.config.purgeTimeout().toNanos() / 2;
    long elapsed = Math.max(store.runtime.nanoTime().getAsLong() - created.sentNanos(),
        store.now() - created.sentAt());
    return elapsed < bound;
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
        // A live record without its object gets these bytes (PROTO-5), unless this caller's own
        // PutObject has just stored or found the object.
        if (!put && !objects.exists(blobKey)) {
          restore.run();
        }
        if (!takeRef) {
          store.marks.used(digest, record);
          throw new AlreadyExistsException("content " + digest + " already exists");
        }
        return record.withRefCount(record.refCount() + 1).usedAt(store.now());
      case DELETING:
        // Content-addressed: the stored bytes are these bytes, if they are still there.
        if (!objects.exists(blobKey)) {
          restore.run();
        }
        // A new incarnation, keeping the ids of the changes that led here: a deref whose answer
        // was lost finds its own (PROTO-3).
        return fresh().withOpsOf(record);
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
