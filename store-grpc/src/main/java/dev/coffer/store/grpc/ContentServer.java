package dev.coffer.store.grpc;

import dev.coffer.store.ContentStore;
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
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a {@link ContentStore} as containerd's content service
 * ({@code containerd.services.content.v1.Content}), so that containerd uses it as its content store
 * through a proxy plugin:
 *
 * <pre>{@code
 * try (ContentServer server = ContentServer.builder(store).unixSocket(path).build().start()) {
 *   server.awaitTermination();
 * }
 * }</pre>
 *
 * <p>The server listens on a Unix socket (what containerd's {@code proxy_plugins} dial), on a TCP
 * port, or both. Store errors reach the client as gRPC codes containerd understands: NOT_FOUND,
 * ALREADY_EXISTS, FAILED_PRECONDITION, INVALID_ARGUMENT, UNAVAILABLE (a locked ref only), ABORTED,
 * PERMISSION_DENIED and UNKNOWN; a write at a wrong offset is OUT_OF_RANGE.
 *
 * <p>Many containerd daemons may share one store, each through its own server. A server is one
 * <em>holder</em>: it takes one reference in the store for each blob its containerd writes or finds
 * stored, and containerd's Delete (sent by its garbage collector for every blob its metadata does
 * not know, other hosts' too) drops only that reference. A blob goes when no holder and no other
 * reference keeps it; blobs stored without references are never deleted through the server. The
 * holds are recorded in a directory ({@link Builder#holdDirectory}) or, without one, in memory.
 *
 * <p>The server does not own the store: closing the server leaves the store open. Methods are
 * thread-safe; {@link #close()} is idempotent.
 */
public final class ContentServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ContentServer.class);

  /** Read responses carry this many data bytes by default (1 MiB). */
  public static final int READ_CHUNK_BYTES_DEFAULT = 1 << 20;
  /** The smallest read chunk accepted (4 KiB). */
  public static final int READ_CHUNK_BYTES_MIN = 4 << 10;
  /** The largest read chunk accepted (4 MiB, gRPC's default limit of a client's inbound message). */
  public static final int READ_CHUNK_BYTES_MAX = 4 << 20;

  /** List responses carry this many infos by default, as containerd's server. */
  public static final int LIST_BATCH_SIZE_DEFAULT = 100;
  /** The smallest List batch accepted. */
  public static final int LIST_BATCH_SIZE_MIN = 1;
  /** The largest List batch accepted. */
  public static final int LIST_BATCH_SIZE_MAX = 10_000;

  /** The largest request message accepted by default (16 MiB, containerd's own limit). */
  public static final int MAX_INBOUND_MESSAGE_BYTES_DEFAULT = 16 << 20;
  /** The smallest inbound message limit accepted (1 MiB). */
  public static final int MAX_INBOUND_MESSAGE_BYTES_MIN = 1 << 20;
  /** The largest inbound message limit accepted (256 MiB). */
  public static final int MAX_INBOUND_MESSAGE_BYTES_MAX = 256 << 20;

  /** How long {@link #close()} lets running calls finish by default. */
  public static final Duration SHUTDOWN_GRACE_DEFAULT = Duration.ofSeconds(10);
  /** The longest shutdown grace accepted. */
  public static final Duration SHUTDOWN_GRACE_MAX = Duration.ofMinutes(10);

  /** Readers of this many blobs stay open between Read calls by default. */
  public static final int OPEN_READERS_DEFAULT = 32;
  /** The most open readers accepted. */
  public static final int OPEN_READERS_MAX = 4096;
  /** How long an unused reader stays open by default. */
  public static final Duration READER_IDLE_DEFAULT = Duration.ofSeconds(5);
  /** The longest reader idle time accepted. */
  public static final Duration READER_IDLE_MAX = Duration.ofMinutes(10);

  private static final Pattern HOLDER_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

  private final ServerSettings settings;
  private final ContentService service;
  private final List<Server> servers = new ArrayList<>();
  private final List<EventLoopGroup> eventLoops = new ArrayList<>();
  private boolean started;
  private boolean socketBound;
  private boolean closed;

  private ContentServer(ContentStore store, ServerSettings settings, Holds holds,
      IngestScope scope) {
    this.settings = settings;
    this.service = new ContentService(store, settings, holds, scope);
  }

  /** A builder for a server over {@code store}. */
  public static Builder builder(ContentStore store) {
    return new Builder(Objects.requireNonNull(store, "store"));
  }

  /**
   * Binds the socket and the port and starts serving. A stale socket file left by an earlier
   * process is removed first.
   *
   * @return this server
   * @throws IOException if binding fails (the path is not a socket, the port is taken)
   * @throws IllegalStateException if the server was started or closed before, or the Unix socket
   *     is requested on a platform without Netty's epoll transport
   */
  public synchronized ContentServer start() throws IOException {
    if (started || closed) {
      throw new IllegalStateException(closed ? "server is closed" : "server is already started");
    }
    started = true;
    try {
      if (settings.unixSocket() != null) {
        servers.add(startUnix(settings.unixSocket()));
      }
      if (settings.tcpPort() >= 0) {
        servers.add(configure(NettyServerBuilder.forAddress(
            new InetSocketAddress(settings.tcpPort()))).build().start());
      }
    } catch (IOException | RuntimeException e) {
      try {
        close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    LOG.info("serving containerd content on{}{}",
        settings.unixSocket() == null ? "" : " unix://" + settings.unixSocket(),
        tcpPort().isPresent() ? " tcp port " + tcpPort().getAsInt() : "");
    return this;
  }

  private Server startUnix(Path socket) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IllegalStateException(
          "a Unix socket needs Netty's epoll transport (Linux)", Epoll.unavailabilityCause());
    }
    removeStaleSocket(socket);
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    eventLoops.add(boss);
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
    eventLoops.add(workers);
    Server server = configure(
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString())))
        .channelType(EpollServerDomainSocketChannel.class)
        // grpc-netty asks every accepted channel for TCP keep-alive; a Unix socket has none, and
        // Netty warned about it on each connection.
        .withChildOption(ChannelOption.SO_KEEPALIVE, null)
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        .build()
        .start();
    socketBound = true;
    return server;
  }

  private NettyServerBuilder configure(NettyServerBuilder builder) {
    return builder
        .addService(service)
        .callExecutor(ContentService.callExecutors())
        .maxInboundMessageSize(settings.maxInboundMessageBytes());
  }

  /** Removes a socket file left behind; any other kind of file is an error, never deleted. */
  private static void removeStaleSocket(Path socket) throws IOException {
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & 0170000) != 0140000) {
      throw new IOException("cannot listen on " + socket + ": it exists and is not a socket");
    }
    Files.delete(socket);
  }

  /** The Unix socket the server listens on, if any. */
  public Optional<Path> unixSocket() {
    return Optional.ofNullable(settings.unixSocket());
  }

  /** The TCP port the server listens on once started (the bound one when 0 was asked), if any. */
  public synchronized OptionalInt tcpPort() {
    if (settings.tcpPort() < 0) {
      return OptionalInt.empty();
    }
    for (Server server : servers) {
      for (var address : server.getListenSockets()) {
        if (address instanceof InetSocketAddress inet) {
          return OptionalInt.of(inet.getPort());
        }
      }
    }
    return OptionalInt.of(settings.tcpPort());
  }

  /**
   * Blocks until the server has shut down (after {@link #close()} from another thread).
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void awaitTermination() throws InterruptedException {
    List<Server> running;
    synchronized (this) {
      running = List.copyOf(servers);
    }
    for (Server server : running) {
      server.awaitTermination();
    }
  }

  /**
   * Stops accepting calls, lets running calls finish for the shutdown grace, then cancels the rest
   * (open writers are closed, their ingests kept) and removes the socket file. Idempotent. If the
   * thread is interrupted meanwhile, remaining calls are cancelled and the interrupt is restored.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    servers.forEach(Server::shutdown);
    long deadline = System.nanoTime() + settings.shutdownGrace().toNanos();
    try {
      for (Server server : servers) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !server.awaitTermination(left, TimeUnit.NANOSECONDS)) {
          server.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      servers.forEach(Server::shutdownNow);
      Thread.currentThread().interrupt();
    }
    for (EventLoopGroup group : eventLoops) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    service.close();
    if (socketBound) {
      try {
        Files.deleteIfExists(settings.unixSocket());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove socket " + settings.unixSocket(), e);
      }
    }
    LOG.info("content server stopped");
  }

  /**
   * Collects the server's settings; each is checked when set (a value out of bounds is an
   * {@link IllegalArgumentException}). At least one of a Unix socket and a TCP port is required.
   * Not thread-safe.
   */
  public static final class Builder {
    private final ContentStore store;
    private Path unixSocket;
    private int tcpPort = -1;
    private int readChunkBytes = READ_CHUNK_BYTES_DEFAULT;
    private int listBatchSize = LIST_BATCH_SIZE_DEFAULT;
    private int maxInboundMessageBytes = MAX_INBOUND_MESSAGE_BYTES_DEFAULT;
    private Duration shutdownGrace = SHUTDOWN_GRACE_DEFAULT;
    private Path holdDirectory;
    private String holderId;
    private int openReaders = OPEN_READERS_DEFAULT;
    private Duration readerIdle = READER_IDLE_DEFAULT;

    private Builder(ContentStore store) {
      this.store = store;
    }

    /** Listens on the Unix socket {@code path} (created at start; a stale one is replaced). */
    public Builder unixSocket(Path path) {
      this.unixSocket = Objects.requireNonNull(path, "path").toAbsolutePath();
      return this;
    }

    /** Listens on TCP {@code port} on every interface; 0 picks a free port. */
    public Builder tcpPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("invalid TCP port " + port + ": must be 0 to 65535");
      }
      this.tcpPort = port;
      return this;
    }

    /** The data bytes per Read response; see {@link #READ_CHUNK_BYTES_DEFAULT} and bounds. */
    public Builder readChunkBytes(int bytes) {
      this.readChunkBytes = checkRange("read chunk bytes", bytes, READ_CHUNK_BYTES_MIN,
          READ_CHUNK_BYTES_MAX);
      return this;
    }

    /** The infos per List response; see {@link #LIST_BATCH_SIZE_DEFAULT} and bounds. */
    public Builder listBatchSize(int infos) {
      this.listBatchSize = checkRange("list batch size", infos, LIST_BATCH_SIZE_MIN,
          LIST_BATCH_SIZE_MAX);
      return this;
    }

    /** The largest request accepted; see {@link #MAX_INBOUND_MESSAGE_BYTES_DEFAULT} and bounds. */
    public Builder maxInboundMessageBytes(int bytes) {
      this.maxInboundMessageBytes = checkRange("max inbound message bytes", bytes,
          MAX_INBOUND_MESSAGE_BYTES_MIN, MAX_INBOUND_MESSAGE_BYTES_MAX);
      return this;
    }

    /** How long {@link ContentServer#close()} waits for running calls; zero to cancel at once. */
    public Builder shutdownGrace(Duration grace) {
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative() || grace.compareTo(SHUTDOWN_GRACE_MAX) > 0) {
        throw new IllegalArgumentException(
            "invalid shutdown grace " + grace + ": must be 0 to " + SHUTDOWN_GRACE_MAX);
      }
      this.shutdownGrace = grace;
      return this;
    }

    /**
     * How many blobs' readers stay open between Read calls, shared by the calls reading one blob
     * (containerd sends one call per 32 KiB); 0 opens a reader per call. See
     * {@link #OPEN_READERS_DEFAULT}.
     */
    public Builder openReaders(int readers) {
      this.openReaders = checkRange("open readers", readers, 0, OPEN_READERS_MAX);
      return this;
    }

    /** How long an unused open reader stays open; see {@link #READER_IDLE_DEFAULT}. */
    public Builder readerIdle(Duration idle) {
      Objects.requireNonNull(idle, "idle");
      if (idle.isNegative() || idle.isZero() || idle.compareTo(READER_IDLE_MAX) > 0) {
        throw new IllegalArgumentException("invalid reader idle time " + idle
            + ": must be above 0 and at most " + READER_IDLE_MAX);
      }
      this.readerIdle = idle;
      return this;
    }

    /**
     * Names this server among the servers sharing the store (one per containerd): its ingests are
     * kept in the store under refs prefixed {@code <id>/}, apart from other hosts' ingests with the
     * same refs and out of their garbage collectors' reach. Without an id, containerd's refs are
     * the store's. An id is 1 to 128 letters, digits, {@code .}, {@code _} or {@code -}, not
     * starting with {@code .}.
     *
     * @throws IllegalArgumentException naming the id if it is not one
     */
    public Builder holderId(String id) {
      Objects.requireNonNull(id, "id");
      if (!HOLDER_ID.matcher(id).matches()) {
        String shown = id.length() > 140 ? id.substring(0, 140) + "..." : id;
        throw new IllegalArgumentException("invalid holder id \"" + shown
            + "\": must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'");
      }
      this.holderId = id;
      return this;
    }

    /**
     * Records the blobs this server's containerd holds as marker files under {@code directory}
     * (created if missing), so the holds survive restarts. Give each containerd its own directory,
     * on a disk that keeps what it was told to force. Without one, holds live in memory and are
     * lost at a restart, which leaves their blobs referenced in the store: never deleted wrongly,
     * but not freed by containerd's garbage collector either.
     */
    public Builder holdDirectory(Path directory) {
      this.holdDirectory = Objects.requireNonNull(directory, "directory").toAbsolutePath();
      return this;
    }

    /**
     * The server, not started yet.
     *
     * @throws IllegalStateException if neither a Unix socket nor a TCP port was set
     * @throws java.io.UncheckedIOException if the hold directory cannot be created
     */
    public ContentServer build() {
      if (unixSocket == null && tcpPort < 0) {
        throw new IllegalStateException("a Unix socket or a TCP port is required");
      }
      return new ContentServer(store, new ServerSettings(unixSocket, tcpPort, readChunkBytes,
          listBatchSize, maxInboundMessageBytes, shutdownGrace, openReaders, readerIdle),
          holdDirectory == null ? Holds.inMemory() : Holds.inDirectory(holdDirectory),
          holderId == null ? IngestScope.NONE : IngestScope.of(holderId));
    }

    private static int checkRange(String name, int value, int min, int max) {
      if (value < min || value > max) {
        throw new IllegalArgumentException(
            "invalid " + name + " " + value + ": must be " + min + " to " + max);
      }
      return value;
    }
  }
}
