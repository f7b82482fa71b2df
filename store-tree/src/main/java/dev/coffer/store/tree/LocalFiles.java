package dev.coffer.store.tree;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** The local side of trees: walking a directory, relative paths, modes, temporary names. */
final class LocalFiles {

  private LocalFiles() {}

  static Path temp(Path target) {
    return target.resolveSibling("." + target.getFileName() + ".coffer-" + UUID.randomUUID());
  }

  /** What a directory holds: its entries (not itself), and its regular files' count and bytes. */
  record Scan(List<Path> paths, long files, long bytes) {}

  static Scan scan(Path dir) {
    List<Path> paths = new ArrayList<>();
    long[] totals = new long[2];
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
          if (!d.equals(dir)) {
            paths.add(d);
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
          if (attrs.isRegularFile() || attrs.isSymbolicLink()) {
            paths.add(f);
          }
          if (attrs.isRegularFile()) {
            totals[0]++;
            totals[1] += attrs.size();
          }
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + dir + ": " + e, e);
    }
    return new Scan(paths, totals[0], totals[1]);
  }

  /**
   * What one look at an entry says of it (not followed if a link): whether it is a symbolic link
   * or a directory (anything else is taken for a regular file), its permission bits, and its
   * {@link HashIndex} stamp (its size among them).
   */
  record Stat(boolean isSymbolicLink, boolean isDirectory, int mode, HashIndex.Stamp stamp) {
    long size() {
      return stamp.size();
    }
  }

  /** The attributes of the "unix" view a {@link Stat} is made of. */
  private static final String UNIX_STAT = HashIndex.UNIX_STAMP + ",mode";
  private static final int TYPE_BITS = 0170000;
  private static final int SYMLINK_TYPE = 0120000;
  private static final int DIRECTORY_TYPE = 0040000;

  /**
   * The stat of {@code p}: one system call where the file system has the "unix" view (its mode
   * word gives the type and the permissions), rather than one for each.
   */
  static Stat stat(Path p) throws IOException {
    try {
      Map<String, Object> a = Files.readAttributes(p, UNIX_STAT, LinkOption.NOFOLLOW_LINKS);
      int st = (Integer) a.get("mode");
      return new Stat((st & TYPE_BITS) == SYMLINK_TYPE, (st & TYPE_BITS) == DIRECTORY_TYPE,
          st & 0777, HashIndex.stamp(a));
    } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS);
      return new Stat(a.isSymbolicLink(), a.isDirectory(),
          a.isSymbolicLink() ? 0 : mode(p), HashIndex.stamp(a));
    }
  }

  static String relative(Path dir, Path p) {
    List<String> parts = new ArrayList<>();
    dir.relativize(p).forEach(part -> parts.add(part.toString()));
    return String.join("/", parts);
  }

  private static final PosixFilePermission[] BITS = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
      PosixFilePermission.OWNER_READ};

  static int mode(Path p) throws IOException {
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
    int mode = 0;
    for (int i = 0; i < BITS.length; i++) {
      if (perms.contains(BITS[i])) {
        mode |= 1 << i;
      }
    }
    return mode;
  }

  static void setMode(Path p, int mode) throws IOException {
    Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
    for (int i = 0; i < BITS.length; i++) {
      if ((mode & (1 << i)) != 0) {
        perms.add(BITS[i]);
      }
    }
    Files.setPosixFilePermissions(p, perms);
  }
}
