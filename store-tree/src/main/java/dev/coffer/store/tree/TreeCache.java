package dev.coffer.store.tree;

import dev.coffer.store.Digest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * Tree blobs kept on local disk, so that a put over a base it wrote or read before does not read
 * the base's bytes from the store again: a blob is immutable, named by its digest. Only the bytes
 * are kept; the put still reads the base's record from the store (it must be live, and its
 * record gives its size), and a blob kept is used only when its size is the record's and its
 * bytes hash to its digest.
 *
 * <p>A cache only: a blob missing, unreadable, altered, or in a directory or file that others
 * could write is read from the store as without a cache, and a failure to keep one is ignored.
 * One file per blob, written under a temporary name and renamed, mode 0600 in a directory of
 * mode 0700; at most {@link #MAX_BLOBS} are kept, the least recently kept or used removed first.
 * Thread-safe.
 */
final class TreeCache {

  /** The most tree blobs kept: a build's chain and a few more. */
  static final int MAX_BLOBS = 32;

  private final Path dir;

  private TreeCache(Path dir) {
    this.dir = dir;
  }

  /** The tree blobs kept in directory {@code dir} (created when the first is kept). */
  static TreeCache in(Path dir) {
    return new TreeCache(dir);
  }

  /** Blob {@code digest}'s bytes if kept, {@code size} long and hashing to it; else null. */
  byte[] read(Digest digest, long size) {
    Path file = dir.resolve(digest.hex());
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) != size
          || !HashIndex.privateTo(file) || !HashIndex.privateTo(dir)) {
        return null;
      }
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length != size || !Digest.of(digest.algorithm(), bytes).equals(digest)) {
        return null;
      }
      Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
      return bytes;
    } catch (IOException | RuntimeException unusable) {
      return null;
    }
  }

  /**
   * Keeps {@code blob}, whose digest is {@code digest}, in place of any file of its name (one
   * found altered, say). Never throws.
   */
  void keep(Digest digest, byte[] blob) {
    Path file = dir.resolve(digest.hex());
    Path temp = dir.resolve("." + digest.hex() + "." + UUID.randomUUID());
    try {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------")));
      }
      if (!HashIndex.privateTo(dir)) {
        return;
      }
      Files.write(Files.createFile(temp, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rw-------"))), blob, StandardOpenOption.WRITE);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      prune();
    } catch (IOException | RuntimeException e) {
      // a cache: the next put reads the blob from the store
    } finally {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException ignored) {
        // a leftover temporary file: never read, as its name is no digest's
      }
    }
  }

  /** Removes the blobs kept or used least recently beyond {@link #MAX_BLOBS}. */
  private void prune() throws IOException {
    List<Path> kept = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      files.forEach(kept::add);
    }
    if (kept.size() <= MAX_BLOBS) {
      return;
    }
    List<Path> oldest = new ArrayList<>(kept.stream().filter(p -> !p.getFileName().toString()
        .startsWith(".")).toList());
    oldest.sort(Comparator.comparing(TreeCache::modified));
    for (int i = 0; i < oldest.size() - MAX_BLOBS; i++) {
      Files.deleteIfExists(oldest.get(i));
    }
  }

  private static FileTime modified(Path p) {
    try {
      return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException gone) {
      return FileTime.fromMillis(0);
    }
  }
}
