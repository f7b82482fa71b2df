package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.ObjectSummary;
import dev.coffer.s3sim.Storage.StoredChecksum;
import dev.coffer.s3sim.Storage.StoredObject;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * The state and semantics of the simulated S3 for buckets and objects (multipart uploads are in
 * {@link Multipart}, on the same lock and storage). Every operation runs under one lock, so all are
 * atomic and linearizable, and every read sees every write before it (S3's strong read-after-write
 * consistency; invariant SIM-1 of docs/architecture.md). The one exception is the capability fault of non-atomic conditional writes, where
 * the check and the write of a conditional PutObject or CompleteMultipartUpload are two steps with
 * the lock released, and the gap hook run, between them.
 *
 * <p>Times come from the clock, in S3's whole seconds. Thread-safe.
 */
final class S3Model {
  /** S3's bucket names: 3 to 63 lower-case letters, digits, dots and hyphens. */
  private static final Pattern BUCKET_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  final ReentrantLock lock = new ReentrantLock();
  final Storage storage;
  final Clock clock;
  final Capabilities capabilities;
  /** Runs between the check and the write of a non-atomic conditional write. */
  final Runnable conditionalGap;

  S3Model(Storage storage, Clock clock, Capabilities capabilities, Runnable conditionalGap) {
    this.storage = Objects.requireNonNull(storage, "storage");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.capabilities = Objects.requireNonNull(capabilities, "capabilities");
    this.conditionalGap = Objects.requireNonNull(conditionalGap, "conditionalGap");
  }

