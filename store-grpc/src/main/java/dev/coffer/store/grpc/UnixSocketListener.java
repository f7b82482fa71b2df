package dev.coffer.store.grpc;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * SEC-2 (docs/architecture.md): binds the server's Unix socket so that only its owner (and, if given, one group) can ever
 * connect, whatever the umask: the socket is bound inside a fresh 0700 directory next to its
 * path, given mode 0600 (0660 and the group), and only then renamed into place. A socket bound at
 * its path directly would be reachable with the umask's mode (0777 under umask 000) until
 * changed. The socket's directory must not be writable by others, so nobody can swap it either.
 */
final class UnixSocketListener {

  private UnixSocketListener() {}

  /**
   * Starts a server on {@code socket}. A socket file left by an earlier process is replaced; any
   * other file is an error, never deleted. A missing directory is created (0700, or 0750 and the
   * group's).
   *
   * @param eventLoops receives the event loop groups to shut down when the server has stopped
   * @throws IOException if the directory is unsafe or binding fails, naming the path
   */
  static Server start(Path socket, String groupName, UnaryOperator<NettyServerBuilder> configure,
      List<EventLoopGroup> eventLoops) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IllegalStateException(
          "a Unix socket needs Netty's epoll transport (Linux)", Epoll.unavailabilityCause());
    }
    Path directory = socket.getParent();
    GroupPrincipal group = groupName == null ? null : socket.getFileSystem()
        .getUserPrincipalLookupService().lookupPrincipalByGroupName(groupName);
    if (!Files.isDirectory(directory)) {
      PrivatePaths.createDirectories(directory,
          group == null ? PrivatePaths.OWNER_ONLY : PrivatePaths.OWNER_AND_GROUP_READ,
          "the socket's directory");
      if (group != null) {
        Files.getFileAttributeView(directory, PosixFileAttributeView.class).setGroup(group);
      }
    }
    PrivatePaths.checkDirectory(directory, "the socket's directory");
    checkReplaceable(socket);

    Path staging = Files.createTempDirectory(directory, ".coffer-",
        PosixFilePermissions.asFileAttribute(PrivatePaths.OWNER_ONLY));
    Path bound = staging.resolve("s");
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    eventLoops.add(boss);
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
    eventLoops.add(workers);
    Server server = null;
    try {
      server = configure.apply(NettyServerBuilder.forAddress(
              new DomainSocketAddress(bound.toString())))
          .channelType(EpollServerDomainSocketChannel.class)
          // grpc-netty asks every accepted channel for TCP keep-alive; a Unix socket has none, and
          // Netty warned about it on each connection.
          .withChildOption(ChannelOption.SO_KEEPALIVE, null)
          .bossEventLoopGroup(boss)
          .workerEventLoopGroup(workers)
          .build()
          .start();
      // Following links (chmod, not fchmod, which cannot open a socket): the private staging
      // directory holds nothing but what Netty bound.
      PosixFileAttributeView view = Files.getFileAttributeView(bound,
          PosixFileAttributeView.class);
      if (group != null) {
        view.setGroup(group);
      }
      view.setPermissions(PosixFilePermissions.fromString(group == null ? "rw-------"
          : "rw-rw----"));
      // rename(2): atomic, and it replaces a stale socket in the same step.
      Files.move(bound, socket, StandardCopyOption.ATOMIC_MOVE);
      return server;
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        server.shutdownNow();
      }
      throw e;
    } finally {
      Files.deleteIfExists(bound);
      Files.deleteIfExists(staging);
    }
  }

  /** A socket file may be replaced; any other kind of file is an error. */
  private static void checkReplaceable(Path socket) throws IOException {
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & 0170000) != 0140000) {
      throw new IOException("cannot listen on " + socket + ": it exists and is not a socket");
    }
  }
}
