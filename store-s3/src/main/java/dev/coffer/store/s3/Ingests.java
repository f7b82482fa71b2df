package dev.coffer.store.s3;

import com.github.benmanes.caffeine.cache.Cache;
import dev.coffer.store.Filter;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Status;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.spi.Refs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ingests of one store seen from outside their writers: the status of one, the listing of all,
 * and the abort of one no writer holds. The store checks that it is open before calling;
 * thread-safe.
 */
final class Ingests {
  private static final Logger LOG = LoggerFactory.getLogger(Ingests.class);

  private final S3StoreConfig config;
  private final S3Objects objects;
  private final Keys keys;
  private final Map<String, S3Writer> openWriters;
  private final Cache<String, S3Store.PausedDigest> pausedDigests;
  private final ParallelReads reads;

  Ingests(S3StoreConfig config, S3Objects objects, Keys keys, Map<String, S3Writer> openWriters,
      Cache<String, S3Store.PausedDigest> pausedDigests, ParallelReads reads) {
    this.config = config;
    this.objects = objects;
    this.keys = keys;
    this.openWriters = openWriters;
    this.pausedDigests = pausedDigests;
    this.reads = reads;
  }

  private long now() {
    return Times.now(config.clock());
  }

  Status status(String ref) {
    Refs.validate(ref);
    S3Writer open = openWriters.get(ref);
    if (open != null) {
      return open.status();
    }
    S3Objects.Fetched fetched = objects.get(keys.ingestState(ref));
    if (fetched == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    return Json.read(fetched.bytes(), IngestRecord.class, ref).toStatus();
  }

  List<Status> listStatuses(String... filters) {
    Filter filter = Filter.parse(filters);
    List<String> stateKeys = new ArrayList<>();
    objects.list(keys.ingestPrefix(), key -> {
      if (keys.isIngestState(key)) {
        stateKeys.add(key);
      }
    });
    List<Status> statuses = new ArrayList<>();
    reads.forEachBytes(stateKeys, (key, bytes) -> {
      if (bytes == null) {
        return;
      }
      Status status;
      try {
        IngestRecord record = Json.read(bytes, IngestRecord.class, key);
        S3Writer open = openWriters.get(record.ref());
        status = open != null ? open.status() : record.toStatus();
      } catch (StoreException | NullPointerException | IllegalArgumentException e) {
        // Any writer of the bucket can write an ingest record: one that does not parse must not
        // hide every other host's ingests. It stays for gc and fsck.
        LOG.warn("skipping the unreadable ingest record {}: {}", key, e.toString());
        return;
      }
      if (filter.matches(status)) {
        statuses.add(status);
      }
    });
    return statuses;
  }

  void abort(String ref) {
    Refs.validate(ref);
    if (openWriters.containsKey(ref)) {
      throw new UnavailableException("ref \"" + ref + "\" is locked by an open writer");
    }
    String stateKey = keys.ingestState(ref);
    S3Objects.Fetched fetched = objects.get(stateKey);
    if (fetched == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    IngestRecord record = Json.read(fetched.bytes(), IngestRecord.class, ref);
    if (record.leasedAt(now())) {
      Instant until = Times.instant(record.leaseExpiry());
      throw new UnavailableException("ref \"" + ref + "\" is locked by a writer ("
          + record.leaseOwner() + ") whose lease lapses at " + until + " unless renewed", until);
    }
    // Removing the record first makes the ref free at once; the bytes follow.
    if (!objects.deleteIfMatch(stateKey, fetched.etag())) {
      throw new UnavailableException("ref \"" + ref + "\" changed while being aborted");
    }
    discardBytes(record);
    pausedDigests.invalidate(ref);
  }

  /** Removes the objects and upload of an ingest whose record is gone or being replaced. */
  void discardBytes(IngestRecord record) {
    if (record.uploadId() != null) {
      // The upload's key never holds an object before completion, so aborting it loses nothing.
      objects.abortUpload(record.uploadKey(), record.uploadId());
    }
    if (record.dataKey() != null) {
      objects.delete(record.dataKey());
    }
  }
}
