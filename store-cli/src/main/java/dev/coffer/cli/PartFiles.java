package dev.coffer.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The file {@code get -o TARGET} writes beside its target before renaming it over the target, so
 * the target appears whole or not at all.
 *
 * <p>It is named {@code .TARGET.<pid>@<host>.part} after the process writing it, so the next get of
 * the same target removes the ones that processes of this host left when they were killed, and
 * never one that a running get (here, or on another host sharing the directory) is writing. It is
 * created with the permissions the umask gives a new file, or, when it will replace an existing
 * file, with that file's permissions, as {@code cp} does. Invariant CLI-3 of docs/architecture.md.
 */
final class PartFiles {
  private PartFiles() {}

  private static final String SUFFIX = ".part";

  /** The part file of this process for {@code target}, created after removing stale ones. */
  static Path create(Path target) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    removeStale(dir, target.getFileName().toString());
    Path part = dir.resolve(prefix(target.getFileName().toString())
        + ProcessHandle.current().pid() + "@" + Hosts.name() + SUFFIX);
    Files.deleteIfExists(part); // this very process's own, from an earlier failed get
    try (OutputStream created = Files.newOutputStream(part, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      // Created empty, with the umask's permissions.
    }
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.setPosixFilePermissions(part, Files.getPosixFilePermissions(target));
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system: the platform's default permissions.
      }
    }
    return part;
  }

  /** Removes the part files of {@code name} in {@code dir} whose writers on this host are gone. */
  static void removeStale(Path dir, String name) throws IOException {
    String prefix = prefix(name);
    String host = "@" + Hosts.name() + SUFFIX;
    try (DirectoryStream<Path> parts = Files.newDirectoryStream(dir, p -> {
      String file = p.getFileName().toString();
      return file.startsWith(prefix) && file.endsWith(host)
          && file.length() > prefix.length() + host.length();
    })) {
      for (Path part : parts) {
        String file = part.getFileName().toString();
        String pid = file.substring(prefix.length(), file.length() - host.length());
        if (pid.matches("\\d{1,10}") && !ProcessHandle.of(Long.parseLong(pid))
            .map(ProcessHandle::isAlive).orElse(false)) {
          Files.deleteIfExists(part);
        }
      }
    }
  }

  private static String prefix(String name) {
    return "." + name + ".";
  }
}
