package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Garbage collection: removes ingests past their age and their leftovers (uploads and bytes no
 * ingest record names), and purges blobs past their deletion grace through {@link Purges}. Safe on
 * many hosts at once: every removal is conditional on the ETag of the record that justified it
 * (docs/architecture.md, "Purges and repairs"; PROTO-2, PROTO-10).
 */
final class S3Maintenance {
  private static final Logger LOG = LoggerFactory.getLogger(S3Maintenance.class);
  /**
   * The least age of an upload to a blob key that gc aborts, whatever the ingest age: longer than
   * any put or copy lasts (S3's largest object, 5 TiB, at 64 MiB/s takes under 23 hours).
   */
  static final Duration BLOB_UPLOAD_AGE = Duration.ofDays(1);

  private final S3Store store;
  private final S3Objects objects;
  private final Purges purges;

  S3Maintenance(S3Store store) {
    this.store = store;
    this.objects = store.objects;
    this.purges = new Purges(store);
  }

  /** Fails with FailedPrecondition, before any change, on a server unsafe for deletes (PROTO-2). */
  GcReport gc(GcOptions options) {
    if (!options.dryRun()) { // a dry run writes nothing, not even a probe (RET-5)
      store.probe.requireSafeDeletes("gc");
    }
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
    store.reads().forEach(stateKeys, (key, fetched) -> {
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

    unnamedIngestBytes(options, now, ingestBytes, namedData, leasedDirs);

    long purged = 0;
    long graceCutoff = now - store.config.deletionGrace().toNanos();
    long purgeCutoff = now - store.config.purgeTimeout().toNanos();
    Map<Digest, Purges.Versioned> records = purges.records();
    if (!options.dryRun()) {
      resolveMarks(records);
    }
    Expiry.Outcome expiry = new Expiry(store).run(options, records, skipped);
    for (Map.Entry<Digest, Purges.Versioned> entry : records.entrySet()) {
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
      if (purges.purge(digest, entry.getValue())) {
        purged++;
        bytes[0] += record.size();
      } else {
        skipped.add(new GcReport.Skip(digest.toString(), "re-committed, changed or purged elsewhere during gc"));
      }
    }
    // After the purges: an upload to a blob purged by this run is no longer one to a stored blob,
    // so a server whose abort deletes the object at the key has it aborted now, not by a later gc.
    long aborted = abandonedUploads(options, now, namedUploads, leasedDirs, skipped);
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
   * older than both the ingest age and the lease, and never under a leased ingest; and uploads to
   * blob keys (multipart copies, puts of files) once also older than {@link #BLOB_UPLOAD_AGE},
   * stored blob or not, except on a server whose abort deletes the object at the key
   * ({@link ServerProbe#abortKeepsObject}), where uploads to stored blobs are left and reported.
   */
  private long abandonedUploads(GcOptions options, long now, Set<String> named,
      Set<String> leasedDirs, List<GcReport.Skip> skipped) {
    long cutoff = now - Math.max(options.ingestAge().toNanos(),
        store.config.leaseDuration().toNanos());
    List<S3Uploads.Upload> abandoned = new ArrayList<>();
    objects.uploads().listUploads(store.keys.ingestPrefix(), upload -> {
      if (!named.contains(upload.uploadId()) && !leasedDirs.contains(directoryOf(upload.key()))
          && upload.initiated() != null && Times.nanos(upload.initiated()) < cutoff) {
        abandoned.add(upload);
      }
    });
    // A multipart copy to a blob key whose committer died, or a put of a file whose host died or
    // lost a race (PROTO-12). No record names these, so no lease says one is still being written:
    // they are left until older than any put can last as well. S3 keeps the object at the key
    // when such an upload is aborted, so they are aborted whether or not a blob is stored there
    // (left, they would be listed and looked up by every gc for ever on a bucket without a
    // lifecycle rule); on a server that deletes the object with the abort (S3Mock 5.2.0; probed
    // once, on the first such upload), an upload to a stored blob is left alone and reported.
    long blobCutoff = Math.min(cutoff, now - BLOB_UPLOAD_AGE.toNanos());
    objects.uploads().listUploads(store.keys.blobPrefix(), upload -> {
      if (upload.initiated() != null && Times.nanos(upload.initiated()) < blobCutoff) {
        // A dry run writes no probe (RET-5): it reports uploads to stored blobs as left.
        boolean abortKeeps = !options.dryRun() && store.probe.abortKeepsObject();
        if (!abortKeeps && objects.exists(upload.key())) {
          skipped.add(new GcReport.Skip(upload.key(), options.dryRun()
              ? "an upload to a stored blob; a dry run does not probe whether aborting keeps it"
              : "an upload to a stored blob, left: this server deletes the object with an abort"));
        } else {
          abandoned.add(upload);
        }
      }
    });
    if (!options.dryRun()) {
      abandoned.forEach(u -> objects.uploads().abortUpload(u.key(), u.uploadId()));
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

  /**
   * Resolves the marked references older than the bound ({@link LinkMarks}, TREE-3) in the live
   * records of {@code records}, and reads each record so changed again, so that expiry and the
   * purges that follow condition their changes on its ETag now.
   */
  private void resolveMarks(Map<Digest, Purges.Versioned> records) {
    long cutoff = store.now() - LinkMarks.bound(store.config).toNanos();
    int dropped = 0;
    for (Map.Entry<Digest, Purges.Versioned> entry : List.copyOf(records.entrySet())) {
      IndexRecord record = entry.getValue().record();
      if (!record.isLive() || record.pending().stream().noneMatch(m -> m.at() <= cutoff)) {
        continue;
      }
      Digest digest = entry.getKey();
      dropped += store.linkMarks().resolve(digest, record);
      S3Objects.Fetched now = store.records().fetch(digest);
      if (now == null) {
        records.remove(digest);
      } else {
        records.put(digest, new Purges.Versioned(store.records().parse(digest, now), now.etag()));
      }
    }
    if (dropped > 0) {
      LOG.info("gc: gave back {} references marked for links never made", dropped);
    }
  }

  /** {@code P/ingest/<hash>/} of a key under an ingest. */
  private String directoryOf(String key) {
    int end = key.indexOf('/', store.keys.ingestPrefix().length());
    return end < 0 ? key : key.substring(0, end + 1);
  }



}
