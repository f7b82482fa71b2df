package dev.coffer.store.tree;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The digest of each file of a directory from its last put (TREE-6), with what the file system
 * said of the file then: size, modification time, file key (device and inode) and change time. A
 * later put of the same directory ({@link Trees#withHashIndex}) takes the digest of a file whose
 * four are all unchanged instead of reading and hashing it again; any difference, or a file not
 * listed, is read and hashed. A file whose times were within two seconds of the moment it was looked at is hashed
 * again next time (a change in the same clock tick as the one before leaves its times as they
 * were, so it could go unseen), and recorded anew then.
 *
 * <p>A cache only: an index that is missing, unreadable, truncated, of another format or of another
 * directory, or in a directory or file that others could write, is ignored without a word, and a
 * failure to save one is too; the put is then what it is without an index. One file per
 * directory, written whole under a temporary name and renamed, mode 0600 in a directory of mode
 * 0700. Thread-safe: the put's workers consult it at once.
 */
public final class HashIndex {
  private static final String FORMAT = "coffer.hash-index.v1";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A file whose times were this recent when it was looked at is hashed again next time. */
  private static final long RACY_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final Set<PosixFilePermission> OTHERS_WRITE = EnumSet.of(
      PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

  /** What the file system says of a regular file: any change of one of these re-hashes it. */
  record Stamp(long size, long modifiedNanos, String fileKey, long changedNanos) {}

  /** A file's stamp and digest, and when (clock, nanoseconds) the stamp was taken. */
  private record Known(Stamp stamp, Digest digest, long seenNanos) {}

  private final Path file;
  private final String root;
  private final Clock clock;
  private final Map<String, Known> previous;
  private final Map<String, Known> current = new ConcurrentHashMap<>();
  private final AtomicLong hashed = new AtomicLong();
  private final AtomicLong reused = new AtomicLong();

  private HashIndex(Path file, String root, Clock clock, Map<String, Known> previous) {
    this.file = file;
    this.root = root;
    this.clock = clock;
    this.previous = previous;
  }

  /**
   * The index of directory {@code dir} kept in directory {@code indexDir} (one file there per
   * directory, named by a hash of its absolute path), as the last put saved it; empty if there is
   * none or it cannot be trusted or read.
   */
  public static HashIndex load(Path indexDir, Path dir) {
    return load(indexDir, dir, Clock.systemUTC());
  }

  /** The same, judging how recent a file's change is by {@code clock}. */
  static HashIndex load(Path indexDir, Path dir, Clock clock) {
    String root = dir.toAbsolutePath().normalize().toString();
    Path file = indexDir.resolve(Digest.of(root.getBytes(StandardCharsets.UTF_8)).hex()
        + ".json");
    return new HashIndex(file, root, clock, read(file, root));
  }

  private static Map<String, Known> read(Path file, String root) {
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !privateTo(file)
          || !privateTo(file.getParent())) {
        return Map.of();
      }
      JsonNode node;
      try (InputStream in = Files.newInputStream(file)) {
        node = JSON.readTree(in);
      }
      if (node == null || !FORMAT.equals(node.path("format").asText())
          || !root.equals(node.path("root").asText())) {
        return Map.of();
      }
      Map<String, Known> known = new HashMap<>();
      for (JsonNode e : node.path("files")) {
        if (e.size() != 7) {
          return Map.of();
        }
        Digest digest = Digest.parse(e.get(5).asText());
        if (digest.algorithm() != DigestAlgorithm.CANONICAL) {
          return Map.of();
        }
        known.put(e.get(0).asText(), new Known(new Stamp(e.get(1).asLong(), e.get(2).asLong(),
            e.get(3).asText(), e.get(4).asLong()), digest, e.get(6).asLong()));
      }
      return known;
    } catch (IOException | RuntimeException unusable) {
      return Map.of(); // a cache: missing, truncated or foreign is as if there were none
    }
  }

  /** Owned by this process's user, and writable by nobody else. */
  static boolean privateTo(Path p) throws IOException {
    if (p == null) {
      return false;
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
      if (perms.stream().anyMatch(OTHERS_WRITE::contains)) {
        return false;
      }
    } catch (UnsupportedOperationException noPosix) {
      // no permission bits to check on this file system
    }
    return Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName()
        .equals(System.getProperty("user.name"));
  }

  /**
   * The digest of regular file {@code p}, at {@code rel} under the directory: the recorded one if
   * its stamp is unchanged, else read and hashed; recorded for {@link #save} either way.
   */
  Digest digest(Path p, String rel) throws IOException {
    long seen = now(); // before the look: conservative
    return digest(p, rel, stamp(p), seen);
  }

  /** This index's clock, in nanoseconds: a file's {@code seenNanos} is taken before its stamp. */
  long now() {
    return TimeUnit.MILLISECONDS.toNanos(clock.millis());
  }

  /**
   * The same, for a file whose stamp {@code stamp} the caller has just taken ({@link
   * LocalFiles#stat}), having read this index's clock ({@link #now}) just before as {@code
   * seenNanos}.
   */
  Digest digest(Path p, String rel, Stamp stamp, long seenNanos) throws IOException {
    Known known = previous.get(rel);
    if (known != null && known.stamp().equals(stamp) && settled(known)) {
      reused.incrementAndGet();
      current.put(rel, known);
      return known.digest();
    }
    hashed.incrementAndGet();
    Digest digest;
    try (InputStream in = Files.newInputStream(p)) {
      digest = Digest.of(DigestAlgorithm.CANONICAL, in);
    }
    if (stamp.equals(stamp(p))) { // else changed while read: hashed, not recorded
      current.put(rel, new Known(stamp, digest, seenNanos));
    }
    return digest;
  }

  /**
   * Whether the file's times were more than two seconds old when it was looked at: a change
   * within the same clock tick as an earlier one leaves them as they were, so a file changed just
   * before or after it was hashed could otherwise look unchanged.
   */
  private static boolean settled(Known known) {
    long before = known.seenNanos() - RACY_NANOS;
    return known.stamp().modifiedNanos() < before && known.stamp().changedNanos() < before;
  }

  /** The stamp of {@code p} (not followed if a link), as {@link #digest} compares it. */
  static Stamp stamp(Path p) throws IOException {
    try {
      return stamp(Files.readAttributes(p, UNIX_STAMP, LinkOption.NOFOLLOW_LINKS));
    } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
      return stamp(Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
    }
  }

  /** The attributes of the "unix" view a stamp is made of. */
  static final String UNIX_STAMP = "unix:size,lastModifiedTime,ctime,dev,ino";

  /** The stamp in {@code unix}, attributes of the "unix" view holding {@link #UNIX_STAMP}'s. */
  static Stamp stamp(Map<String, Object> unix) {
    return new Stamp((Long) unix.get("size"), nanos(unix.get("lastModifiedTime")),
        unix.get("dev") + ":" + unix.get("ino"), nanos(unix.get("ctime")));
  }

  /** The stamp in {@code a}, where there is no "unix" view. */
  static Stamp stamp(BasicFileAttributes a) {
    // Without a change time, the modification time stands for both.
    long modified = a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
    return new Stamp(a.size(), modified, String.valueOf(a.fileKey()), modified);
  }

  private static long nanos(Object time) {
    return ((FileTime) time).to(TimeUnit.NANOSECONDS);
  }

  /** How many files this index's puts read and hashed. */
  public long hashed() {
    return hashed.get();
  }

  /** How many files this index's puts took the recorded digest of, without reading them. */
  public long reused() {
    return reused.get();
  }

  /**
   * Writes what the put saw (the files it looked at, not those gone since) for the next put of the
   * directory; whether it was written. Nothing is written when nothing changed. Never throws: the
   * index is a cache.
   */
  public boolean save() {
    if (current.equals(previous)) {
      return false;
    }
    Path dir = file.getParent();
    Path temp = dir.resolve("." + file.getFileName() + "." + UUID.randomUUID());
    try {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------")));
      }
      if (!privateTo(dir)) {
        return false;
      }
      try (OutputStream out = Files.newOutputStream(Files.createFile(temp,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
              StandardOpenOption.WRITE);
          JsonGenerator json = JSON.getFactory().createGenerator(out)) {
        json.writeStartObject();
        json.writeStringField("format", FORMAT);
        json.writeStringField("root", root);
        json.writeArrayFieldStart("files");
        for (Map.Entry<String, Known> e : current.entrySet()) {
          Stamp s = e.getValue().stamp();
          json.writeStartArray();
          json.writeString(e.getKey());
          json.writeNumber(s.size());
          json.writeNumber(s.modifiedNanos());
          json.writeString(s.fileKey());
          json.writeNumber(s.changedNanos());
          json.writeString(e.getValue().digest().toString());
          json.writeNumber(e.getValue().seenNanos());
          json.writeEndArray();
        }
        json.writeEndArray();
        json.writeEndObject();
      }
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    } finally {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // a leftover temporary file: ignored by every later load
      }
    }
  }
}
