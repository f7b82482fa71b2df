package dev.coffer.store.cache;

import dev.coffer.store.Digest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.concurrent.TimeUnit;

/**
 * The mark a disk entry carries once its content was verified against its digest (invariant
 * CLI-6 in docs/architecture.md): a user extended attribute {@value #NAME} on the entry's
 * file holding the digest, the size and the file's modification time (in nanoseconds) when it was
 * sealed (set back a second then, so that any later write changes it). It lets a later process trust the entry without hashing it again; any write to the file
 * changes its modification time or size and so voids the seal, and a file renamed to another
 * digest's name carries the wrong digest. Silent corruption of the medium leaves the seal intact:
 * that is what {@link CacheConfig#verifyOnOpen()} is for.
 *
 * <p>Best effort: on a file system without user extended attributes nothing is sealed, and every
 * process verifies an entry on its first open, as without seals. Stateless and thread-safe.
 */
final class EntrySeal {
  static final String NAME = "coffer.verified";

  private EntrySeal() {}

  /** Seals {@code file} as verified content of {@code digest}; false if it cannot. */
  static boolean write(Path file, Digest digest) {
    UserDefinedFileAttributeView view = view(file);
    if (view == null) {
      return false;
    }
    try {
      // The modification time goes back a second, so that any later write, even within the
      // clock's next tick, leaves a different time and voids the seal.
      FileTime written = Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS);
      Files.setLastModifiedTime(file,
          FileTime.from(written.to(TimeUnit.NANOSECONDS) - 1_000_000_000L, TimeUnit.NANOSECONDS));
      String seal = expected(file, digest);
      view.write(NAME, ByteBuffer.wrap(seal.getBytes(StandardCharsets.US_ASCII)));
      return true;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false;
    }
  }

  /** Whether {@code file} carries a seal of {@code digest} that still matches the file. */
  static boolean holds(Path file, Digest digest) {
    UserDefinedFileAttributeView view = view(file);
    if (view == null) {
      return false;
    }
    try {
      int size = view.size(NAME);
      if (size <= 0 || size > 256) {
        return false;
      }
      ByteBuffer buffer = ByteBuffer.allocate(size);
      view.read(NAME, buffer);
      buffer.flip();
      return StandardCharsets.US_ASCII.decode(buffer).toString().equals(expected(file, digest));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return false; // no seal (ENODATA) or none possible
    }
  }

  private static String expected(Path file, Digest digest) throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class,
        LinkOption.NOFOLLOW_LINKS);
    return digest + " " + attributes.size() + " "
        + attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS);
  }

  private static UserDefinedFileAttributeView view(Path file) {
    return Files.getFileAttributeView(file, UserDefinedFileAttributeView.class,
        LinkOption.NOFOLLOW_LINKS);
  }
}
