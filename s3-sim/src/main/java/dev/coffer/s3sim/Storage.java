package dev.coffer.s3sim;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Where the simulated S3 keeps its state: buckets, objects and multipart uploads, as immutable
 * records. The server holds its own lock around every call and decides every semantic question
 * (conditions, checksums, ETags); a storage only keeps what it is given: {@link #inMemory()} for
 * tests, {@link #onDisk(Path)} for a server that keeps its data between runs.
 *
 * <p>Implementations need not be thread-safe: the server never calls one from two threads at once.
 */
public interface Storage {

  /** A new, empty storage in memory. */
  static Storage inMemory() {
    return new MemoryStorage();
  }

  /**
   * The storage kept in {@code directory} (created 0700 if missing): whatever it held is there again,
   * and every change is durable once the call returns, written whole or not at all (SEC-9 of
   * docs/architecture.md). One process at a time may open a directory.
   *
   * @throws java.io.UncheckedIOException if the directory cannot be created or read, or holds files
   *     this storage did not write
   */
  static Storage onDisk(Path directory) {
    return DiskStorage.open(directory);
  }

  /** Creates a bucket; false if it exists. */
  boolean createBucket(String bucket, Instant created);

  /** When the bucket was created, or null if there is no such bucket. */
  Instant bucketCreated(String bucket);

  /** Removes a bucket and whatever it holds; false if there was none. */
  boolean deleteBucket(String bucket);

  /** The buckets, by name. */
  List<String> buckets();

  /** The object at {@code key}, or null. */
  StoredObject object(String bucket, String key);

  /** Stores {@code object} at its key, replacing any there. */
  void putObject(String bucket, StoredObject object);

  /** Removes the object at {@code key}; false if there was none. */
  boolean removeObject(String bucket, String key);

  /** The objects whose keys are at or after {@code fromKey} (null: all), in key order. */
  Iterator<StoredObject> objectsFrom(String bucket, String fromKey);

  /**
   * What a listing shows of the objects whose keys are at or after {@code fromKey} (null: all), in
   * key order. This default reads each object; a storage that keeps the bytes apart answers
   * without reading them.
   */
  default Iterator<ObjectSummary> summariesFrom(String bucket, String fromKey) {
    Iterator<StoredObject> objects = objectsFrom(bucket, fromKey);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return objects.hasNext();
      }

      @Override
      public ObjectSummary next() {
        return objects.next().summary();
      }
    };
  }

  /** The multipart upload with {@code uploadId}, or null. */
  StoredUpload upload(String bucket, String uploadId);

  /** Stores {@code upload} under its id, replacing any there. */
  void putUpload(String bucket, StoredUpload upload);

  /** Removes the upload; false if there was none. */
  boolean removeUpload(String bucket, String uploadId);

  /** The uploads in progress, by key and then in the order they were created. */
  List<StoredUpload> uploads(String bucket);

  /**
   * The uploads in progress whose keys are at or after {@code fromKey} (null: all), by key and
   * then in the order they were created, for a page of ListMultipartUploads. This default sorts
   * them all; a storage that keeps them in that order starts at {@code fromKey}.
   */
  default Iterator<StoredUpload> uploadsFrom(String bucket, String fromKey) {
    return uploads(bucket).stream()
        .filter(u -> fromKey == null || u.key().compareTo(fromKey) >= 0).iterator();
  }

  /**
   * An object's whole checksum as S3 keeps it.
   *
   * @param algorithm {@code CRC32}, {@code CRC32C}, {@code CRC64NVME}, {@code SHA1} or {@code SHA256}
   * @param type {@code FULL_OBJECT} or {@code COMPOSITE}
   * @param value the base64 value; a composite one ends in {@code -} and the number of parts
   */
  record StoredChecksum(String algorithm, String type, String value) {
    /** @throws NullPointerException if a component is null */
    public StoredChecksum {
      Objects.requireNonNull(algorithm, "algorithm");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(value, "value");
    }
  }

  /**
   * An object.
   *
   * @param content the bytes, never modified once stored
   * @param etag the ETag, quoted
   * @param lastModified when it was stored, on the server's clock
   * @param metadata the user metadata ({@code x-amz-meta-*}, names without the prefix)
   * @param tags the tags, in the order they were given
   * @param checksum the whole object's checksum, or null
   * @param parts the number of parts of a multipart upload, or 0
   */
  record StoredObject(String key, byte[] content, String etag, Instant lastModified,
      String contentType, Map<String, String> metadata, Map<String, String> tags,
      StoredChecksum checksum, int parts) {
    /** Copies the maps into immutable ones (tags keep their order). */
    public StoredObject {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(content, "content");
      metadata = Collections.unmodifiableMap(new TreeMap<>(metadata));
      tags = Collections.unmodifiableMap(new LinkedHashMap<>(tags));
    }

    /** What a listing shows of it. */
    public ObjectSummary summary() {
      return new ObjectSummary(key, content.length, etag, lastModified, checksum);
    }

    /** This object with other tags. */
    public StoredObject withTags(Map<String, String> newTags) {
      return new StoredObject(key, content, etag, lastModified, contentType, metadata, newTags,
          checksum, parts);
    }
  }

  /**
   * An object without its bytes, as a listing shows it.
   *
   * @param size the length of its content
   * @param checksum the whole object's checksum, or null
   */
  record ObjectSummary(String key, long size, String etag, Instant lastModified,
      StoredChecksum checksum) {}

  /**
   * One uploaded part.
   *
   * @param content the bytes, never modified once stored
   * @param etag the part's ETag, quoted
   * @param checksum the part's checksum in the upload's algorithm (base64), or null
   */
  record StoredPart(int number, byte[] content, String etag, Instant lastModified,
      String checksum) {}

  /**
   * A multipart upload in progress.
   *
   * @param sequence orders the uploads of one key by creation
   * @param checksumAlgorithm the algorithm every part carries, or null
   * @param checksumType {@code FULL_OBJECT} or {@code COMPOSITE}, or null without an algorithm
   * @param parts the parts uploaded so far, by number
   */
  record StoredUpload(String uploadId, long sequence, String key, Instant initiated,
      String contentType, Map<String, String> metadata, Map<String, String> tags,
      String checksumAlgorithm, String checksumType, SortedMap<Integer, StoredPart> parts) {
    /** Copies the maps into immutable ones. */
    public StoredUpload {
      metadata = Collections.unmodifiableMap(new TreeMap<>(metadata));
      tags = Collections.unmodifiableMap(new LinkedHashMap<>(tags));
      parts = Collections.unmodifiableSortedMap(new TreeMap<>(parts));
    }

    /** This upload with {@code part} added or replaced. */
    public StoredUpload withPart(StoredPart part) {
      TreeMap<Integer, StoredPart> next = new TreeMap<>(parts);
      next.put(part.number(), part);
      return new StoredUpload(uploadId, sequence, key, initiated, contentType, metadata, tags,
          checksumAlgorithm, checksumType, next);
    }
  }
}
