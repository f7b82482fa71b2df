package dev.coffer.store.grpc;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Directories only their owner can change (SEC-2, SEC-3 in docs/architecture.md), whatever the process umask: the socket's and the
 * holds'. A file's mode at creation is the mode asked for less the umask, so asking for 0700 gives
 * 0700 or less; an existing directory is checked instead of trusted.
 */
final class PrivatePaths {

  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> OWNER_AND_GROUP_READ =
      PosixFilePermissions.fromString("rwxr-x---");

  private PrivatePaths() {}

  /**
   * Creates {@code directory} and its missing parents with {@code permissions} (less the umask),
   * then checks it as {@link #checkDirectory} does.
   *
   * @throws IOException naming the directory if it cannot be created or is not private
   */
  static void createDirectories(Path directory, Set<PosixFilePermission> permissions,
      String what) throws IOException {
    if (!Files.isDirectory(directory)) {
      FileAttribute<Set<PosixFilePermission>> mode =
          PosixFilePermissions.asFileAttribute(permissions);
      Files.createDirectories(directory, mode);
    }
    checkDirectory(directory, what);
  }

  /**
   * Checks that {@code directory} is a directory owned by this process's user (or root) and not
   * writable by others, so no other user can replace what the server puts there. (A
   * group-writable one is accepted: with user private groups, the usual umask 002 makes them.)
   *
   * @throws IOException naming the directory, its owner or mode, and what to do
   */
  static void checkDirectory(Path directory, String what) throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IOException(what + " " + directory + " is not a directory");
    }
    int uid = (Integer) Files.getAttribute(directory, "unix:uid");
    int mode = (Integer) Files.getAttribute(directory, "unix:mode") & 07777;
    long self = currentUid();
    if (uid != self && uid != 0) {
      throw new IOException(what + " " + directory + " belongs to user id " + uid
          + ", not to this process's user (" + self + ") or root; use a directory of your own");
    }
    if ((mode & 0002) != 0) {
      throw new IOException(what + " " + directory + " is writable by others (mode "
          + String.format("%04o", mode) + "); make it writable by its owner only (chmod go-w "
          + directory + ") or use another directory");
    }
  }

  /** The numeric user id of this process. */
  static long currentUid() {
    return new UnixSystem().getUid();
  }
}
