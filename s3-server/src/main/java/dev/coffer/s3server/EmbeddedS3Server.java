package dev.coffer.s3server;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.coffer.s3sim.Capabilities;
import dev.coffer.s3sim.S3Server;
import dev.coffer.s3sim.SimRequest;
import dev.coffer.s3sim.SimResponse;
import dev.coffer.s3sim.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The simulated S3's REST layer ({@link S3Server}: S3's semantics, every request atomic under one
 * lock) over HTTP, for the CLI's default store when no bucket is configured. It listens on
 * {@code 127.0.0.1} only and answers only requests signed (AWS Signature Version 4) with its one
 * set of {@link Credentials}; anything else gets 403 before its body is read (invariant SEC-8 of
 * docs/architecture.md). Path-style addressing only.
 *
 * <p>Request bodies are read whole, up to {@link Builder#maxBodyBytes} (larger: 400
 * EntityTooLarge). Every response carries {@code Server: }{@value #SERVER_NAME}.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
public final class EmbeddedS3Server implements AutoCloseable {
  /** The {@code Server} header of every response. */
  public static final String SERVER_NAME = "CofferEmbeddedS3";
  /** The default largest request body: the S3 store's largest part. */
  public static final long MAX_BODY_BYTES_DEFAULT = 512L << 20;
  /** The default number of threads serving requests. */
  public static final int THREADS_DEFAULT = 16;

  private static final Logger LOG = Logger.getLogger(EmbeddedS3Server.class.getName());
  private static final byte[] LOOPBACK = {127, 0, 0, 1};
  private static final String NODELAY = "sun.net.httpserver.nodelay";

  private final HttpServer http;
  private final ExecutorService executor;
  private final S3Server s3;
  private final Credentials credentials;
  private final Clock clock;
  private final long maxBodyBytes;
  private final AtomicBoolean closed = new AtomicBoolean();

  private EmbeddedS3Server(Builder b, HttpServer http, ExecutorService executor) {
    this.http = http;
    this.executor = executor;
    this.credentials = b.credentials;
    this.clock = b.clock;
    this.maxBodyBytes = b.maxBodyBytes;
    this.s3 = S3Server.builder().storage(b.storage).clock(b.clock).capabilities(b.capabilities)
        .seed(new SecureRandom().nextLong()).build();
    for (String bucket : b.buckets) {
      try {
        s3.createBucket(bucket);
      } catch (IllegalStateException e) {
        // It survived from an earlier run.
      }
    }
  }

  /** A builder; storage and credentials are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Where it listens: {@code 127.0.0.1} and the port. */
  public InetSocketAddress address() {
    return http.getAddress();
  }

  /** {@code http://127.0.0.1:<port>}. */
  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + address().getPort());
  }

  /** Stops listening and waits up to a second for requests in progress. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      http.stop(1);
      executor.shutdown();
      try {
        executor.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      URI uri = exchange.getRequestURI();
      Headers headers = exchange.getRequestHeaders();
      String method = exchange.getRequestMethod();
      SigV4.Failure refused = SigV4.verify(method, uri.getRawPath(), uri.getRawQuery(),
          headers, credentials, clock.instant());
      if (refused != null) {
        // Answered without reading the body: an unauthenticated client sends nothing further.
        respond(exchange, method, error(refused));
        return;
      }
      String length = headers.getFirst("Content-Length");
      if (length != null && parseLong(length) > maxBodyBytes) {
        respond(exchange, method, error(new SigV4.Failure(400, "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size of this server, "
                + maxBodyBytes + " bytes")));
        return;
      }
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
      }
      if (body.length > maxBodyBytes) {
        respond(exchange, method, error(new SigV4.Failure(400, "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size of this server, "
                + maxBodyBytes + " bytes")));
        return;
      }
      SigV4.Failure payload = SigV4.checkPayload(headers.getFirst("x-amz-content-sha256"), body);
      if (payload != null) {
        respond(exchange, method, error(payload));
        return;
      }
      Map<String, List<String>> query = new TreeMap<>();
      for (String[] p : SigV4.parseQuery(uri.getRawQuery())) {
        query.computeIfAbsent(p[0], k -> new ArrayList<>()).add(p[1]);
      }
      SimRequest request = new SimRequest(method, SigV4.decode(uri.getRawPath()), query, headers,
          body);
      respond(exchange, method, s3.handle(request));
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "request " + exchange.getRequestMethod() + " "
          + exchange.getRequestURI() + " failed", e);
      throw e;
    }
  }

  private static long parseLong(String text) {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static SimResponse error(SigV4.Failure f) {
    String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + f.code()
        + "</Code><Message>" + f.message().replace("&", "&amp;").replace("<", "&lt;")
        + "</Message></Error>";
    byte[] body = xml.getBytes(StandardCharsets.UTF_8);
    return new SimResponse(f.status(), Map.of("Content-Type", List.of("application/xml"),
        "Content-Length", List.of(Integer.toString(body.length))), body);
  }

  private static void respond(HttpExchange exchange, String method, SimResponse response)
      throws IOException {
    Headers out = exchange.getResponseHeaders();
    response.headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("Content-Length") || method.equals("HEAD")) {
        out.put(name, values);
      }
    });
    out.set("Server", SERVER_NAME);
    boolean head = method.equals("HEAD");
    byte[] body = head ? new byte[0] : response.body();
    // -1: no body. The server sets Content-Length itself, but for HEAD keeps the one copied above.
    exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream os = exchange.getResponseBody()) {
        os.write(body);
      }
    }
  }

  /** Collects a server's settings. Not thread-safe. */
  public static final class Builder {
    private Storage storage;
    private Credentials credentials;
    private int port;
    private final List<String> buckets = new ArrayList<>();
    private Clock clock = Clock.systemUTC();
    private long maxBodyBytes = MAX_BODY_BYTES_DEFAULT;
    private int threads = THREADS_DEFAULT;
    // A repeated CompleteMultipartUpload is answered 200, as AWS does: a client whose first
    // attempt timed out on a large upload, and retries, finds its object instead of NoSuchUpload.
    private Capabilities capabilities = Capabilities.s3().withIdempotentCompletion();

    private Builder() {}

    /** Where the objects are kept (required): {@link Storage#onDisk} to keep them between runs. */
    public Builder storage(Storage storage) {
      this.storage = Objects.requireNonNull(storage, "storage");
      return this;
    }

    /** The one access key accepted (required). */
    public Builder credentials(Credentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * The loopback port; 0 (the default) for any free one.
     *
     * @throws IllegalArgumentException if not 0 to 65535
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is not 0 to 65535");
      }
      this.port = port;
      return this;
    }

    /** A bucket created at start unless it exists. */
    public Builder bucket(String bucket) {
      buckets.add(Objects.requireNonNull(bucket, "bucket"));
      return this;
    }

    /**
     * What the simulated S3 behind the server can do; default S3's, with a repeated
     * CompleteMultipartUpload answered as AWS answers it. For tests of servers that lack
     * something (object tagging, say).
     */
    public Builder capabilities(Capabilities capabilities) {
      this.capabilities = Objects.requireNonNull(capabilities, "capabilities");
      return this;
    }

    /** The clock of LastModified and of the signatures' time check; default the system's. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The largest request body; default {@value #MAX_BODY_BYTES_DEFAULT}.
     *
     * @throws IllegalArgumentException if not 1 to 2^31 - 16
     */
    public Builder maxBodyBytes(long bytes) {
      if (bytes < 1 || bytes > Integer.MAX_VALUE - 16) {
        throw new IllegalArgumentException("max body bytes " + bytes + " is not 1 to 2^31 - 16");
      }
      this.maxBodyBytes = bytes;
      return this;
    }

    /**
     * The threads serving requests; default {@value #THREADS_DEFAULT}.
     *
     * @throws IllegalArgumentException if below 1
     */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads " + threads + " is below 1");
      }
      this.threads = threads;
      return this;
    }

    /**
     * Binds {@code 127.0.0.1:<port>} and starts serving.
     *
     * @throws IllegalStateException if the storage or the credentials are missing
     * @throws IllegalArgumentException if a bucket name is invalid
     * @throws IOException if the port cannot be bound (a {@link java.net.BindException} if taken)
     */
    public EmbeddedS3Server start() throws IOException {
      if (storage == null || credentials == null) {
        throw new IllegalStateException("storage and credentials are required");
      }
      // Without TCP_NODELAY a response written as headers then body waits for the client's delayed
      // ACK (about 40 ms a request on Linux). Read once, when the JDK's server is first used.
      if (System.getProperty(NODELAY) == null) {
        System.setProperty(NODELAY, "true");
      }
      HttpServer http = HttpServer.create(new InetSocketAddress(
          InetAddress.getByAddress(LOOPBACK), port), 64);
      AtomicInteger n = new AtomicInteger();
      ThreadFactory factory = r -> {
        Thread t = new Thread(r, "s3-server-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      };
      ExecutorService executor = Executors.newFixedThreadPool(threads, factory);
      EmbeddedS3Server server;
      try {
        server = new EmbeddedS3Server(this, http, executor);
      } catch (RuntimeException e) {
        http.stop(0);
        executor.shutdown();
        throw e;
      }
      http.createContext("/", server::serve);
      http.setExecutor(executor);
      http.start();
      return server;
    }
  }
}
