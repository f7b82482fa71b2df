package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.StoredUpload;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One bucket's multipart uploads in progress, by id and in listing order (key, then creation), so
 * that a page of ListMultipartUploads starts at its marker and walks only the uploads it shows,
 * rather than sorting every upload in the bucket. Not thread-safe (the server locks).
 */
final class UploadIndex {
  private final Map<String, StoredUpload> byId = new HashMap<>();
  /** By key, then by {@link StoredUpload#sequence}. */
  private final NavigableMap<String, NavigableMap<Long, StoredUpload>> byKey = new TreeMap<>();

  StoredUpload get(String uploadId) {
    return byId.get(uploadId);
  }

  /** Adds {@code upload}, or replaces the one with its id (its key and sequence never change). */
  void put(StoredUpload upload) {
    byId.put(upload.uploadId(), upload);
    byKey.computeIfAbsent(upload.key(), k -> new TreeMap<>()).put(upload.sequence(), upload);
  }

  /** Removes the upload with {@code uploadId}; returns it, or null if there was none. */
  StoredUpload remove(String uploadId) {
    StoredUpload upload = byId.remove(uploadId);
    if (upload != null) {
      NavigableMap<Long, StoredUpload> ofKey = byKey.get(upload.key());
      ofKey.remove(upload.sequence());
      if (ofKey.isEmpty()) {
        byKey.remove(upload.key());
      }
    }
    return upload;
  }

  /** Every upload, by key and then creation. */
  List<StoredUpload> all() {
    List<StoredUpload> all = new ArrayList<>(byId.size());
    byKey.values().forEach(ofKey -> all.addAll(ofKey.values()));
    return all;
  }

  /**
   * The uploads whose keys are at or after {@code fromKey} (null: all), by key and then creation;
   * each step costs the logarithm of the number of keys, not a walk of the uploads before.
   */
  Iterator<StoredUpload> from(String fromKey) {
    Iterator<NavigableMap<Long, StoredUpload>> keys =
        (fromKey == null ? byKey : byKey.tailMap(fromKey, true)).values().iterator();
    return new Iterator<>() {
      private Iterator<StoredUpload> current = Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && keys.hasNext()) {
          current = keys.next().values().iterator();
        }
        return current.hasNext();
      }

      @Override
      public StoredUpload next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}
