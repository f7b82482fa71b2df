package dev.coffer.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Set;

/**
 * The daemon's files: its directory (mode 0700, the user's own), its socket (0600) and its pid
 * file ({@code <key>.pid} beside {@code <key>.sock}, written after the bind). Not thread-safe;
 * {@link #remove} may be called from a shutdown hook and is idempotent.
 */
final class DaemonFiles {
  private static final Set<PosixFilePermission> PRIVATE_DIR =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> PRIVATE_FILE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> SHARED = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
      PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
      PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

  /** Thrown when the daemon must not start: its directory is not private to the user. */
  static final class RefusedException extends IOException {
    RefusedException(String message) {
      super(message);
    }
  }

  final Path socket;
  final Path pidFile;
  private boolean bound;

  DaemonFiles(Path socket) {
    this.socket = socket.toAbsolutePath();
    String name = this.socket.getFileName().toString();
    this.pidFile = this.socket.resolveSibling(
        (name.endsWith(".sock") ? name.substring(0, name.length() - 5) : name) + ".pid");
  }

  /**
   * The user this process runs as: the owner of {@code /proc/self} (its effective user, also
   * without an entry in the user database), else the user named by {@code user.name}.
   */
  static UserPrincipal self() throws IOException {
    Path proc = Path.of("/proc/self");
    if (Files.isDirectory(proc)) {
      return Files.getOwner(proc);
    }
    return FileSystems.getDefault().getUserPrincipalLookupService()
        .lookupPrincipalByName(System.getProperty("user.name"));
  }

  /**
   * Creates the socket's directory (mode 0700) if it does not exist, and checks it.
   *
   * @throws RefusedException if it is not a directory owned by {@code self}, or is group or
   *     other accessible
   */
  void checkDirectory(UserPrincipal self) throws IOException {
    Path dir = socket.getParent();
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new RefusedException(dir + " is not a directory");
    }
    UserPrincipal owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS);
    if (!owner.equals(self)) {
      throw new RefusedException(dir + " is owned by " + owner.getName() + ", not "
          + self.getName());
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir,
        LinkOption.NOFOLLOW_LINKS);
    if (permissions.stream().anyMatch(SHARED::contains)) {
      throw new RefusedException(dir + " is accessible to others (mode "
          + PosixFilePermissions.toString(permissions) + "; expected rwx------)");
    }
  }

  /**
   * Binds the socket (mode 0600), replacing a stale socket file that nothing accepts on, and
   * writes the pid file.
   *
   * @return the listening channel; null if another daemon accepts on the socket
   */
  ServerSocketChannel bind() throws IOException {
    UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
    if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      if (live(address)) {
        return null;
      }
      Files.delete(socket);
    }
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(address);
    } catch (IOException e) {
      server.close();
      if (live(address)) {
        return null; // another daemon bound it first
      }
      throw e;
    }
    bound = true;
    try {
      Files.setPosixFilePermissions(socket, PRIVATE_FILE);
      Path temp = Files.createTempFile(socket.getParent(), ".pid-", ".tmp",
          PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
      Files.writeString(temp, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
      Files.move(temp, pidFile, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      server.close();
      remove();
      throw e;
    }
    return server;
  }

  /** Removes the socket and pid file, if this daemon bound them. Idempotent. */
  synchronized void remove() {
    if (!bound) {
      return;
    }
    bound = false;
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      // nothing more to do
    }
    try {
      String pid = Files.readString(pidFile, StandardCharsets.US_ASCII).trim();
      if (pid.equals(String.valueOf(ProcessHandle.current().pid()))) {
        Files.deleteIfExists(pidFile);
      }
    } catch (IOException e) {
      // already gone
    }
  }

  /** Whether something accepts connections on {@code address}. */
  private static boolean live(UnixDomainSocketAddress address) {
    try (SocketChannel probe = SocketChannel.open(address)) {
      return true;
    } catch (ConnectException e) {
      return false;
    } catch (IOException e) {
      return false;
    }
  }
}