  /** Now, in S3's precision. */
  Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.SECONDS);
  }

  // ---- buckets

  void createBucket(String bucket) {
    if (!BUCKET_NAME.matcher(bucket).matches() || bucket.contains("..")) {
      throw new S3Error(400, "InvalidBucketName", "The specified bucket is not valid.",
          Map.of("BucketName", bucket));
    }
    lock.lock();
    try {
      if (!storage.createBucket(bucket, now())) {
        // Outside us-east-1 S3 answers this; in us-east-1 it answers 200 for legacy reasons.
        throw new S3Error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the "
            + "named bucket succeeded and you already own it.", Map.of("BucketName", bucket));
      }
    } finally {
      lock.unlock();
    }
  }

  void headBucket(String bucket) {
    lock.lock();
    try {
      requireBucket(bucket);
    } finally {
      lock.unlock();
    }
  }

  void deleteBucket(String bucket) {
    lock.lock();
    try {
      requireBucket(bucket);
      if (storage.summariesFrom(bucket, null).hasNext()) {
        throw new S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty",
            Map.of("BucketName", bucket));
      }
      storage.deleteBucket(bucket);
    } finally {
      lock.unlock();
    }
  }

  /** The buckets and when each was created. */
  Map<String, Instant> buckets() {
    lock.lock();
    try {
      Map<String, Instant> all = new java.util.TreeMap<>();
      storage.buckets().forEach(b -> all.put(b, storage.bucketCreated(b)));
      return all;
    } finally {
      lock.unlock();
    }
  }

  /** Must hold the lock. */
  void requireBucket(String bucket) {
    if (storage.bucketCreated(bucket) == null) {
      throw S3Error.noSuchBucket(bucket);
    }
  }

  // ---- objects

  /** What a PutObject stores, its checksums already verified. */
  record NewObject(byte[] content, String contentType, Map<String, String> metadata,
      Map<String, String> tags, StoredChecksum checksum) {}

  /**
   * Stores an object if {@code conditions} hold (412, or 404 for If-Match on a missing key). On a
   * storage that stages writes ({@link StagedObjects}) the object is written before the lock and
   * only published under it, so PUTs of different objects overlap their writes; the decision and
   * the publication are still one step under the lock, and a write refused or beaten leaves nothing.
   */
  StoredObject put(String bucket, String key, NewObject object, Conditions conditions) {
    // Functions of the request alone, computed before the lock: every write waits for it.
    String etag = md5Etag(object.content());
    StoredChecksum checksum = checksumOrDefault(object.checksum(), object.content());
    try (StagedObjects.Staged staged = stage(() -> new StoredObject(key, object.content(), etag,
        now(), object.contentType(), object.metadata(), object.tags(), checksum, 0))) {
      lock.lock();
      try {
        requireBucket(bucket);
        conditions.checkWrite(storage.object(bucket, key), key);
        betweenCheckAndWrite(conditions, () -> {
          requireBucket(bucket);
          return null;
        });
        StoredObject stored = new StoredObject(key, object.content(), etag, now(),
            object.contentType(), object.metadata(), object.tags(), checksum, 0);
        if (staged == null) {
          storage.putObject(bucket, stored);
        } else {
          ((StagedObjects) storage).putObject(bucket, stored, staged);
        }
        return stored;
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * The object {@code draft} gives written ahead, where the storage stages writes; else null, and
   * the draft is not made (in memory nothing happens before the lock, so the simulation reads its
   * clock exactly when it did).
   */
  private StagedObjects.Staged stage(java.util.function.Supplier<StoredObject> draft) {
    return storage instanceof StagedObjects staging ? staging.stage(draft.get()) : null;
  }

  /**
   * Where conditional writes are not atomic, releases the lock between the check the caller made
   * and the write, runs the gap hook, and re-runs {@code recheck} (the existence checks only: the
   * condition is not evaluated again, which is the fault). Must hold the lock.
   */
  <T> T betweenCheckAndWrite(Conditions conditions, java.util.function.Supplier<T> recheck) {
    if (capabilities.atomicConditionalWrites() || conditions.isEmpty()) {
      return null;
    }
    lock.unlock();
    try {
      conditionalGap.run();
    } finally {
      lock.lock();
    }
    return recheck.get();
  }

  /** The object, if the read conditions hold (404, 412, 304). */
  StoredObject get(String bucket, String key, Conditions conditions) {
    lock.lock();
    try {
      requireBucket(bucket);
      StoredObject object = storage.object(bucket, key);
      if (object == null) {
        throw S3Error.noSuchKey(key);
      }
      conditions.checkRead(object);
      return object;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes the object. Without If-Match a missing key is no error (204). With If-Match: a
   * different ETag is 412, a missing key 404 NoSuchKey (S3 User Guide, "How to perform conditional
   * deletes", for general purpose buckets since 2025; the API reference's older note that a
   * missing key answers 204 describes directory buckets). A server without conditional deletes
   * ignores If-Match.
   */
  void delete(String bucket, String key, String ifMatch) {
    lock.lock();
    try {
      requireBucket(bucket);
      StoredObject existing = storage.object(bucket, key);
      if (ifMatch != null && capabilities.conditionalDeletes()) {
        if (existing == null) {
          throw S3Error.noSuchKey(key);
        }
        if (!Conditions.matches(ifMatch, existing.etag())) {
          throw S3Error.preconditionFailed("If-Match");
        }
      }
      storage.removeObject(bucket, key);
    } finally {
      lock.unlock();
    }
  }

  /** A CopyObject's source and what the copy changes. */
  record CopyRequest(String sourceBucket, String sourceKey, Conditions sourceConditions,
      boolean replaceMetadata, String contentType, Map<String, String> metadata,
      boolean replaceTags, Map<String, String> tags, ChecksumAlgorithm checksumAlgorithm) {}

  /**
   * Copies an object (at most 5 GiB in S3; any size here) to {@code key}. The copy is a new
   * single-part object: its ETag is the MD5 of its bytes. Its checksum is the source's algorithm
   * (S3 copies the checksum "by default"), recomputed over the whole object, or the algorithm the
   * request names ("Checking object integrity", S3 User Guide).
   */
  StoredObject copy(String bucket, String key, CopyRequest copy, Conditions conditions) {
    lock.lock();
    try {
      requireBucket(bucket);
      requireBucket(copy.sourceBucket());
      StoredObject source = storage.object(copy.sourceBucket(), copy.sourceKey());
      if (source == null) {
        throw S3Error.noSuchKey(copy.sourceKey());
      }
      copy.sourceConditions().checkCopySource(source);
      if (copy.sourceBucket().equals(bucket) && copy.sourceKey().equals(key)
          && !copy.replaceMetadata() && copy.checksumAlgorithm() == null) {
        throw S3Error.invalidRequest("This copy request is illegal because it is trying to copy "
            + "an object to itself without changing the object's metadata, storage class, "
            + "website redirect location or encryption attributes.");
      }
      conditions.checkWrite(storage.object(bucket, key), key);
      ChecksumAlgorithm algorithm = copy.checksumAlgorithm() != null ? copy.checksumAlgorithm()
          : source.checksum() == null ? null
          : ChecksumAlgorithm.named(source.checksum().algorithm());
      StoredChecksum checksum = algorithm == null ? null : new StoredChecksum(algorithm.apiName(),
          ChecksumAlgorithm.FULL_OBJECT, algorithm.of(source.content()));
      StoredObject stored = new StoredObject(key, source.content(), md5Etag(source.content()),
          now(), copy.replaceMetadata() ? copy.contentType() : source.contentType(),
          copy.replaceMetadata() ? copy.metadata() : source.metadata(),
          copy.replaceTags() ? copy.tags() : source.tags(),
          checksumOrDefault(checksum, source.content()), 0);
      storage.putObject(bucket, stored);
      return stored;
    } finally {
      lock.unlock();
    }
  }

  /** Replaces the object's tags (validated by the caller); 404 if there is no object. */
  void putTags(String bucket, String key, Map<String, String> tags) {
    lock.lock();
    try {
      requireBucket(bucket);
      StoredObject object = storage.object(bucket, key);
      if (object == null) {
        throw S3Error.noSuchKey(key);
      }
      storage.putObject(bucket, object.withTags(tags));
    } finally {
      lock.unlock();
    }
  }

  /** One page of ListObjectsV2. */
  record Listing(List<ObjectSummary> contents, List<String> commonPrefixes, boolean truncated,
      Marker next) {}

  /** Where a listing continues: after a key, or after every key under a common prefix. */
  record Marker(String value, boolean commonPrefix) {}

  /**
   * A page of the keys under {@code prefix} after {@code after} (null: from the start), in
   * lexicographic (UTF-16 code unit, which is UTF-8 byte order for these keys) order, with keys
   * that contain {@code delimiter} after the prefix rolled up into common prefixes; at most
   * {@code maxKeys} entries, counting both.
   */
  Listing list(String bucket, String prefix, String delimiter, Marker after, int maxKeys) {
    lock.lock();
    try {
      requireBucket(bucket);
      List<ObjectSummary> contents = new ArrayList<>();
      List<String> prefixes = new ArrayList<>();
      String from = after != null && after.value().compareTo(prefix) > 0 ? after.value() : prefix;
      Iterator<ObjectSummary> it = storage.summariesFrom(bucket, from.isEmpty() ? null : from);
      Marker last = null;
      boolean truncated = false;
      while (it.hasNext()) {
        ObjectSummary object = it.next();
        String key = object.key();
        if (after != null && (after.commonPrefix() ? key.startsWith(after.value())
            : key.compareTo(after.value()) <= 0)) {
          continue;
        }
        if (!key.startsWith(prefix)) {
          break; // past every key under the prefix
        }
        String rolled = null;
        if (delimiter != null && !delimiter.isEmpty()) {
          int at = key.indexOf(delimiter, prefix.length());
          if (at >= 0) {
            rolled = key.substring(0, at + delimiter.length());
            if (last != null && last.commonPrefix() && last.value().equals(rolled)) {
              continue;
            }
          }
        }
        if (contents.size() + prefixes.size() >= maxKeys) {
          truncated = true;
          break;
        }
        if (rolled != null) {
          prefixes.add(rolled);
          last = new Marker(rolled, true);
        } else {
          contents.add(object);
          last = new Marker(key, false);
        }
      }
      return new Listing(contents, prefixes, truncated, truncated ? last : null);
    } finally {
      lock.unlock();
    }
  }

  /** The checksum to keep: the one given, else S3's default CRC64NVME where it has one. */
  StoredChecksum checksumOrDefault(StoredChecksum given, byte[] content) {
    if (given != null || !capabilities.defaultChecksum()) {
      return given;
    }
    return new StoredChecksum(ChecksumAlgorithm.CRC64NVME.apiName(), ChecksumAlgorithm.FULL_OBJECT,
        ChecksumAlgorithm.CRC64NVME.of(content));
  }

  /** A single-part object's ETag: its MD5 in hex, quoted. */
  static String md5Etag(byte[] content) {
    return "\"" + HexFormat.of().formatHex(md5(content, 0, content.length)) + "\"";
  }

  static byte[] md5(byte[] content, int offset, int length) {
    return ChecksumAlgorithm.digest("MD5", content, offset, length);
  }
}
