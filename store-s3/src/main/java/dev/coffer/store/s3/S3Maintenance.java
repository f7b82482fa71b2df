package dev.coffer.store.s3;

import dev.coffer.store.BlobVerifier;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnknownException;
import java.io.IOException;
import java.security.MessageDigest;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage collection and consistency checks over the bucket. Safe on many hosts at once: every
 * removal is conditional on the ETag of the record that justified it.
 *
 * <p>Purge protocol: a record in {@code deleting} for longer than the deletion grace becomes
 * {@code purging} (CAS); then the blob object is deleted; then the record is deleted If-Match.
 * A committer that finds {@code deleting} resurrects the blob instead, and one that finds
 * {@code purging} waits for the purge to end, so a blob object is only deleted while its record
 * says {@code purging} and nobody writes it.
 */
final class S3Maintenance {
  private static final Logger LOG = LoggerFactory.getLogger(S3Maintenance.class);
  /** S3 reports LastModified in whole seconds. */
  private static final Duration LAST_MODIFIED_PRECISION = Duration.ofSeconds(1);

  private final S3Store store;
  private final S3Objects objects;

  S3Maintenance(S3Store store) {
    this.store = store;
    this.objects = store.objects;
  }

  GcReport gc(GcOptions options) {
    long started = store.runtime.nanoTime().getAsLong();
    long now = store.now();
    List<GcReport.Skip> skipped = new ArrayList<>();
    long[] ingests = {0};
    long[] bytes = {0};
    long ingestCutoff = now - options.ingestAge().toNanos();
    List<String> stateKeys = new ArrayList<>();
    Map<String, Long> ingestBytes = new HashMap<>();
    objects.listObjects(store.keys.ingestPrefix(), object -> {
      if (store.keys.isIngestState(object.key())) {
        stateKeys.add(object.key());
      } else if (object.lastModified() != null) {
        ingestBytes.put(object.key(), Times.nanos(object.lastModified()));
      }
    });
    Set<String> namedUploads = new HashSet<>();
    Set<String> namedData = new HashSet<>();
    Set<String> leasedDirs = new HashSet<>();
    // The records read as a walk reads them, many at once; handled one at a time here.
    store.forEachObject(stateKeys, (key, fetched) -> {
      if (fetched == null) {
        return;
      }
      IngestRecord record = Json.read(fetched.bytes(), IngestRecord.class, key);
      if (record.uploadId() != null) {
        namedUploads.add(record.uploadId());
      }
      namedData.add(record.dataKey());
      if (store.openWriters.containsKey(record.ref()) || record.leasedAt(now)) {
        leasedDirs.add(directoryOf(key));
        skipped.add(new GcReport.Skip(record.ref(), "a writer has the ingest open"));
        return;
      }
      if (record.updatedAt() > ingestCutoff) {
        return;
      }
      if (!options.dryRun()) {
        if (!objects.deleteIfMatch(key, fetched.etag())) {
          skipped.add(new GcReport.Skip(record.ref(), "the ingest changed during gc"));
          return;
        }
        store.discardBytes(record);
        store.pausedDigests.invalidate(record.ref());
      }
      ingests[0]++;
      bytes[0] += record.offset();
    });

    long aborted = abandonedUploads(options, now, namedUploads, leasedDirs, skipped);
    unnamedIngestBytes(options, now, ingestBytes, namedData, leasedDirs);

    long purged = 0;
    long graceCutoff = now - store.config.deletionGrace().toNanos();
    long purgeCutoff = now - store.config.purgeTimeout().toNanos();
    Map<Digest, Versioned> records = records();
    Expiry.Outcome expiry = new Expiry(store).run(options, records, skipped);
    for (Map.Entry<Digest, Versioned> entry : records.entrySet()) {
      Digest digest = entry.getKey();
      IndexRecord record = entry.getValue().record();
      if (record.isLive()) {
        continue;
      }
      boolean purging = record.state() == IndexRecord.State.PURGING;
      if (!purging && record.stateChangedAt() > graceCutoff) {
        skipped.add(new GcReport.Skip(digest.toString(), "in its deletion grace period"));
        continue;
      }
      if (purging && record.stateChangedAt() > purgeCutoff) {
        skipped.add(new GcReport.Skip(digest.toString(), "being purged by another host since "
            + Times.instant(record.stateChangedAt())));
        continue;
      }
      if (options.dryRun()) {
        purged++;
        bytes[0] += record.size();
        continue;
      }
      if (purge(digest, entry.getValue())) {
        purged++;
        bytes[0] += record.size();
      } else {
        skipped.add(new GcReport.Skip(digest.toString(), "re-committed, changed or purged elsewhere during gc"));
      }
    }
    GcReport report = new GcReport(purged, bytes[0], ingests[0], aborted, skipped,
        Duration.ofNanos(store.runtime.nanoTime().getAsLong() - started), expiry.expired(),
        expiry.bytes());
    LOG.info("gc{}: {} blobs expired ({} bytes), {} blobs purged ({} bytes), {} ingests removed,"
        + " {} uploads aborted, {} skipped, in {} ms", options.dryRun() ? " (dry run)" : "",
        report.expired().size(), report.bytesExpired(), report.blobsPurged(),
        report.bytesFreed(), report.ingestsRemoved(), report.uploadsAborted(),
        report.skipped().size(), report.elapsed().toMillis());
    return report;
  }

