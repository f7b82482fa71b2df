package dev.coffer.store.grpc;

import dev.coffer.store.grpc.ServerSettings.Limits;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC servers of one {@link ContentServer}, one per listener (its Unix socket, its TCP port),
 * with what they run on: the call threads ({@code coffer-grpc-N}, bounded, SEC-5) and the Unix
 * socket's event loops. Each server is configured with the server's limits (SEC-5) and serves the
 * content service behind the writer budget.
 *
 * <p>{@link #bind} at most once, then {@link #stop} and {@link #removeSocket} once, also after a
 * failed bind (they close what was bound). Not thread-safe: its server calls it under its monitor,
 * but for {@link #servers()}, a copy.
 */
final class Listeners {

  private final ServerSettings settings;
  private final List<Server> servers = new ArrayList<>();
  private final List<EventLoopGroup> eventLoops = new ArrayList<>();
  private ExecutorService executor;
  private boolean socketBound;

  Listeners(ServerSettings settings) {
    this.settings = settings;
  }

  /**
   * Binds the Unix socket (SEC-2) and the TCP port (SEC-1) the settings name, in this order, each
   * serving {@code service} behind {@code writerBudget}. What was bound before a failure stays
   * here for {@link #stop}.
   *
   * @throws IOException if a listener cannot be bound or its TLS files or token file cannot be used
   */
  void bind(ContentService service, WriterBudget writerBudget) throws IOException {
    executor = Executors.newFixedThreadPool(settings.limits().executorThreads(), callThreads());
    if (settings.unixSocket() != null) {
      servers.add(UnixSocketListener.start(settings.unixSocket(), settings.socketGroup(),
          builder -> configure(builder, service, writerBudget), eventLoops));
      socketBound = true;
    }
    if (settings.tcpPort() >= 0) {
      servers.add(TcpListener.start(
          new InetSocketAddress(settings.tcpAddress(), settings.tcpPort()), settings.tls(),
          builder -> configure(builder, service, writerBudget)));
    }
  }

  private NettyServerBuilder configure(NettyServerBuilder builder, ContentService service,
      WriterBudget writerBudget) {
    Limits limits = settings.limits();
    return builder
        .addService(service)
        .intercept(writerBudget)
        .executor(executor)
        .callExecutor(ContentService.callExecutors())
        .maxInboundMessageSize(settings.maxInboundMessageBytes())
        .maxConcurrentCallsPerConnection(limits.maxCallsPerConnection())
        .maxConnectionIdle(limits.maxConnectionIdle().toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAge(limits.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS)
        .maxConnectionAgeGrace(limits.maxConnectionAgeGrace().toNanos(), TimeUnit.NANOSECONDS);
  }

  private static ThreadFactory callThreads() {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, "coffer-grpc-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** What listens where, one line per listener; see {@link ContentServer#listeners()}. */
  List<String> describe() {
    List<String> lines = new ArrayList<>();
    if (settings.unixSocket() != null) {
      lines.add("unix://" + settings.unixSocket() + (settings.socketGroup() == null
          ? " (mode 0600)" : " (mode 0660, group " + settings.socketGroup() + ")"));
    }
    tcpAddress().ifPresent(address -> lines.add(TcpListener.describe(address, settings.tls())));
    return lines;
  }

  /** The TCP listener's address: the bound one once bound, else the one asked; none without. */
  Optional<InetSocketAddress> tcpAddress() {
    if (settings.tcpPort() < 0) {
      return Optional.empty();
    }
    for (Server server : servers) {
      for (SocketAddress address : server.getListenSockets()) {
        if (address instanceof InetSocketAddress inet) {
          return Optional.of(inet);
        }
      }
    }
    return Optional.of(new InetSocketAddress(settings.tcpAddress(), settings.tcpPort()));
  }

  /** The servers bound so far, a copy. */
  List<Server> servers() {
    return List.copyOf(servers);
  }

  /**
   * Stops accepting calls, lets running calls finish for the shutdown grace, then cancels the
   * rest, and shuts the event loops and the call threads down. If the thread is interrupted
   * meanwhile, remaining calls are cancelled and the interrupt is restored.
   */
  void stop() {
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
    if (executor != null) {
      executor.shutdown();
    }
  }

  /**
   * Removes the socket file if this bound it.
   *
   * @throws UncheckedIOException if it cannot be removed
   */
  void removeSocket() {
    if (socketBound) {
      try {
        Files.deleteIfExists(settings.unixSocket());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove socket " + settings.unixSocket(), e);
      }
    }
  }
}
