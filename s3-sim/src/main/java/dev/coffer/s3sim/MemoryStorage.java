package dev.coffer.s3sim;

import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/** {@link Storage} in memory: sorted maps per bucket. Not thread-safe (the server locks). */
final class MemoryStorage implements Storage {

  private static final class Bucket {
    final Instant created;
    final NavigableMap<String, StoredObject> objects = new TreeMap<>();
    final UploadIndex uploads = new UploadIndex();

    Bucket(Instant created) {
      this.created = created;
    }
  }

  private final NavigableMap<String, Bucket> buckets = new TreeMap<>();

  private Bucket bucket(String name) {
    Bucket b = buckets.get(name);
    if (b == null) {
      throw new IllegalStateException("no bucket " + name);
    }
    return b;
  }

  @Override
  public boolean createBucket(String bucket, Instant created) {
    return buckets.putIfAbsent(bucket, new Bucket(created)) == null;
  }

  @Override
  public Instant bucketCreated(String bucket) {
    Bucket b = buckets.get(bucket);
    return b == null ? null : b.created;
  }

  @Override
  public boolean deleteBucket(String bucket) {
    return buckets.remove(bucket) != null;
  }

  @Override
  public List<String> buckets() {
    return List.copyOf(buckets.keySet());
  }

  @Override
  public StoredObject object(String bucket, String key) {
    return bucket(bucket).objects.get(key);
  }

  @Override
  public void putObject(String bucket, StoredObject object) {
    bucket(bucket).objects.put(object.key(), object);
  }

  @Override
  public boolean removeObject(String bucket, String key) {
    return bucket(bucket).objects.remove(key) != null;
  }

  @Override
  public Iterator<StoredObject> objectsFrom(String bucket, String fromKey) {
    NavigableMap<String, StoredObject> objects = bucket(bucket).objects;
    return (fromKey == null ? objects : objects.tailMap(fromKey, true)).values().iterator();
  }

  @Override
  public StoredUpload upload(String bucket, String uploadId) {
    return bucket(bucket).uploads.get(uploadId);
  }

  @Override
  public void putUpload(String bucket, StoredUpload upload) {
    bucket(bucket).uploads.put(upload);
  }

  @Override
  public boolean removeUpload(String bucket, String uploadId) {
    return bucket(bucket).uploads.remove(uploadId) != null;
  }

  @Override
  public List<StoredUpload> uploads(String bucket) {
    return bucket(bucket).uploads.all();
  }

  @Override
  public Iterator<StoredUpload> uploadsFrom(String bucket, String fromKey) {
    return bucket(bucket).uploads.from(fromKey);
  }
}