  /**
   * Aborts multipart uploads under the ingests that no ingest record names (a writer that died
   * between starting an upload and recording it, or a record removed without its upload), once
   * older than both the ingest age and the lease, and never under a leased ingest; and multipart
   * copies to blob keys on the same age rule, unless the blob is stored.
   */
  private long abandonedUploads(GcOptions options, long now, Set<String> named,
      Set<String> leasedDirs, List<GcReport.Skip> skipped) {
    long cutoff = now - Math.max(options.ingestAge().toNanos(),
        store.config.leaseDuration().toNanos());
    List<S3Objects.Upload> abandoned = new ArrayList<>();
    objects.listUploads(store.keys.ingestPrefix(), upload -> {
      if (!named.contains(upload.uploadId()) && !leasedDirs.contains(directoryOf(upload.key()))
          && upload.initiated() != null && Times.nanos(upload.initiated()) < cutoff) {
        abandoned.add(upload);
      }
    });
    // A multipart copy to a blob key whose committer died. Once another host has stored the
    // blob at that key it is left alone: S3 keeps the object when such an upload is aborted, but
    // some S3-compatible servers (S3Mock 5.2.0) delete it.
    objects.listUploads(store.keys.blobPrefix(), upload -> {
      if (upload.initiated() != null && Times.nanos(upload.initiated()) < cutoff) {
        if (objects.exists(upload.key())) {
          skipped.add(new GcReport.Skip(upload.key(), "a multipart copy to a stored blob; abort"
              + " it where aborting keeps the object (a bucket lifecycle rule on S3)"));
        } else {
          abandoned.add(upload);
        }
      }
    });
    if (!options.dryRun()) {
      abandoned.forEach(u -> objects.abortUpload(u.key(), u.uploadId()));
    }
    return abandoned.size();
  }

  /**
   * Deletes the ingest objects that no ingest record names (a host killed between removing an
   * ingest record and its bytes, or between writing bytes and recording them), once older than
   * both the ingest age and the lease, and never under a leased ingest.
   */
  private void unnamedIngestBytes(GcOptions options, long now, Map<String, Long> ingestBytes,
      Set<String> named, Set<String> leasedDirs) {
    long cutoff = now - Math.max(options.ingestAge().toNanos(),
        store.config.leaseDuration().toNanos());
    if (options.dryRun()) {
      return;
    }
    ingestBytes.forEach((key, modified) -> {
      if (!named.contains(key) && !leasedDirs.contains(directoryOf(key)) && modified < cutoff) {
        objects.delete(key);
      }
    });
  }

