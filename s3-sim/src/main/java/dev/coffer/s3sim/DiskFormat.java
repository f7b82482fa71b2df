package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.StoredChecksum;
import dev.coffer.s3sim.Storage.StoredObject;
import dev.coffer.s3sim.Storage.StoredPart;
import dev.coffer.s3sim.Storage.StoredUpload;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The files of {@link DiskStorage}, encoded and decoded: an object file is its description then
 * its bytes, an upload file its description and the numbers of its parts, a part file its header
 * then its bytes. Strings are a presence flag, a length and UTF-8 bytes (no 64 KiB limit),
 * instants seconds and nanoseconds, maps a size and their entries in order. A file that does not
 * decode (another magic number, cut short) is an {@link IOException} naming it; what is decoded
 * is exactly what was encoded.
 */
final class DiskFormat {
  private static final int OBJECT_MAGIC = 0x43534f31; // "CSO1"
  private static final int UPLOAD_MAGIC = 0x43535531; // "CSU1"

  private DiskFormat() {}

  /** An object without its bytes, as the storage indexes it in memory. */
  record Description(String key, long length, String etag, Instant lastModified,
      String contentType, Map<String, String> metadata, Map<String, String> tags,
      StoredChecksum checksum, int parts) {

    /** The description of {@code object}. */
    static Description of(StoredObject object) {
      return new Description(object.key(), object.content().length, object.etag(),
          object.lastModified(), object.contentType(), object.metadata(), object.tags(),
          object.checksum(), object.parts());
    }
  }

  /** What an object file holds before the object's bytes. */
  static byte[] objectHeader(StoredObject object) {
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
    return header.toByteArray();
  }

  /**
   * The object in {@code file}, which must be {@code key}'s.
   *
   * @throws IOException if the file cannot be read, is not an object file, holds another key or is
   *     cut short
   */
  static StoredObject readObject(Path file, String key) throws IOException {
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
    }
  }

  /**
   * The description at the start of the object file {@code file}; its bytes are not read.
   *
   * @throws IOException if the file cannot be read or is not an object file
   */
  static Description readDescription(Path file) throws IOException {
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

  /** What a part file holds before the part's bytes. */
  static byte[] partHeader(StoredPart part) throws IOException {
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

  /** The upload file of {@code u}: its description and the numbers of its parts. */
  static byte[] uploadBytes(StoredUpload u) throws IOException {
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

  /**
   * The upload whose upload file is {@code description}, with its parts read from the files
   * {@code part-<n>} beside it.
   *
   * @throws IOException if a file cannot be read, is not an upload file or is cut short
   */
  static StoredUpload readUpload(Path description) throws IOException {
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
        parts.put(number, readPart(description.resolveSibling("part-" + number)));
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
