package dev.coffer.store.grpc;

import dev.coffer.store.ContentStore;
import dev.coffer.store.grpc.ServerSettings.Limits;
import dev.coffer.store.grpc.ServerSettings.TlsSettings;
import io.grpc.Server;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Over 400 lines: the public defaults and bounds, and the builder holding every setting with its
// contract. The listeners are Listeners, TcpListener and UnixSocketListener; the calls ContentService.
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
 * port, or both. The socket is mode 0600 (0660 with a {@linkplain Builder#socketGroup group})
 * whatever the umask, in a directory no other user can write. TCP listens on the loopback address
 * unless {@linkplain Builder#tcpAddress told otherwise}, and then only with TLS and client
 * authentication (client certificates or a bearer token). Calls per connection, connection idle
 * time and age, the threads running calls and the writes open at once are bounded. Store errors reach the client as gRPC codes containerd understands: NOT_FOUND,
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

  /** Concurrent calls one connection may have by default. */
  public static final int MAX_CALLS_PER_CONNECTION_DEFAULT = 128;
  /** The most concurrent calls per connection accepted. */
  public static final int MAX_CALLS_PER_CONNECTION_MAX = 10_000;
  /** A connection without calls for this long is closed by default. */
  public static final Duration MAX_CONNECTION_IDLE_DEFAULT = Duration.ofMinutes(15);
  /** A connection is asked to go away (and reconnects) after this long by default. */
  public static final Duration MAX_CONNECTION_AGE_DEFAULT = Duration.ofHours(2);
  /** How long the calls of an aged connection may still run by default. */
  public static final Duration MAX_CONNECTION_AGE_GRACE_DEFAULT = Duration.ofMinutes(30);
  /** The threads running calls by default (more requests wait in a queue). */
  public static final int EXECUTOR_THREADS_DEFAULT = 32;
  /** The most call threads accepted. */
  public static final int EXECUTOR_THREADS_MAX = 1024;
  /** The memory open writers may hold together by default (1 GiB). */
  public static final long WRITER_MEMORY_BYTES_DEFAULT = 1L << 30;
  /**
   * The memory one open writer may hold by default: the S3 store's default part size (16 MiB)
   * times its default upload concurrency (4).
   */
  public static final long BYTES_PER_WRITER_DEFAULT = 64L << 20;

  private static final Pattern HOLDER_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

  private final ServerSettings settings;
  private final ContentService service;
  private final WriterBudget writerBudget;
  private final Listeners listeners;
  private boolean started;
  private boolean closed;

  private ContentServer(ContentStore store, ServerSettings settings, Holds holds,
      IngestScope scope) {
    this.settings = settings;
    this.service = new ContentService(store, settings, holds, scope);
    this.writerBudget = new WriterBudget(settings.limits().maxOpenWriters(),
        settings.limits().bytesPerWriter());
    this.listeners = new Listeners(settings);
  }

  /** A builder for a server over {@code store}. */
  public static Builder builder(ContentStore store) {
    return new Builder(Objects.requireNonNull(store, "store"));
  }

  /**
   * Binds the socket and the port and starts serving, then logs what listens where. A stale
   * socket file left by an earlier process is replaced.
   *
   * @return this server
   * @throws IOException if binding fails (the path is not a socket, the socket's directory is
   *     writable by others or not its user's, the port is taken) or the TLS files or the token file
   *     cannot be used
   * @throws IllegalStateException if the server was started or closed before, or the Unix socket
   *     is requested on a platform without Netty's epoll transport
   */
  public synchronized ContentServer start() throws IOException {
    if (started || closed) {
      throw new IllegalStateException(closed ? "server is closed" : "server is already started");
    }
    started = true;
    try {
      listeners.bind(service, writerBudget);
    } catch (IOException | RuntimeException e) {
      try {
        close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    LOG.info("serving containerd content on {}", String.join(" and ", listeners()));
    return this;
  }

  /**
   * What listens where once started, one line per listener, such as {@code unix:///run/coffer.sock
   * (mode 0600)} or {@code tcp *:7443 (every address; TLS, client certificates)}.
   */
  public synchronized List<String> listeners() {
    return listeners.describe();
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
    return OptionalInt.of(tcpAddress().map(InetSocketAddress::getPort).orElse(settings.tcpPort()));
  }

  /**
   * The address the TCP listener is bound to once started (the loopback address unless
   * {@link Builder#tcpAddress} said otherwise), if any.
   */
  public synchronized Optional<InetSocketAddress> tcpAddress() {
    return listeners.tcpAddress();
  }

  /**
   * How many blobs this server's holder holds now, one store reference each (read from the holds,
   * a directory listing for holds kept on disk; no store request). Thread-safe; for gauges.
   */
  public int holds() {
    return service.holdCount();
  }

  /**
   * How many store writers this server's Write streams hold open now (one per ref being written).
   * Thread-safe; for gauges.
   */
  public int openWriters() {
    return service.openWriterCount();
  }

  /**
   * Blocks until the server has shut down (after {@link #close()} from another thread).
   *
   * @throws InterruptedException if interrupted while waiting
   */
  public void awaitTermination() throws InterruptedException {
    List<Server> running;
    synchronized (this) {
      running = listeners.servers();
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
    listeners.stop();
    service.close();
    listeners.removeSocket();
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
    private String socketGroup;
    private InetAddress tcpAddress = InetAddress.getLoopbackAddress();
    private int tcpPort = -1;
    private Path tlsCertificateChain;
    private Path tlsPrivateKey;
    private Path clientCertificateAuthorities;
    private Path bearerTokenFile;
    private int maxCallsPerConnection = MAX_CALLS_PER_CONNECTION_DEFAULT;
    private Duration maxConnectionIdle = MAX_CONNECTION_IDLE_DEFAULT;
    private Duration maxConnectionAge = MAX_CONNECTION_AGE_DEFAULT;
    private Duration maxConnectionAgeGrace = MAX_CONNECTION_AGE_GRACE_DEFAULT;
    private int executorThreads = EXECUTOR_THREADS_DEFAULT;
    private long writerMemoryBytes = WRITER_MEMORY_BYTES_DEFAULT;
    private long bytesPerWriter = BYTES_PER_WRITER_DEFAULT;
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

    /**
     * Listens on the Unix socket {@code path} (created at start, mode 0600; a stale one is
     * replaced). Its directory must belong to this user or root and not be writable by group or
     * others; a missing one is created with mode 0700.
     */
    public Builder unixSocket(Path path) {
      this.unixSocket = Objects.requireNonNull(path, "path").toAbsolutePath();
      return this;
    }

    /**
     * Gives the group {@code group} read and write access to the Unix socket (mode 0660), for a
     * containerd that runs as another user of that group. Without it only the owner may connect.
     */
    public Builder socketGroup(String group) {
      Objects.requireNonNull(group, "group");
      if (group.isBlank()) {
        throw new IllegalArgumentException("invalid socket group \"" + group + "\"");
      }
      this.socketGroup = group;
      return this;
    }

    /** Listens on TCP {@code port} of the loopback address (or {@link #tcpAddress}); 0 picks one. */
    public Builder tcpPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("invalid TCP port " + port + ": must be 0 to 65535");
      }
      this.tcpPort = port;
      return this;
    }

    /**
     * Binds the TCP listener to {@code address} instead of the loopback address. Any address
     * other than a loopback one (the wildcard {@code 0.0.0.0} included) lets other machines
     * connect, so {@link #build()} then requires {@link #tls} and client authentication
     * ({@link #clientCertificateAuthorities} or {@link #bearerTokenFile}).
     */
    public Builder tcpAddress(InetAddress address) {
      this.tcpAddress = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * Serves TCP over TLS with the PEM certificate chain (the server's certificate first) and the
     * PEM PKCS#8 private key in these files, read at start.
     */
    public Builder tls(Path certificateChain, Path privateKey) {
      this.tlsCertificateChain = Objects.requireNonNull(certificateChain, "certificateChain");
      this.tlsPrivateKey = Objects.requireNonNull(privateKey, "privateKey");
      return this;
    }

    /**
     * Requires a TCP client certificate issued by one of the CAs whose PEM certificates are in
     * {@code caCertificates}. Needs {@link #tls}.
     */
    public Builder clientCertificateAuthorities(Path caCertificates) {
      this.clientCertificateAuthorities = Objects.requireNonNull(caCertificates, "caCertificates");
      return this;
    }

    /**
     * Requires TCP clients to send {@code authorization: Bearer <token>} with the token held in
     * {@code file} (at least 16 printable characters; the file readable by its owner only), read
     * at start. Needs {@link #tls}.
     */
    public Builder bearerTokenFile(Path file) {
      this.bearerTokenFile = Objects.requireNonNull(file, "file");
      return this;
    }

    /** Concurrent calls one connection may have; see {@link #MAX_CALLS_PER_CONNECTION_DEFAULT}. */
    public Builder maxCallsPerConnection(int calls) {
      this.maxCallsPerConnection = checkRange("max calls per connection", calls, 1,
          MAX_CALLS_PER_CONNECTION_MAX);
      return this;
    }

    /**
     * Closes a connection without calls for {@code idle}, asks one to go away after {@code age}
     * (clients reconnect) and cancels its calls {@code ageGrace} later; see the defaults.
     */
    public Builder connectionLimits(Duration idle, Duration age, Duration ageGrace) {
      this.maxConnectionIdle = checkPositive("max connection idle", idle);
      this.maxConnectionAge = checkPositive("max connection age", age);
      this.maxConnectionAgeGrace = checkPositive("max connection age grace", ageGrace);
      return this;
    }

    /** The threads running calls; see {@link #EXECUTOR_THREADS_DEFAULT}. */
    public Builder executorThreads(int threads) {
      this.executorThreads = checkRange("executor threads", threads, 1, EXECUTOR_THREADS_MAX);
      return this;
    }

    /**
     * Bounds the writes open at once to {@code budgetBytes / bytesPerWriter} (at least one):
     * {@code bytesPerWriter} is what one of the store's writers may hold in memory (the S3
     * store's part size times its upload concurrency). A Write beyond the bound fails with
     * RESOURCE_EXHAUSTED. See {@link #WRITER_MEMORY_BYTES_DEFAULT}, {@link
     * #BYTES_PER_WRITER_DEFAULT}.
     */
    public Builder writerMemory(long budgetBytes, long bytesPerWriter) {
      if (budgetBytes <= 0 || bytesPerWriter <= 0) {
        throw new IllegalArgumentException("invalid writer memory " + budgetBytes + " bytes, "
            + bytesPerWriter + " per writer: both must be positive");
      }
      this.writerMemoryBytes = budgetBytes;
      this.bytesPerWriter = bytesPerWriter;
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
     * @throws IllegalStateException if neither a Unix socket nor a TCP port was set, if TCP is to
     *     listen beyond loopback without TLS and client authentication, or if client
     *     authentication is set without TLS
     * @throws java.io.UncheckedIOException if the hold directory cannot be created or is not
     *     private to this user
     */
    public ContentServer build() {
      if (unixSocket == null && tcpPort < 0) {
        throw new IllegalStateException("a Unix socket or a TCP port is required");
      }
      TlsSettings tls = tlsCertificateChain == null ? null : new TlsSettings(tlsCertificateChain,
          tlsPrivateKey, clientCertificateAuthorities, bearerTokenFile);
      if (tls == null && (clientCertificateAuthorities != null || bearerTokenFile != null)) {
        throw new IllegalStateException(
            "client certificates and bearer tokens need TLS: set a certificate and key");
      }
      if (tcpPort >= 0) { // SEC-1 (docs/architecture.md)
        TcpListener.checkReachable(tcpAddress, tls);
      }
      Limits limits = new Limits(maxCallsPerConnection, maxConnectionIdle, maxConnectionAge,
          maxConnectionAgeGrace, executorThreads, writerMemoryBytes, bytesPerWriter);
      return new ContentServer(store, new ServerSettings(unixSocket, socketGroup, tcpAddress,
          tcpPort, tls, readChunkBytes, listBatchSize, maxInboundMessageBytes, shutdownGrace,
          openReaders, readerIdle, limits),
          holdDirectory == null ? Holds.inMemory() : Holds.inDirectory(holdDirectory),
          holderId == null ? IngestScope.NONE : IngestScope.of(holderId));
    }

    private static Duration checkPositive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException("invalid " + name + " " + value + ": must be positive");
      }
      return value;
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