  /** {@code P/ingest/<hash>/} of a key under an ingest. */
  private String directoryOf(String key) {
    int end = key.indexOf('/', store.keys.ingestPrefix().length());
    return end < 0 ? key : key.substring(0, end + 1);
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
   * {@link #fsck(boolean)}, then with {@code options.verify()} the content check (INT-3): a
   * corrupt blob's repair deletes its object if it still has the ETag it had when checked, and
   * keeps its record (references, links, labels), so the next commit of the true bytes stores them
   * again (a commit or put that finds a live record without an object restores it).
   */
  FsckReport fsck(FsckOptions options) {
    FsckReport base = fsck(options.repair());
    if (!options.verify()) {
      return base;
    }
    List<FsckReport.Finding> findings = new ArrayList<>(base.findings());
    findings.addAll(BlobVerifier.verify(store, options, this::removeCorruptBytes));
    return new FsckReport(base.blobsChecked(), findings);
  }

  /** Deletes the object of a corrupt blob (its record stays); whether it did. */
  private boolean removeCorruptBytes(Digest digest) {
    String key = store.keys.blob(digest);
    // Read again, and deleted only under the ETag of what was read: bytes restored meanwhile stay.
    String etag;
    try (ResponseInputStream<GetObjectResponse> in = objects.stream(key, 0)) {
      etag = in.response().eTag();
      MessageDigest hasher = digest.algorithm().newHasher();
      S3Objects.drain(in, hasher, null);
      if (Digest.fromHasher(digest.algorithm(), hasher.digest()).equals(digest)) {
        return false;
      }
    } catch (NotFoundException e) {
      return true;
    } catch (IOException e) {
      throw new UnknownException("reading " + key + " again", e);
    }
    return objects.deleteIfMatch(key, etag);
  }

  FsckReport fsck(boolean repair) {
    long now = store.now();
    Map<Digest, Versioned> records = records();
    List<FsckReport.Finding> findings = new ArrayList<>();
    for (Map.Entry<Digest, Versioned> entry : records.entrySet()) {
      Digest digest = entry.getKey();
      IndexRecord record = entry.getValue().record();
      if (!record.isLive()) {
        staleDeletion(digest, entry.getValue(), now, repair).ifPresent(findings::add);
        continue;
      }
      Map<String, String> tags = objects.tags(store.keys.blob(digest));
      if (tags == null) {
        // Left live even when repairing (PROTO-5, INT-3): its references, links and labels stay,
        // writers check the object before answering AlreadyExists, and the next commit of its
        // bytes stores them again under the same record.
        findings.add(new FsckReport.Finding(FsckReport.Kind.RECORD_WITHOUT_BLOB,
            digest.toString(), "is live but its content is missing; its references are kept and "
                + "the next commit of its bytes stores them again", false));
      } else if (objects.tagging() && !tags.equals(record.tags())) {
        tagDrift(digest, tags, repair).ifPresent(findings::add);
      }
      for (Digest target : record.linkDigests()) {
        Versioned linked = records.get(target);
        if (linked == null || !linked.record().isLive()) {
          if (repair) {
            store.casIndex(digest, r -> r != null && r.links().contains(target.toString())
                ? r.withoutLink(target) : null);
          }
          findings.add(new FsckReport.Finding(FsckReport.Kind.DANGLING_LINK, digest.toString(),
              "links to " + target + ", which does not exist", repair));
        }
      }
    }
    Map<Digest, Long> blobs = new HashMap<>();
    objects.listObjects(store.keys.blobPrefix(), object -> {
      Digest digest = Keys.digestOf(store.keys.blobPrefix(), object.key());
      if (digest != null) {
        blobs.put(digest,
            object.lastModified() == null ? now : Times.nanos(object.lastModified()));
      }
    });
    long orphanCutoff = orphanCutoff(now);
    blobs.forEach((digest, stored) -> {
      if (records.containsKey(digest)) {
        return;
      }
      String where = "is stored at " + store.keys.blob(digest) + " without an index record";
      if (stored >= orphanCutoff) {
        // A put or commit stores the object before it creates the record: this one may be
        // under way, and removing its bytes now would cost it its blob (see purgeOrphan).
        findings.add(new FsckReport.Finding(FsckReport.Kind.BLOB_WITHOUT_RECORD,
            digest.toString(), where + " since " + Times.instant(stored) + " (a commit in"
                + " progress or interrupted; a repair removes it once older than the purge"
                + " timeout)", false));
        return;
      }
      boolean removed = repair && purgeOrphan(digest);
      findings.add(new FsckReport.Finding(FsckReport.Kind.BLOB_WITHOUT_RECORD,
          digest.toString(), where + " (an interrupted commit)" + (removed ? "; removed" : ""),
          removed));
    });
    LOG.info("fsck: {} blobs checked, {} findings, {} repaired", records.size(), findings.size(),
        findings.stream().filter(FsckReport.Finding::repaired).count());
    return new FsckReport(records.size(), findings);
  }

  /**
   * A record left in deletion: {@code purging} past the purge timeout (its purger stopped; a repair
   * finishes the purge), or {@code deleting} past twice the grace (gc has not run).
   */
  private Optional<FsckReport.Finding> staleDeletion(Digest digest, Versioned found, long now,
      boolean repair) {
    IndexRecord record = found.record();
    String since = " since " + Times.instant(record.stateChangedAt());
    if (record.state() == IndexRecord.State.PURGING) {
      if (record.stateChangedAt() >= now - store.config.purgeTimeout().toNanos()) {
        return Optional.empty();
      }
      boolean finished = repair && purge(digest, found);
      return Optional.of(new FsckReport.Finding(FsckReport.Kind.STALE_DELETION,
          digest.toString(), "has been purging" + since + ", longer than the purge timeout"
              + (finished ? "; purge finished" : "; gc or a repair finishes it"), finished));
    }
    if (record.stateChangedAt() >= now - 2 * store.config.deletionGrace().toNanos()) {
      return Optional.empty();
    }
    return Optional.of(new FsckReport.Finding(FsckReport.Kind.STALE_DELETION, digest.toString(),
        "has been deleting" + since + "; gc finishes it", false));
  }

  /**
   * Blob object tags that disagree with the record, read again to rule out a change in flight;
   * a repair writes the tags of the record read last.
   */
  private Optional<FsckReport.Finding> tagDrift(Digest digest, Map<String, String> tags,
      boolean repair) {
    IndexRecord current = store.record(digest);
    if (current == null || !current.isLive() || tags.equals(current.tags())) {
      return Optional.empty();
    }
    if (repair) {
      objects.putTags(store.keys.blob(digest), current.tags());
    }
    return Optional.of(new FsckReport.Finding(FsckReport.Kind.TAG_DRIFT, digest.toString(),
        "has tags " + tags + " but its record says " + current.tags(), repair));
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
  private boolean purgeOrphan(Digest digest) {
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
  private long orphanCutoff(long now) {
    return now - store.config.purgeTimeout().toNanos() - LAST_MODIFIED_PRECISION.toNanos();
  }

  /** An index record and the ETag it was read at. */
  record Versioned(IndexRecord record, String etag) {}

  private Map<Digest, Versioned> records() {
    Map<Digest, Versioned> records = new HashMap<>();
    List<String> keys = new ArrayList<>();
    objects.list(store.keys.indexPrefix(), key -> {
      if (Keys.digestOf(store.keys.indexPrefix(), key) != null) {
        keys.add(key);
      }
    });
    // As many reads in flight as a walk's.
    store.forEachObject(keys, (key, fetched) -> {
      if (fetched != null) {
        records.put(Keys.digestOf(store.keys.indexPrefix(), key),
            new Versioned(Json.read(fetched.bytes(), IndexRecord.class, key), fetched.etag()));
      }
    });
    return records;
  }
}
