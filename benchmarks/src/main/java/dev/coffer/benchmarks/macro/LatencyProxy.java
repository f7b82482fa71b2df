package dev.coffer.benchmarks.macro;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy on a loopback port that adds a network's round trip to a loopback server
 * ({@code BENCH_LATENCY}): every chunk of bytes read from one side is written to the other no
 * earlier than half the round trip after it was read, in order. A request that waits for an
 * answer ({@code Expect: 100-continue}, a listing's next page) so costs a whole round trip, as it
 * does against S3, while a stream of bytes keeps its rate once the first of them arrives.
 *
 * <p>Each accepted connection opens one to the upstream and runs two pumps, one per direction: a
 * reader that stamps each chunk with its due time and queues it, and a sender that writes each
 * chunk once it is due. A pump holds at most {@link #BUFFER_BYTES} not yet sent and stops reading
 * meanwhile, so a slow receiver slows the sender as TCP's own window would, and the rate of one
 * connection is at most that many bytes per half round trip (800 MiB/s at 20 ms). An end of
 * stream is passed on as a half close when due; a failure on either side closes both sockets.
 *
 * <p>Thread-safe; {@link #close()} is idempotent and closes every connection it proxies.
 */
final class LatencyProxy implements AutoCloseable {
  /** The bytes one direction of one connection holds between reading and sending them. */
  static final int BUFFER_BYTES = 8 << 20;
  private static final int CHUNK = 64 << 10;

  private final InetSocketAddress upstream;
  private final long halfNanos;
  private final ServerSocket listener;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  private LatencyProxy(InetSocketAddress upstream, Duration latency, ServerSocket listener) {
    this.upstream = upstream;
    this.halfNanos = latency.toNanos() / 2;
    this.listener = listener;
    this.acceptor = new Thread(this::accept, "latency-proxy-" + listener.getLocalPort());
    acceptor.setDaemon(true);
  }

  /**
   * Starts a proxy to {@code upstream} (an {@code http://host:port} endpoint) that adds
   * {@code latency} to each round trip.
   *
   * @return the running proxy; {@link #endpoint()} is where clients connect
   * @throws IllegalArgumentException if {@code latency} is negative or {@code upstream} has no
   *     host or port
   * @throws IOException if no loopback port can be bound
   */
  static LatencyProxy start(URI upstream, Duration latency) throws IOException {
    if (latency.isNegative()) {
      throw new IllegalArgumentException("negative latency " + latency);
    }
    if (upstream.getHost() == null || upstream.getPort() < 0) {
      throw new IllegalArgumentException("no host and port in " + upstream);
    }
    ServerSocket listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
    LatencyProxy proxy = new LatencyProxy(
        new InetSocketAddress(upstream.getHost(), upstream.getPort()), latency, listener);
    proxy.acceptor.start();
    return proxy;
  }

  /** Where clients connect: {@code http://127.0.0.1:PORT}. */
  URI endpoint() {
    return URI.create("http://" + listener.getInetAddress().getHostAddress() + ":"
        + listener.getLocalPort());
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      track(client);
      Socket server = new Socket();
      track(server);
      Thread opener = new Thread(() -> open(client, server),
          "latency-proxy-open-" + client.getPort());
      opener.setDaemon(true);
      opener.start();
    }
  }

  /** Registers a socket for {@link #close()}, closing it at once if that already ran. */
  private void track(Socket socket) {
    sockets.add(socket);
    if (closed) {
      closeQuietly(socket);
    }
  }

  /** Connects to the upstream (as a client's first bytes wait in its socket) and starts pumps. */
  private void open(Socket client, Socket server) {
    try {
      client.setTcpNoDelay(true);
      server.setTcpNoDelay(true);
      server.connect(upstream, 10_000);
    } catch (IOException e) {
      closeQuietly(client);
      closeQuietly(server);
      return;
    }
    Runnable closeBoth = () -> {
      closeQuietly(client);
      closeQuietly(server);
    };
    AtomicInteger ended = new AtomicInteger();
    Runnable halfDone = () -> {
      if (ended.incrementAndGet() == 2) {
        closeBoth.run();
      }
    };
    String name = client.getPort() + "-" + server.getLocalPort();
    new Pump(client, server, closeBoth, halfDone).start("latency-proxy-up-" + name);
    new Pump(server, client, closeBoth, halfDone).start("latency-proxy-down-" + name);
  }

  private void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing is all that is left to do with it.
    }
    sockets.remove(socket);
  }

  /**
   * Stops listening and closes every proxied connection, both sides: once it returns, the port
   * refuses connections.
   */
  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
      // The port stays open until the thread blocked in accept() has left it.
      acceptor.join(10_000);
    } catch (IOException ignored) {
      // Nothing more to release.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Socket socket : sockets) {
      closeQuietly(socket);
    }
  }

  /** One direction of one connection: a reader queueing stamped chunks, a sender writing them. */
  private final class Pump {
    /** A chunk and the time it may be written; an empty chunk is the end of the stream. */
    private record Chunk(byte[] bytes, long due, boolean failed) {}

    private final Socket from;
    private final Socket to;
    private final Runnable closeBoth;
    private final Runnable halfDone;
    private final LinkedBlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    private final Semaphore room = new Semaphore(BUFFER_BYTES);

    Pump(Socket from, Socket to, Runnable closeBoth, Runnable halfDone) {
      this.from = from;
      this.to = to;
      this.closeBoth = closeBoth;
      this.halfDone = halfDone;
    }

    void start(String name) {
      Thread reader = new Thread(this::read, name + "-read");
      Thread sender = new Thread(this::send, name + "-send");
      reader.setDaemon(true);
      sender.setDaemon(true);
      sender.start();
      reader.start();
    }

    private void read() {
      byte[] buffer = new byte[CHUNK];
      try {
        // Not closed here: closing a socket's stream closes the socket, both directions.
        InputStream in = from.getInputStream();
        while (true) {
          room.acquire(CHUNK);
          int n = in.read(buffer);
          long due = System.nanoTime() + halfNanos;
          if (n < 0) {
            queue.add(new Chunk(new byte[0], due, false));
            return;
          }
          room.release(CHUNK - n);
          queue.add(new Chunk(Arrays.copyOf(buffer, n), due, false));
        }
      } catch (IOException | InterruptedException e) {
        // A reset or a close: passed on when due, as the end of the stream is.
        queue.add(new Chunk(new byte[0], System.nanoTime() + halfNanos, true));
      }
    }

    private void send() {
      try {
        OutputStream out = to.getOutputStream();
        while (true) {
          Chunk chunk = queue.take();
          for (long wait = chunk.due() - System.nanoTime(); wait > 0;
              wait = chunk.due() - System.nanoTime()) {
            LockSupport.parkNanos(wait);
          }
          if (chunk.failed()) {
            closeBoth.run();
            return;
          }
          if (chunk.bytes().length == 0) {
            out.flush();
            to.shutdownOutput();
            halfDone.run();
            return;
          }
          out.write(chunk.bytes());
          room.release(chunk.bytes().length);
        }
      } catch (IOException e) {
        closeBoth.run(); // the receiver went away: so does the other side
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closeBoth.run();
      } finally {
        // Frees a reader waiting for room, which then finds its socket closed or at its end.
        room.release(BUFFER_BYTES);
      }
    }
  }
}
