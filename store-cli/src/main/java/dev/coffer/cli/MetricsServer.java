package dev.coffer.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The HTTP listener of {@code coffer serve --metrics-address}: {@code GET /metrics} in Prometheus'
 * text format, {@code GET /healthz} 200 once the store answered a probe (503 before). It listens on
 * a loopback address only (OBS-3): it has neither TLS nor client authentication, so by SEC-1 it may
 * not listen beyond loopback.
 *
 * <p>Thread-safe; {@link #close} is idempotent.
 */
final class MetricsServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;

  private MetricsServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * The loopback address and port of {@code text}, {@code HOST:PORT} (host optional: loopback;
   * {@code [::1]:PORT} for IPv6).
   *
   * @throws ConfigException if it is malformed, does not resolve, or is not a loopback address
   */
  static InetSocketAddress address(String text) {
    int colon = text.lastIndexOf(':');
    if (colon < 0) {
      throw new ConfigException("invalid --metrics-address \"" + text + "\": expected HOST:PORT");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 0 || port > 65535) {
      throw new ConfigException("invalid --metrics-address \"" + text + "\": bad port");
    }
    InetAddress address;
    try {
      address = host.isEmpty() ? InetAddress.getLoopbackAddress() : InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new ConfigException("invalid --metrics-address \"" + text + "\": unknown host");
    }
    if (!address.isLoopbackAddress()) {
      throw new ConfigException("--metrics-address " + text + " is not a loopback address: the"
          + " metrics listener has no TLS or client authentication, so it listens on loopback only"
          + " (scrape it from this host, or through a proxy that authenticates)");
    }
    return new InetSocketAddress(address, port);
  }

  /**
   * Starts serving {@code registry} on {@code address}; {@code ready} says whether the store has
   * answered its probe.
   */
  static MetricsServer start(InetSocketAddress address, PrometheusMeterRegistry registry,
      BooleanSupplier ready) throws IOException {
    if (!address.getAddress().isLoopbackAddress()) {
      throw new IllegalArgumentException("not a loopback address: " + address); // OBS-3
    }
    HttpServer server = HttpServer.create(address, 16);
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "coffer-metrics");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/metrics", exchange -> {
      if (allowed(exchange)) {
        respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
      }
    });
    server.createContext("/healthz", exchange -> {
      if (allowed(exchange)) {
        boolean ok = ready.getAsBoolean();
        respond(exchange, ok ? 200 : 503, "text/plain; charset=utf-8",
            ok ? "ok\n" : "probing the store\n");
      }
    });
    server.start();
    return new MetricsServer(server, executor);
  }

  /** Where it listens: the port is the one bound (for port 0). */
  InetSocketAddress address() {
    return server.getAddress();
  }

  private static boolean allowed(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    if (!path.equals("/metrics") && !path.equals("/healthz")) {
      respond(exchange, 404, "text/plain; charset=utf-8", "not found\n");
      return false;
    }
    String method = exchange.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD")) {
      exchange.getResponseHeaders().add("Allow", "GET, HEAD");
      respond(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
      return false;
    }
    return true;
  }

  private static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    try (exchange) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", type);
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
