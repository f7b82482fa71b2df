package dev.coffer.s3sim;

import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;

/**
 * A simulated S3, in process and in memory, for tests: the real AWS SDK clients, and the code
 * above them, run unchanged against it. Layers, each usable on its own:
 * <ol>
 *   <li>a model of S3's documented semantics (strong read-after-write, linearizable operations,
 *       conditional writes and deletes, multipart uploads, copies, tagging, checksums, ETags),
 *       keeping its state in a {@link Storage};
 *   <li>a REST layer, {@link S3Server}: HTTP request in, HTTP response out, transport-agnostic;
 *   <li>a {@link Network} per simulation, between hosts and server, where seeded faults
 *       ({@link Faults}), dead hosts and scheduling ({@link Network.Interceptor}) happen, and a
 *       {@link RequestLog};
 *   <li>the SDK's HTTP client interfaces, per host: {@link #httpClient(String)} and
 *       {@link #asyncHttpClient(String)}.
 * </ol>
 *
 * <pre>{@code
 * SimS3 sim = SimS3.create();
 * sim.createBucket("builds");
 * S3Client s3 = S3Client.builder()
 *     .httpClient(sim.httpClient("host-1"))
 *     .endpointOverride(SimS3.ENDPOINT).forcePathStyle(true)
 *     .region(Region.US_EAST_1)
 *     .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("a", "b")))
 *     .build();
 * }</pre>
 *
 * <p>What the seam skips, because no bytes cross a socket: real sockets, TLS, connection pools,
 * DNS, the Apache, Netty and CRT clients' own behaviour (their timeouts, retries of idle
 * connections, {@code Expect: 100-continue}, streaming with back-pressure: bodies are whole byte
 * arrays both ways), wall-clock timeouts (a "timeout" is an exception the network raises at once),
 * and signature checks (any credentials are accepted). The SDK's marshalling, signing, checksums,
 * retry strategy, error parsing and response handling all run. The SDK's retry backoff still
 * sleeps on the wall clock unless the client's retry strategy says otherwise.
 *
 * <p>Nothing in the simulation reads the wall clock: times come from the clock given (by default a
 * {@link SimClock}), randomness from seeds (invariant SIM-4 of docs/architecture.md).
 * Thread-safe.
 */
public final class SimS3 implements AutoCloseable {

  /**
   * The endpoint the SDK clients must be given, with path-style addressing. HTTPS, so that the
   * SDK sends payloads unsigned instead of in signed chunks; no connection is ever made to it.
   */
  public static final URI ENDPOINT = URI.create("https://" + Transport.HOST);

  private final S3Server server;
  private final Network network;
  private final List<AutoCloseable> clients = new ArrayList<>();

  private SimS3(Builder b) {
    S3Server.Builder server = S3Server.builder().clock(b.clock).capabilities(b.capabilities)
        .seed(b.seed).conditionalWriteGap(b.conditionalGap);
    if (b.storage != null) {
      server.storage(b.storage);
    }
    this.server = server.build();
    this.network = new Network(this.server, new RequestLog(b.logCapacity));
  }

  /** A simulation with every default: S3's capabilities, a {@link SimClock}, no faults. */
  public static SimS3 create() {
    return builder().build();
  }

  /** A builder with every default; see {@link Builder}. */
  public static Builder builder() {
    return new Builder();
  }

  /** The server (the REST layer over the model). */
  public S3Server server() {
    return server;
  }

  /** The network between the hosts and the server. */
  public Network network() {
    return network;
  }

  /** The server's clock. */
  public Clock clock() {
    return server.clock();
  }

  /** What the network saw. */
  public RequestLog log() {
    return network.log();
  }

  /** Creates a bucket directly (no request, no fault); see {@link S3Server#createBucket}. */
  public void createBucket(String bucket) {
    server.createBucket(bucket);
  }

  /**
   * A synchronous HTTP client for the SDK whose requests come from {@code host}: give it to
   * {@code S3Client.builder().httpClient(...)} with {@link #ENDPOINT} and path-style addressing.
   * The SDK does not close a client it was given; this one holds nothing to close.
   */
  public SdkHttpClient httpClient(String host) {
    return new SimHttpClient(network, checkHost(host));
  }

  /**
   * An asynchronous HTTP client for the SDK whose requests come from {@code host}: give it to
   * {@code S3AsyncClient.builder().httpClient(...)}. It runs each exchange on a daemon thread of
   * its own; {@link #close()} of this simulation (or of the client) stops them.
   */
  public SdkAsyncHttpClient asyncHttpClient(String host) {
    SimAsyncHttpClient client = new SimAsyncHttpClient(network, checkHost(host));
    synchronized (clients) {
      clients.add(client);
    }
    return client;
  }

  private static String checkHost(String host) {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must not be empty");
    }
    return host;
  }

  /** Stops the threads of the asynchronous clients made here. Idempotent. */
  @Override
  public void close() {
    List<AutoCloseable> all;
    synchronized (clients) {
      all = List.copyOf(clients);
      clients.clear();
    }
    for (AutoCloseable c : all) {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing " + c, e);
      }
    }
  }

  /** Collects a simulation's settings; each is checked when set. Not thread-safe. */
  public static final class Builder {
    private Clock clock = new SimClock();
    private Capabilities capabilities = Capabilities.s3();
    private long seed;
    private Storage storage;
    private Runnable conditionalGap = () -> { };
    private int logCapacity = DEFAULT_LOG_CAPACITY;

    /** The request log keeps this many recent entries unless told otherwise. */
    public static final int DEFAULT_LOG_CAPACITY = 10_000;

    private Builder() {}

    /** The server's clock; default a new {@link SimClock}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** What the server does where S3-compatible servers differ; default {@link Capabilities#s3()}. */
    public Builder capabilities(Capabilities capabilities) {
      this.capabilities = Objects.requireNonNull(capabilities, "capabilities");
      return this;
    }

    /** The seed of the server's upload ids; default 0. Faults have their own seeds. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Where the server keeps its state; default a new {@link Storage#inMemory()}. */
    public Builder storage(Storage storage) {
      this.storage = Objects.requireNonNull(storage, "storage");
      return this;
    }

    /** See {@link S3Server.Builder#conditionalWriteGap}. */
    public Builder conditionalWriteGap(Runnable gap) {
      this.conditionalGap = Objects.requireNonNull(gap, "gap");
      return this;
    }

    /**
     * How many recent requests the log keeps (its counters keep everything).
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder logCapacity(int entries) {
      if (entries < 0) {
        throw new IllegalArgumentException("logCapacity " + entries + " < 0");
      }
      this.logCapacity = entries;
      return this;
    }

    /** The simulation; its bucket list is empty. */
    public SimS3 build() {
      return new SimS3(this);
    }
  }
}
