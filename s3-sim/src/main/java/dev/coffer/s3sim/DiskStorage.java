// Over 400 lines: one file format (objects, uploads, parts) with its reader and writer side by side.
package dev.coffer.s3sim;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
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
 * asked for); uploads in progress are held whole in memory as well as on disk.
 *
 * <p>Not thread-safe (the server locks), and not shared: one process at a time may use a root.
 */
final class DiskStorage implements Storage {
  private static final int OBJECT_MAGIC = 0x43534f31; // "CSO1"
  private static final int UPLOAD_MAGIC = 0x43535531; // "CSU1"
  private static final String TEMP_PREFIX = ".tmp-";
  private static final int WRITE_SLICE = 1 << 20;

  /** An object without its bytes. */
  private record Description(String key, long length, String etag, Instant lastModified,
      String contentType, Map<String, String> metadata, Map<String, String> tags,
      StoredChecksum checksum, int parts) {}

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
  private final NavigableMap<String, Bucket> buckets = new TreeMap<>();
  /**
   * The object last written or read, kept whole: a multipart copy reads its source once per part
   * (UploadPartCopy), and the store copies each new blob so right after completing it.
   */
  private Bucket recentBucket;
  private StoredObject recent;

  private DiskStorage(Path root) {
    this.root = root;
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
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
      for (Path dir : dirs) {
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
            Description d = readDescription(file);
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

  private static boolean removedTemporary(Path file) throws IOException {
    if (file.getFileName().toString().startsWith(TEMP_PREFIX)) {
      Files.deleteIfExists(file);
      return true;
    }
    return false;
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
    ByteArrayOutputStream header = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(header)) {
      out.writeInt(OBJECT_MAGIC);
      writeString(out, object.key());
      out.writeLong(object.content().length);
      writeString(out, object.etag());
      writeInstant(out, object.lastModified());
      writeString(out, object.contentType());
      writeMap(out, object.metadata());
      writeMap(out, object.tags());
      StoredChecksum c = object.checksum();
      out.writeBoolean(c != null);
      if (c != null) {
        writeString(out, c.algorithm());
        writeString(out, c.type());
        writeString(out, c.value());
      }
      out.writeInt(object.parts());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      Files.createDirectories(file.getParent());
      // The bytes go from the object's own array to the file: no copy of a large object.
      writeAtomically(file, header.toByteArray(), object.content());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
    recentBucket = b;
    recent = object;
    b.objects.put(object.key(), new Description(object.key(), object.content().length,
        object.etag(), object.lastModified(), object.contentType(), object.metadata(),
        object.tags(), object.checksum(), object.parts()));
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
          writeAtomically(dir.resolve("part-" + part.number()), partHeader(part),
              part.content());
        }
      }
      if (before != null) {
        for (Integer number : before.parts().keySet()) {
          if (!upload.parts().containsKey(number)) {
            Files.deleteIfExists(dir.resolve("part-" + number));
          }
        }
      }
      // The description last: an upload is listed once it names only parts already on disk.
      writeAtomically(dir.resolve("upload"), uploadBytes(upload));
      forceDirectory(dir.getParent());
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

  // ---- files

  private static Path objectFile(Bucket b, String key) {
    String name = sha256(key);
    return b.dir.resolve("objects").resolve(name.substring(0, 2)).resolve(name);
  }

  private static Path uploadDir(Bucket b, String uploadId) {
    return b.dir.resolve("uploads").resolve(sha256(uploadId));
  }

  private static StoredObject read(Bucket b, String key) {
    Path file = objectFile(b, key);
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(
        Files.newInputStream(file)))) {
      Description d = readDescription(in, file);
      if (!d.key().equals(key)) {
        throw new IOException("holds key " + d.key() + ", not " + key);
      }
      byte[] content = in.readNBytes(Math.toIntExact(d.length()));
      if (content.length != d.length()) {
        throw new IOException("cut short: " + content.length + " of " + d.length() + " bytes");
      }
      return new StoredObject(d.key(), content, d.etag(), d.lastModified(), d.contentType(),
          d.metadata(), d.tags(), d.checksum(), d.parts());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read object " + key + " from " + file, e);
    }
  }

  private static Description readDescription(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(
        Files.newInputStream(file), 8192))) {
      return readDescription(in, file);
    }
  }

  private static Description readDescription(DataInputStream in, Path file) throws IOException {
    if (in.readInt() != OBJECT_MAGIC) {
      throw new IOException(file + " is not an object file");
    }
    String key = readString(in);
    long length = in.readLong();
    String etag = readString(in);
    Instant lastModified = readInstant(in);
    String contentType = readString(in);
    Map<String, String> metadata = readMap(in);
    Map<String, String> tags = readMap(in);
    StoredChecksum checksum = in.readBoolean()
        ? new StoredChecksum(readString(in), readString(in), readString(in)) : null;
    int parts = in.readInt();
    return new Description(key, length, etag, lastModified, contentType, metadata, tags, checksum,
        parts);
  }

  private static byte[] partHeader(StoredPart part) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(part.number());
      writeString(out, part.etag());
      writeInstant(out, part.lastModified());
      writeString(out, part.checksum());
      out.writeInt(part.content().length);
    }
    return bytes.toByteArray();
  }

  private static byte[] uploadBytes(StoredUpload u) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(UPLOAD_MAGIC);
      writeString(out, u.uploadId());
      out.writeLong(u.sequence());
      writeString(out, u.key());
      writeInstant(out, u.initiated());
      writeString(out, u.contentType());
      writeMap(out, u.metadata());
      writeMap(out, u.tags());
      writeString(out, u.checksumAlgorithm());
      writeString(out, u.checksumType());
      out.writeInt(u.parts().size());
      for (int number : u.parts().keySet()) {
        out.writeInt(number);
      }
    }
    return bytes.toByteArray();
  }

  /** The upload in {@code dir}, or null if its description was never written (and then removes it). */
  private static StoredUpload readUpload(Path dir) throws IOException {
    Path description = dir.resolve("upload");
    if (!Files.isRegularFile(description)) {
      deleteTree(dir);
      return null;
    }
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(
        Files.newInputStream(description)))) {
      if (in.readInt() != UPLOAD_MAGIC) {
        throw new IOException(description + " is not an upload file");
      }
      String uploadId = readString(in);
      long sequence = in.readLong();
      String key = readString(in);
      Instant initiated = readInstant(in);
      String contentType = readString(in);
      Map<String, String> metadata = readMap(in);
      Map<String, String> tags = readMap(in);
      String algorithm = readString(in);
      String type = readString(in);
      int count = in.readInt();
      SortedMap<Integer, StoredPart> parts = new TreeMap<>();
      for (int i = 0; i < count; i++) {
        int number = in.readInt();
        parts.put(number, readPart(dir.resolve("part-" + number)));
      }
      return new StoredUpload(uploadId, sequence, key, initiated, contentType, metadata, tags,
          algorithm, type, parts);
    }
  }

  private static StoredPart readPart(Path file) throws IOException {
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(
        Files.newInputStream(file)))) {
      int number = in.readInt();
      String etag = readString(in);
      Instant lastModified = readInstant(in);
      String checksum = readString(in);
      int length = in.readInt();
      byte[] content = in.readNBytes(length);
      if (content.length != length) {
        throw new IOException(file + " is cut short");
      }
      return new StoredPart(number, content, etag, lastModified, checksum);
    }
  }

  /** Writes {@code chunks} to a new file beside {@code target}, forces it, renames it over it. */
  private static void writeAtomically(Path target, byte[]... chunks) throws IOException {
    Path temp = target.resolveSibling(TEMP_PREFIX + UUID.randomUUID());
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        for (byte[] chunk : chunks) {
          // In slices: the JDK copies a heap buffer into a direct one of the size written.
          for (int at = 0; at < chunk.length; at += WRITE_SLICE) {
            ByteBuffer buffer = ByteBuffer.wrap(chunk, at, Math.min(WRITE_SLICE, chunk.length - at));
            while (buffer.hasRemaining()) {
              channel.write(buffer);
            }
          }
        }
        channel.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      forceDirectory(target.getParent());
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** Makes a directory's entries (a rename, a removal) durable. */
  private static void forceDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }

  // ---- encoding: strings as a presence flag, a length and UTF-8 bytes (no 64 KiB limit)

  private static void writeString(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      out.writeInt(bytes.length);
      out.write(bytes);
    }
  }

  private static String readString(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    int length = in.readInt();
    byte[] bytes = in.readNBytes(length);
    if (bytes.length != length) {
      throw new IOException("cut short");
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static void writeInstant(DataOutputStream out, Instant t) throws IOException {
    out.writeLong(t.getEpochSecond());
    out.writeInt(t.getNano());
  }

  private static Instant readInstant(DataInputStream in) throws IOException {
    return Instant.ofEpochSecond(in.readLong(), in.readInt());
  }

  private static void writeMap(DataOutputStream out, Map<String, String> map) throws IOException {
    out.writeInt(map.size());
    for (Map.Entry<String, String> e : map.entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
  }

  private static Map<String, String> readMap(DataInputStream in) throws IOException {
    int size = in.readInt();
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < size; i++) {
      map.put(readString(in), readString(in));
    }
    return map;
  }
}
