package dev.coffer.s3sim;

import static dev.coffer.s3sim.DurableFiles.deleteTree;
import static dev.coffer.s3sim.DurableFiles.forceDirectory;
import static dev.coffer.s3sim.DurableFiles.publish;
import static dev.coffer.s3sim.DurableFiles.removedTemporary;
import static dev.coffer.s3sim.DurableFiles.writeAtomically;
import static dev.coffer.s3sim.DurableFiles.writeForced;

import dev.coffer.s3sim.DiskFormat.Description;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * {@link Storage} in a directory, durable: every change is written to a new file, forced to disk,
 * renamed over the old one and its directory forced (SEC-9 of docs/architecture.md), so a crash
 * leaves each object, bucket and upload either as it was or as it became, never half-written, and
 * what was acknowledged survives a restart.
 *
 * <p>Layout under the root: {@code <bucket>/bucket} (the creation time), {@code
 * <bucket>/objects/<hh>/<sha-256 of the key>} (one file per object: its description, then its
 * bytes), {@code <bucket>/uploads/<sha-256 of the upload id>/upload} and {@code .../part-<n>}. Object
 * descriptions are indexed in memory at start (the bytes stay on disk and are read when an object is
 * asked for); uploads in progress are held whole in memory as well as on disk. The files are
 * encoded by {@link DiskFormat} and written by {@link DurableFiles}.
 *
 * <p>A PutObject's file is staged ({@link StagedObjects}): written and forced in {@code .staging/}
 * under the root before the server's lock is taken, then, under the lock, renamed into place and
 * its directory forced. {@code .staging} is no bucket's name (a bucket's starts with a letter or a
 * digit), and what it holds at start, writes a crash cut short, is removed.
 *
 * <p>Not thread-safe (the server locks) except {@link #stage}, and not shared: one process at a
 * time may use a root.
 */
final class DiskStorage implements Storage, StagedObjects {
  /** Where PutObject's files are written before they are published. */
  static final String STAGING = ".staging";

  private static final class Bucket {
    final Path dir;
    final Instant created;
    final NavigableMap<String, Description> objects = new TreeMap<>();
    final UploadIndex uploads = new UploadIndex();

    Bucket(Path dir, Instant created) {
      this.dir = dir;
      this.created = created;
    }
  }

  private final Path root;
  private final Path staging;
  private final NavigableMap<String, Bucket> buckets = new TreeMap<>();
  /**
   * The object last written or read, kept whole: a multipart copy reads its source once per part
   * (UploadPartCopy), and the store copies each new blob so right after completing it.
   */
  private Bucket recentBucket;
  private StoredObject recent;
  /**
   * Runs with an object's key while its file is written, before it is published (a staged file
   * once it is forced): where tests hold a write to see what waits for it.
   */
  volatile Consumer<String> objectForced = key -> {};

  private DiskStorage(Path root) {
    this.root = root;
    this.staging = root.resolve(STAGING);
  }

  /**
   * Opens the storage in {@code root}, creating it (mode 0700) if missing, and indexes what it holds;
   * temporary files of interrupted writes are removed.
   *
   * @throws UncheckedIOException if the directory cannot be created or read, or a file in it is not
   *     one this storage wrote
   */
  static DiskStorage open(Path root) {
    try {
      if (!Files.isDirectory(root)) {
        Files.createDirectories(root);
        try {
          Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
          // Not a POSIX file system: the platform's default permissions.
        }
      }
      DiskStorage storage = new DiskStorage(root);
      storage.load();
      return storage;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the storage in " + root, e);
    }
  }

  private void load() throws IOException {
    deleteTree(staging);
    Files.createDirectories(staging);
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path dir : dirs) {
        if (dir.equals(staging)) {
          continue;
        }
        Path createdFile = dir.resolve("bucket");
        if (!Files.isRegularFile(createdFile)) {
          continue; // a bucket whose creation never completed
        }
        Bucket bucket = new Bucket(dir, Instant.parse(Files.readString(createdFile).trim()));
        buckets.put(dir.getFileName().toString(), bucket);
        try (Stream<Path> files = Files.walk(dir.resolve("objects"))) {
          for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
            if (removedTemporary(file)) {
              continue;
            }
            Description d = DiskFormat.readDescription(file);
            bucket.objects.put(d.key(), d);
          }
        } catch (NoSuchFileException e) {
          // No object yet.
        }
        Path uploads = dir.resolve("uploads");
        if (Files.isDirectory(uploads)) {
          try (DirectoryStream<Path> ups = Files.newDirectoryStream(uploads, Files::isDirectory)) {
            for (Path up : ups) {
              StoredUpload upload = readUpload(up);
              if (upload != null) {
                bucket.uploads.put(upload);
              }
            }
          }
        }
      }
    }
  }

  private Bucket bucket(String name) {
    Bucket b = buckets.get(name);
    if (b == null) {
      throw new IllegalStateException("no bucket " + name);
    }
    return b;
  }

  @Override
  public boolean createBucket(String bucket, Instant created) {
    if (buckets.containsKey(bucket)) {
      return false;
    }
    Path dir = root.resolve(bucket);
    if (!dir.getParent().equals(root)) {
      throw new IllegalArgumentException("bucket name " + bucket + " is not a file name");
    }
    try {
      Files.createDirectories(dir.resolve("objects"));
      Files.createDirectories(dir.resolve("uploads"));
      writeAtomically(dir.resolve("bucket"), (created + "\n").getBytes(StandardCharsets.UTF_8));
      forceDirectory(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create bucket " + bucket + " in " + root, e);
    }
    buckets.put(bucket, new Bucket(dir, created));
    return true;
  }

  @Override
  public Instant bucketCreated(String bucket) {
    Bucket b = buckets.get(bucket);
    return b == null ? null : b.created;
  }

  @Override
  public boolean deleteBucket(String bucket) {
    Bucket b = buckets.remove(bucket);
    if (b == null) {
      return false;
    }
    if (recentBucket == b) {
      recentBucket = null;
      recent = null;
    }
    try {
      // The marker first: a crash part-way leaves a directory that load() ignores.
      Files.deleteIfExists(b.dir.resolve("bucket"));
      forceDirectory(b.dir);
      deleteTree(b.dir);
      forceDirectory(root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete bucket " + bucket + " in " + root, e);
    }
    return true;
  }

  @Override
  public List<String> buckets() {
    return List.copyOf(buckets.keySet());
  }

  @Override
  public StoredObject object(String bucket, String key) {
    Bucket b = bucket(bucket);
    if (!b.objects.containsKey(key)) {
      return null;
    }
    if (recentBucket != b || !recent.key().equals(key)) {
      recent = read(b, key);
      recentBucket = b;
    }
    return recent;
  }

  @Override
  public void putObject(String bucket, StoredObject object) {
    Bucket b = bucket(bucket);
    Path file = objectFile(b, object.key());
    recentBucket = null; // until the new one is written: a failed write may have replaced the file
    recent = null;
    byte[] header = DiskFormat.objectHeader(object);
    try {
      Files.createDirectories(file.getParent());
      objectForced.accept(object.key());
      // The bytes go from the object's own array to the file: no copy of a large object.
      writeAtomically(file, header, object.content());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    stored(b, object);
  }

  private void stored(Bucket b, StoredObject object) {
    recentBucket = b;
    recent = object;
    b.objects.put(object.key(), Description.of(object));
  }

  /** Writes the object's file, description and bytes, in {@code .staging}, and forces it. */
  @Override
  public Staged stage(StoredObject object) {
    byte[] header = DiskFormat.objectHeader(object);
    Path file = staging.resolve(DurableFiles.TEMP_PREFIX + UUID.randomUUID());
    try {
      writeForced(file, header, object.content());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    StagedFile staged = new StagedFile(file, header, object.content());
    try {
      objectForced.accept(object.key());
    } catch (RuntimeException | Error e) {
      staged.close();
      throw e;
    }
    return staged;
  }

  /** Renames the staged file into place if it holds {@code object}, else writes it anew. */
  @Override
  public void putObject(String bucket, StoredObject object, Staged staged) {
    if (!(staged instanceof StagedFile file) || file.owner() != this || !file.holds(object)) {
      putObject(bucket, object);
      return;
    }
    Bucket b = bucket(bucket);
    Path target = objectFile(b, object.key());
    recentBucket = null;
    recent = null;
    try {
      Files.createDirectories(target.getParent());
      publish(file.path, target);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot publish " + file.path + " as " + target, e);
    }
    file.published = true;
    stored(b, object);
  }

  /** An object's file written and forced in {@code .staging}, not yet published. */
  private final class StagedFile implements Staged {
    final Path path;
    final byte[] header;
    final byte[] content;
    /** Set under the server's lock by the thread that closes it. */
    boolean published;
    boolean closed;

    StagedFile(Path path, byte[] header, byte[] content) {
      this.path = path;
      this.header = header;
      this.content = content;
    }

    /** Whether this, unpublished, is {@code object}'s file: the same description and bytes. */
    boolean holds(StoredObject object) {
      return !published && !closed && object.content() == content
          && Arrays.equals(header, DiskFormat.objectHeader(object));
    }

    DiskStorage owner() {
      return DiskStorage.this;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      if (!published) {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot remove " + path, e);
        }
      }
    }
  }

  @Override
  public boolean removeObject(String bucket, String key) {
    Bucket b = bucket(bucket);
    if (b.objects.remove(key) == null) {
      return false;
    }
    if (recentBucket == b && recent.key().equals(key)) {
      recentBucket = null;
      recent = null;
    }
    Path file = objectFile(b, key);
    try {
      Files.deleteIfExists(file);
      forceDirectory(file.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + file, e);
    }
    return true;
  }

  @Override
  public Iterator<StoredObject> objectsFrom(String bucket, String fromKey) {
    Bucket b = bucket(bucket);
    NavigableMap<String, Description> objects = fromKey == null ? b.objects
        : b.objects.tailMap(fromKey, true);
    Iterator<String> keys = objects.keySet().iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return keys.hasNext();
      }

      @Override
      public StoredObject next() {
        return read(b, keys.next());
      }
    };
  }

  /** From the index in memory: no file is read. */
  @Override
  public Iterator<ObjectSummary> summariesFrom(String bucket, String fromKey) {
    Bucket b = bucket(bucket);
    NavigableMap<String, Description> objects = fromKey == null ? b.objects
        : b.objects.tailMap(fromKey, true);
    return objects.values().stream().map(d -> new ObjectSummary(d.key(), d.length(), d.etag(),
        d.lastModified(), d.checksum())).iterator();
  }

  @Override
  public StoredUpload upload(String bucket, String uploadId) {
    return bucket(bucket).uploads.get(uploadId);
  }

  @Override
  public void putUpload(String bucket, StoredUpload upload) {
    Bucket b = bucket(bucket);
    StoredUpload before = b.uploads.get(upload.uploadId());
    Path dir = uploadDir(b, upload.uploadId());
    try {
      Files.createDirectories(dir);
      for (StoredPart part : upload.parts().values()) {
        StoredPart old = before == null ? null : before.parts().get(part.number());
        if (old != part) {
          writeAtomically(dir.resolve("part-" + part.number()), DiskFormat.partHeader(part),
              part.content());
        }
      }
      // The description after the parts it names: an upload is listed once it names only parts
      // already on disk. Parts it no longer names go after it, so that no description on disk
      // ever names a part that is gone.
      writeAtomically(dir.resolve("upload"), DiskFormat.uploadBytes(upload));
      forceDirectory(dir.getParent());
      if (before != null) {
        for (Integer number : before.parts().keySet()) {
          if (!upload.parts().containsKey(number)) {
            Files.deleteIfExists(dir.resolve("part-" + number));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write upload " + upload.uploadId() + " in " + dir, e);
    }
    b.uploads.put(upload);
  }

  @Override
  public boolean removeUpload(String bucket, String uploadId) {
    Bucket b = bucket(bucket);
    if (b.uploads.remove(uploadId) == null) {
      return false;
    }
    Path dir = uploadDir(b, uploadId);
    try {
      Files.deleteIfExists(dir.resolve("upload"));
      forceDirectory(dir);
      deleteTree(dir);
      forceDirectory(dir.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove upload " + uploadId + " in " + dir, e);
    }
    return true;
  }

  @Override
  public List<StoredUpload> uploads(String bucket) {
    return bucket(bucket).uploads.all();
  }

  @Override
  public Iterator<StoredUpload> uploadsFrom(String bucket, String fromKey) {
    return bucket(bucket).uploads.from(fromKey);
  }

  private static Path objectFile(Bucket b, String key) {
    String name = sha256(key);
    return b.dir.resolve("objects").resolve(name.substring(0, 2)).resolve(name);
  }

  private static Path uploadDir(Bucket b, String uploadId) {
    return b.dir.resolve("uploads").resolve(sha256(uploadId));
  }

  private static StoredObject read(Bucket b, String key) {
    Path file = objectFile(b, key);
    try {
      return DiskFormat.readObject(file, key);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read object " + key + " from " + file, e);
    }
  }

  /** The upload in {@code dir}, or null if its description was never written (and then removes it). */
  private static StoredUpload readUpload(Path dir) throws IOException {
    Path description = dir.resolve("upload");
    if (!Files.isRegularFile(description)) {
      deleteTree(dir);
      return null;
    }
    return DiskFormat.readUpload(description);
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }
}
