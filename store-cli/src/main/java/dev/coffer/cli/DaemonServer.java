package dev.coffer.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The command daemon's accept loop: one command at a time, each on a thread of its own that ends
 * with it. A connection is closed unread unless its peer ({@code SO_PEERCRED}) is this process's
 * user; answered {@code D} at once while a command runs, when the jar changed since the start
 * (the daemon then exits), or when {@link DaemonPolicy} declines the request (a differing
 * environment or umask among its reasons); otherwise its command runs ({@link DaemonSession}).
 * After {@link Config#idle} without a command, and after the jar changes, it stops: the socket
 * and pid file are removed.
 *
 * <p>A client has {@link Config#requestTimeout} to send its request, during which the loop
 * accepts no other connection.
 *
 * <p>The peer check against another user cannot be exercised by an in-process test (it needs a
 * second account); the socket file's mode 0600 in a 0700 directory keeps other users out first.
 *
 * <p>{@link #serve} runs on one thread; {@link #close} may be called from any (a shutdown hook).
 */
final class DaemonServer implements AutoCloseable {
  /** How long a client may take to send its request once connected, unless configured. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /**
   * What a daemon serves and how.
   *
   * @param socket the socket's path ({@code <key>.sock}; the pid file is beside it)
   * @param idle how long without a command until it exits
   * @param jar the jar whose change (size or modification time) makes it exit; null for none
   * @param env its own environment, which a request's checked variables must match
   * @param umask its own umask (0 to 0777), which a request's must match
   * @param connectors a connector for each command
   * @param log where it reports what it does (its log file)
   * @param requestTimeout how long a client may take to send its request
   */
  record Config(Path socket, Duration idle, Path jar, Map<String, String> env, int umask,
      Supplier<StoreConnector> connectors, PrintStream log, Duration requestTimeout) {
    Config {
      Objects.requireNonNull(socket, "socket");
      if (umask < 0 || umask > Umask.MAX) {
        throw new IllegalArgumentException("umask must be 0 to 0777, not "
            + Integer.toOctalString(umask));
      }
      if (idle.isNegative() || idle.isZero()) {
        throw new IllegalArgumentException("idle must be positive, not " + idle);
      }
      if (requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be positive");
      }
      env = Map.copyOf(env);
    }

    /** A daemon's configuration with the default {@link #REQUEST_TIMEOUT}. */
    Config(Path socket, Duration idle, Path jar, Map<String, String> env, int umask,
        Supplier<StoreConnector> connectors, PrintStream log) {
      this(socket, idle, jar, env, umask, connectors, log, REQUEST_TIMEOUT);
    }
  }

  private final Config config;
  private final DaemonFiles files;
  private final ServerSocketChannel server;
  private final UserPrincipal self;
  private final String jarStamp;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "coffer-daemon-timer");
    t.setDaemon(true);
    return t;
  });
  /** Guards {@link #running}, {@link #last}, {@link #idleStop} and {@link #stopping}. */
  private final Object lock = new Object();
  /** The thread of the command running; null once it ended, while it may still send X. */
  private Thread running;
  /** The thread of the latest command, until it has sent X and closed. */
  private Thread last;
  private ScheduledFuture<?> idleStop;
  private boolean stopping;
  /** Whether a command's {@link Error} stopped the daemon. */
  private boolean fatal;

  private DaemonServer(Config config, DaemonFiles files, ServerSocketChannel server,
      UserPrincipal self) {
    this.config = config;
    this.files = files;
    this.server = server;
    this.self = self;
    this.jarStamp = stamp(config.jar());
  }

  /**
   * Checks the directory and binds the socket.
   *
   * @return the server, not yet accepting; empty if another daemon serves this socket
   * @throws DaemonFiles.RefusedException if the directory is not private to the user
   */
  static Optional<DaemonServer> open(Config config) throws IOException {
    DaemonFiles files = new DaemonFiles(config.socket());
    UserPrincipal self = DaemonFiles.self();
    files.checkDirectory(self);
    ServerSocketChannel server = files.bind();
    if (server == null) {
      return Optional.empty();
    }
    return Optional.of(new DaemonServer(config, files, server, self));
  }

  /** The socket and pid file. */
  DaemonFiles files() {
    return files;
  }

  /**
   * Accepts and serves until stopped (idle, the jar changed, {@link #close}, an {@link Error}
   * in a command); then waits for the running command and removes the socket and pid file.
   *
   * @return whether a command's {@link Error} stopped it
   */
  boolean serve() {
    scheduleIdleStop();
    config.log().println("coffer daemon: serving on " + files.socket);
    while (true) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        break;
      } catch (IOException e) {
        config.log().println("coffer daemon: accept failed: " + e);
        continue;
      }
      try {
        handle(channel);
      } catch (IOException | RuntimeException e) {
        config.log().println("coffer daemon: connection dropped: " + e);
        closeQuietly(channel);
      }
    }
    Thread finishing;
    synchronized (lock) {
      finishing = last;
    }
    if (finishing != null) {
      joinUninterruptibly(finishing);
    }
    close();
    config.log().println("coffer daemon: stopped");
    synchronized (lock) {
      return fatal;
    }
  }

  /** Stops accepting; the running command, if any, finishes. Idempotent. */
  void stop() {
    synchronized (lock) {
      stopping = true;
      if (idleStop != null) {
        idleStop.cancel(false);
      }
    }
    closeQuietly(server);
  }

  /** Stops and removes the socket and pid file (as a shutdown hook does). Idempotent. */
  @Override
  public void close() {
    stop();
    timer.shutdownNow();
    files.remove();
  }

  private void handle(SocketChannel channel) throws IOException {
    UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
    if (!self.equals(peer.user())) {
      config.log().println("coffer daemon: refused a connection from " + peer.user().getName());
      channel.close();
      return;
    }
    // The request is read before any answer, also "busy": a client's write of it then never
    // meets a closed connection (EPIPE), nor its read a reset for bytes left unread.
    DaemonWire.Request request;
    ScheduledFuture<?> deadline = timer.schedule(() -> closeQuietly(channel),
        config.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
    try {
      request = DaemonWire.readRequest(Channels.newInputStream(channel));
    } catch (IOException e) {
      config.log().println("coffer daemon: bad request: " + e.getMessage());
      channel.close();
      return;
    } finally {
      deadline.cancel(false);
    }
    synchronized (lock) {
      if (running != null) {
        decline(channel, "busy");
        return;
      }
    }
    if (!Objects.equals(jarStamp, stamp(config.jar()))) {
      decline(channel, "the daemon's jar changed");
      config.log().println("coffer daemon: the jar changed; exiting");
      stop();
      return;
    }
    Optional<String> reason = DaemonPolicy.decline(request, config.env(), config.umask());
    if (reason.isPresent()) {
      decline(channel, reason.get());
      return;
    }
    DaemonSession session = new DaemonSession(channel, request, config.connectors().get());
    boolean[] ended = {false};
    Thread thread = new Thread(() -> {
      try {
        session.run(error -> {
          ended[0] = true;
          commandEnded(error);
        });
      } finally {
        if (!ended[0]) {
          commandEnded(null);
        }
      }
    }, "coffer-daemon-command");
    synchronized (lock) {
      if (stopping) {
        decline(channel, "the daemon is stopping");
        return;
      }
      if (idleStop != null) {
        idleStop.cancel(false);
      }
      running = thread;
      last = thread;
      thread.start();
    }
  }

  private void commandEnded(Error error) {
    boolean changed = !Objects.equals(jarStamp, stamp(config.jar()));
    synchronized (lock) {
      running = null;
      if (error != null) {
        fatal = true;
        config.log().println("coffer daemon: exiting after " + error);
      } else if (changed) {
        config.log().println("coffer daemon: the jar changed; exiting");
      }
    }
    if (error != null || changed) {
      stop();
    } else {
      scheduleIdleStop();
    }
  }

  private void scheduleIdleStop() {
    synchronized (lock) {
      if (stopping) {
        return;
      }
      idleStop = timer.schedule(() -> {
        synchronized (lock) {
          if (running != null) {
            return;
          }
        }
        config.log().println("coffer daemon: idle for " + config.idle() + "; exiting");
        stop();
      }, config.idle().toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private static void decline(SocketChannel channel, String reason) throws IOException {
    try (channel) {
      ByteBuffer frame = ByteBuffer.wrap(DaemonWire.frame(DaemonWire.DECLINED, reason));
      while (frame.hasRemaining()) {
        channel.write(frame);
      }
    }
  }

  /** The jar's size and modification time; null if there is no jar or it cannot be read. */
  private static String stamp(Path jar) {
    if (jar == null) {
      return null;
    }
    try {
      BasicFileAttributes attributes = Files.readAttributes(jar, BasicFileAttributes.class);
      return attributes.size() + "@" + attributes.lastModifiedTime();
    } catch (IOException e) {
      return "unreadable";
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // closed either way
    }
  }

  private static void joinUninterruptibly(Thread thread) {
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
