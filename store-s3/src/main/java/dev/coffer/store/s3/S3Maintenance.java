package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
  private final S3Store store;
  private final S3Objects objects;

  S3Maintenance(S3Store store) {
    this.store = store;
    this.objects = store.objects;
  }

  GcReport gc(GcOptions options) {
    long started = System.nanoTime();
    long now = store.now();
    List<GcReport.Skip> skipped = new ArrayList<>();
    long[] ingests = {0};
    long[] bytes = {0};
    long ingestCutoff = now - options.ingestAge().toNanos();
    List<String> stateKeys = new ArrayList<>();
    Map<String, Instant> ingestBytes = new HashMap<>();
    objects.listWithTimes(store.keys.ingestPrefix(), (key, modified) -> {
      if (store.keys.isIngestState(key)) {
        stateKeys.add(key);
      } else {
        ingestBytes.put(key, modified);
      }
    });
    Set<String> namedUploads = new HashSet<>();
    Set<String> leasedDirs = new HashSet<>();
    for (String key : stateKeys) {
      S3Objects.Fetched fetched = objects.get(key);
      if (fetched == null) {
        continue;
      }
      IngestRecord record = Json.read(fetched.bytes(), IngestRecord.class, key);
      if (record.uploadId() != null) {
        namedUploads.add(record.uploadId());
      }
      if (store.openWriters.containsKey(record.ref()) || record.leasedAt(now)) {
        leasedDirs.add(directoryOf(key));
        skipped.add(new GcReport.Skip(record.ref(), "a writer has the ingest open"));
        continue;
      }
      if (record.updatedAt() > ingestCutoff) {
        continue;
      }
      if (!options.dryRun()) {
        if (!objects.deleteIfMatch(key, fetched.etag())) {
          skipped.add(new GcReport.Skip(record.ref(), "the ingest changed during gc"));
          continue;
        }
        store.discardBytes(record);
        store.pausedDigests.invalidate(record.ref());
      }
      ingests[0]++;
      bytes[0] += record.offset();
    }

    long aborted = abandonedUploads(options, now, namedUploads, leasedDirs);
    orphanedBytes(options, now, stateKeys, ingestBytes);

    long purged = 0;
    long graceCutoff = now - store.config.deletionGrace().toNanos();
    for (Map.Entry<Digest, Versioned> entry : records().entrySet()) {
      Digest digest = entry.getKey();
      IndexRecord record = entry.getValue().record();
      if (record.isLive()) {
        continue;
      }
      if (record.stateChangedAt() > graceCutoff) {
        skipped.add(new GcReport.Skip(digest.toString(), "in its deletion grace period"));
        continue;
      }
      if (options.dryRun()) {
        purged++;
        bytes[0] += record.size();
        continue;
      }
      if (purge(digest, entry.getValue(), now)) {
        purged++;
        bytes[0] += record.size();
      } else {
        skipped.add(new GcReport.Skip(digest.toString(), "re-committed or changed during gc"));
      }
    }
    return new GcReport(purged, bytes[0], ingests[0], aborted, skipped,
        Duration.ofNanos(System.nanoTime() - started));
  }

  /**
   * Aborts multipart uploads under the ingests that no ingest record names (a writer that died
   * between starting an upload and recording it, or a record removed without its upload), once
   * older than both the ingest age and the lease, and never under a leased ingest.
   */
  private long abandonedUploads(GcOptions options, long now, Set<String> named,
      Set<String> leasedDirs) {
    long cutoff = now - Math.max(options.ingestAge().toNanos(),
        store.config.leaseDuration().toNanos());
    List<S3Objects.Upload> abandoned = new ArrayList<>();
    objects.listUploads(store.keys.ingestPrefix(), upload -> {
      if (!named.contains(upload.uploadId()) && !leasedDirs.contains(directoryOf(upload.key()))
          && upload.initiated() != null && Times.nanos(upload.initiated()) < cutoff) {
        abandoned.add(upload);
      }
    });
    if (!options.dryRun()) {
      abandoned.forEach(u -> objects.abortUpload(u.key(), u.uploadId()));
    }
    return abandoned.size();
  }

  /**
   * Deletes the bytes of ingests whose record is gone: an ingest is removed record first (so its
   * ref is free at once), and a failure or crash before its bytes follow leaves them behind with
   * nothing naming them. A record is written before any bytes of its ingest and is listed after
   * them (its key sorts after the data keys), so a directory listed without a record has none;
   * the age bound spares an ingest opened since.
   */
  private void orphanedBytes(GcOptions options, long now, List<String> stateKeys,
      Map<String, Instant> ingestBytes) {
    long cutoff = now - Math.max(options.ingestAge().toNanos(),
        store.config.leaseDuration().toNanos());
    Set<String> recorded = new HashSet<>();
    stateKeys.forEach(key -> recorded.add(directoryOf(key)));
    ingestBytes.forEach((key, modified) -> {
      if (!options.dryRun() && !recorded.contains(directoryOf(key)) && modified != null
          && Times.nanos(modified) < cutoff) {
        objects.delete(key);
      }
    });
  }

  /** {@code P/ingest/<hash>/} of a key under an ingest. */
  private String directoryOf(String key) {
    int end = key.indexOf('/', store.keys.ingestPrefix().length());
    return end < 0 ? key : key.substring(0, end + 1);
  }

  /** deleting → purging (CAS), delete the blob object, delete the record If-Match. */
  private boolean purge(Digest digest, Versioned found, long now) {
    String indexKey = store.keys.index(digest);
    String etag = found.etag();
    if (found.record().state() == IndexRecord.State.DELETING) {
      IndexRecord purging = new IndexRecord(found.record().version(), found.record().digest(),
          found.record().size(), found.record().createdAt(), found.record().updatedAt(),
          found.record().labels(), 0, found.record().links(), IndexRecord.State.PURGING, now);
      etag = objects.putIfMatch(indexKey, Json.write(purging), etag);
      if (etag == null) {
        return false;
      }
    }
    objects.delete(store.keys.blob(digest));
    return objects.deleteIfMatch(indexKey, etag);
  }

  FsckReport fsck(boolean repair) {
    long now = store.now();
    Map<Digest, Versioned> records = records();
    List<FsckReport.Finding> findings = new ArrayList<>();
    for (Map.Entry<Digest, Versioned> entry : records.entrySet()) {
      Digest digest = entry.getKey();
      IndexRecord record = entry.getValue().record();
      if (!record.isLive()) {
        if (record.stateChangedAt() < now - 2 * store.config.deletionGrace().toNanos()) {
          findings.add(new FsckReport.Finding(FsckReport.Kind.STALE_DELETION, digest.toString(),
              "has been " + record.state().name().toLowerCase() + " since "
                  + Times.instant(record.stateChangedAt()) + "; gc finishes it", false));
        }
        continue;
      }
      if (!objects.exists(store.keys.blob(digest))) {
        findings.add(new FsckReport.Finding(FsckReport.Kind.RECORD_WITHOUT_BLOB,
            digest.toString(), "is live but its content is missing", false));
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
    Set<Digest> blobs = new HashSet<>();
    objects.list(store.keys.blobPrefix(), key -> {
      Digest digest = Keys.digestOf(store.keys.blobPrefix(), key);
      if (digest != null) {
        blobs.add(digest);
      }
    });
    for (Digest digest : blobs) {
      if (!records.containsKey(digest)) {
        findings.add(new FsckReport.Finding(FsckReport.Kind.BLOB_WITHOUT_RECORD,
            digest.toString(), "is stored at " + store.keys.blob(digest)
                + " without an index record (an interrupted commit, or a purge)", false));
      }
    }
    return new FsckReport(records.size(), findings);
  }

  /** An index record and the ETag it was read at. */
  record Versioned(IndexRecord record, String etag) {}

  private Map<Digest, Versioned> records() {
    Map<Digest, Versioned> records = new HashMap<>();
    List<String> keys = new ArrayList<>();
    objects.list(store.keys.indexPrefix(), keys::add);
    for (String key : keys) {
      Digest digest = Keys.digestOf(store.keys.indexPrefix(), key);
      S3Objects.Fetched fetched = digest == null ? null : objects.get(key);
      if (fetched != null) {
        records.put(digest,
            new Versioned(Json.read(fetched.bytes(), IndexRecord.class, key), fetched.etag()));
      }
    }
    return records;
  }
}
