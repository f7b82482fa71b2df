package dev.coffer.s3sim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The file operations behind {@link DiskStorage}'s durability (SEC-9 of docs/architecture.md): a
 * file replaced whole by a forced new one renamed over it, then its directory forced (in one call,
 * or written and forced first and published later); directories forced after a removal; the
 * temporary files a crash left recognised by their name.
 */
final class DurableFiles {
  /** The name of every temporary file starts with this. */
  static final String TEMP_PREFIX = ".tmp-";
  private static final int WRITE_SLICE = 1 << 20;

  private DurableFiles() {}

  /**
   * Writes {@code chunks} to a new file beside {@code target}, forces it, renames it over it and
   * forces the directory: once this returns, {@code target} holds the chunks and survives a crash;
   * if it throws, {@code target} is as it was or as it became, never half-written.
   */
  static void writeAtomically(Path target, byte[]... chunks) throws IOException {
    Path temp = target.resolveSibling(TEMP_PREFIX + UUID.randomUUID());
    try {
      writeForced(temp, chunks);
      publish(temp, target);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Writes {@code chunks} to {@code file}, which must not exist, and forces it to disk; if this
   * throws, {@code file} is removed. Its name should start with {@link #TEMP_PREFIX}, so that a
   * crash before it is published leaves a file known to be temporary.
   */
  static void writeForced(Path file, byte[]... chunks) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
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
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Renames {@code forced} (written by {@link #writeForced}, on the same file system) over {@code
   * target} in one step and forces {@code target}'s directory: a reader, and a crash, sees the old
   * file or the new one whole.
   */
  static void publish(Path forced, Path target) throws IOException {
    Files.move(forced, target, StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    forceDirectory(target.getParent());
  }

  /** Makes a directory's entries (a rename, a removal) durable. */
  static void forceDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  /** Removes {@code dir} and everything under it; nothing if it does not exist. */
  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Removes {@code file} if it is a temporary file of {@link #writeAtomically}; true if it was. */
  static boolean removedTemporary(Path file) throws IOException {
    if (file.getFileName().toString().startsWith(TEMP_PREFIX)) {
      Files.deleteIfExists(file);
      return true;
    }
    return false;
  }
}
