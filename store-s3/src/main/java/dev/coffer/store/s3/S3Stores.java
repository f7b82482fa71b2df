package dev.coffer.store.s3;

import dev.coffer.store.ContentStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3CrtAsyncClientBuilder;

/**
 * Opens content stores on S3. A store owns the prefix of its {@link S3StoreConfig} in one bucket
 * (which must exist); stores on many hosts over the same bucket and prefix form one store, kept
 * consistent by conditional writes (docs/architecture.md, "The S3 store", states the key layout
 * and the protocol; docs/s3-store.md the configuration and request counts).
 *
 * <pre>{@code
 * ContentStore store = S3Stores.builder()
 *     .config(S3StoreConfig.builder().bucket("builds").prefix("cas/").build())
 *     .build();
 * }</pre>
 *
 * <p>By default the store builds its own clients from the configuration: a synchronous client for
 * records, metadata and reads (and a twin of it without retries, over the same connections, for
 * the requests the store sends once), and the client named by {@link S3StoreConfig#transfer()} for
 * uploads and copies, both with the SDK's standard retry strategy (throttling, 5xx, resets and 409
 * conflicts retried with jittered backoff) and without the SDK's default CRC32 checksums. It
 * closes them when it is closed. Clients passed in instead (for example with interceptors) are used
 * as they are and stay the caller's to close.
 *
 * <p>The builder is not thread-safe; the stores it builds are.
 */
public final class S3Stores {

  private S3Stores() {}

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * An interceptor that counts the requests of the client it is added to in {@code registry}
   * ({@code coffer.s3.requests}, {@code coffer.s3.bytes}, {@code coffer.s3.latency}; see
   * docs/metrics.md), for clients passed to {@link Builder#client} and {@link Builder#bulkClient}.
   * Thread-safe.
   */
  public static ExecutionInterceptor requestMeter(MeterRegistry registry) {
    return new S3RequestMeter(registry);
  }

  /**
   * SigV4 that sends request bodies unsigned over {@code http://} as well as over {@code https://}
   * ({@code UNSIGNED-PAYLOAD}), as the clients a store builds do unless {@link
   * S3StoreConfig#signPayloads()} says otherwise: for clients passed to {@link Builder#client} and
   * {@link Builder#bulkClient}, with {@code putAuthScheme}. Bodies are then guarded by the
   * checksums the store sends with every write, and not by the signature (INT-6 in
   * docs/architecture.md). Thread-safe.
   */
  public static AuthScheme<AwsCredentialsIdentity> unsignedPayloads() {
    return UnsignedPayloadSigner.authScheme();
  }

  /** Opens a store with its own clients; shorthand for {@code builder().config(config).build()}. */
  public static ContentStore open(S3StoreConfig config) {
    return builder().config(config).build();
  }

  /** Collects a configuration and optional pre-built clients. */
  public static final class Builder {
    private S3StoreConfig config;
    private S3Client client;
    private S3AsyncClient bulkClient;
    private StoreRuntime runtime;
    private MeterRegistry registry;
    private Runnable onNoObjectTags = () -> { };

    private Builder() {}

    /**
     * Where the store publishes its metrics (docs/metrics.md): the requests of the clients it
     * builds itself (not of clients passed in: add {@link #requestMeter} to those; nor of the CRT
     * transfer client, which takes no interceptors) and its own operations by outcome. Without
     * one the store measures nothing.
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * The threads, monotonic clock, pauses and randomness the store uses, instead of the system's
     * ({@link StoreRuntime#system()}); for the simulation.
     */
    Builder runtime(StoreRuntime runtime) {
      this.runtime = Objects.requireNonNull(runtime, "runtime");
      return this;
    }

    /**
     * Run once if the store, opened with {@link S3StoreConfig#objectTags()} true, finds that the
     * server has no object tagging (it then goes on untagged), so that a caller can open later
     * stores with it false and spare each the refused write; a failure of it is ignored.
     */
    public Builder onNoObjectTags(Runnable action) {
      this.onNoObjectTags = Objects.requireNonNull(action, "action");
      return this;
    }

    /** The configuration; required. */
    public Builder config(S3StoreConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** A client for records, metadata and reads, instead of one built from the configuration. */
    public Builder client(S3Client client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** A client for uploads and copies, instead of one built from the configuration. */
    public Builder bulkClient(S3AsyncClient bulkClient) {
      this.bulkClient = Objects.requireNonNull(bulkClient, "bulkClient");
      return this;
    }

    /**
     * The store. It makes no request until used.
     *
     * @throws IllegalStateException if no configuration was given
     */
    public ContentStore build() {
      if (config == null) {
        throw new IllegalStateException("config is required");
      }
      List<AutoCloseable> owned = new ArrayList<>();
      S3Client control = client;
      Supplier<S3Client> singleAttempt = null; // null: such requests carry a plugin instead
      if (control == null) {
        OwnedControlClients own = new OwnedControlClients(config, registry);
        owned.add(own);
        control = own.control();
        singleAttempt = own::singleAttempt;
      }
      Supplier<S3AsyncClient> bulk;
      if (bulkClient != null) {
        S3AsyncClient given = bulkClient;
        bulk = () -> given;
      } else {
        // Built on first use: a command that uploads nothing (info, ls, a cached get) never
        // starts Netty, its event loop or its shutdown.
        OwnedBulkClient own = new OwnedBulkClient(config, registry);
        owned.add(own);
        bulk = own;
      }
      S3Objects objects = new S3Objects(control, singleAttempt, bulk, config.bucket(),
          config.checksumMode(), config.objectTags(), onNoObjectTags);
      S3Store store = new S3Store(config, objects, () -> closeAll(owned),
          runtime != null ? runtime : StoreRuntime.system());
      if (registry == null) {
        return store;
      }
      store.metrics = new StoreMetrics(registry);
      return MeteredStore.wrap(store, registry);
    }
  }

  /**
   * The store's own synchronous clients over one HTTP client (one connection pool): the control
   * client, and its single-attempt twin, built on first use, that differs only in its retry
   * strategy (none). Requests the store sends at most once go through the twin: a per-request
   * plugin turning retries off, as on clients passed in, makes the SDK rebuild the client's
   * configuration for every such request (2.5 % of the client's CPU samples in a first put -r of
   * 1,000 files, docs/benchmarks.md). Thread-safe.
   */
  private static final class OwnedControlClients implements AutoCloseable {
    private final S3StoreConfig config;
    private final MeterRegistry registry; // null: not measured
    private final SdkHttpClient http;
    private final S3Client control;
    private S3Client singleAttempt; // guarded by this
    private boolean closed; // guarded by this

    OwnedControlClients(S3StoreConfig config, MeterRegistry registry) {
      this.config = config;
      this.registry = registry;
      this.http = controlHttp(config).build();
      this.control = common(S3Client.builder(), config, registry).httpClient(http).build();
    }

    S3Client control() {
      return control;
    }

    synchronized S3Client singleAttempt() {
      if (closed) {
        throw new IllegalStateException("the store's control client is closed");
      }
      if (singleAttempt == null) {
        // The control client's credentials: a default chain is resolved once, not per client.
        singleAttempt = common(S3Client.builder(), config, registry,
            AwsRetryStrategy.doNotRetry())
            .credentialsProvider(control.serviceClientConfiguration().credentialsProvider())
            .httpClient(http).build();
      }
      return singleAttempt;
    }

    @Override
    public void close() throws Exception {
      List<AutoCloseable> parts = new ArrayList<>();
      synchronized (this) {
        closed = true;
        if (singleAttempt != null) {
          parts.add(singleAttempt);
        }
      }
      parts.add(control);
      parts.add(http); // the clients leave a client they were given open
      closeAll(parts);
    }
  }

  /** The store's own bulk client and event loop, built on first use; thread-safe. */
  private static final class OwnedBulkClient implements Supplier<S3AsyncClient>, AutoCloseable {
    private final S3StoreConfig config;
    private final MeterRegistry registry; // null: not measured
    private final List<AutoCloseable> parts = new ArrayList<>();
    private S3AsyncClient client; // guarded by this
    private boolean closed; // guarded by this

    OwnedBulkClient(S3StoreConfig config, MeterRegistry registry) {
      this.config = config;
      this.registry = registry;
    }

    @Override
    public synchronized S3AsyncClient get() {
      if (closed) {
        throw new IllegalStateException("the store's bulk client is closed");
      }
      if (client == null) {
        SdkEventLoopGroup loop = null;
        if (config.transfer() == S3StoreConfig.Transfer.JAVA_ASYNC) {
          // The store owns the event loop so that close() ends it at once: the SDK would shut its
          // own down with Netty's two-second quiet period, which every CLI command would wait out.
          loop = SdkEventLoopGroup.builder().build();
        }
        S3AsyncClient built = S3Stores.bulkClient(config, loop, registry);
        parts.add(built);
        if (loop != null) {
          var group = loop.eventLoopGroup();
          parts.add(() -> group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly());
        }
        client = built;
      }
      return client;
    }

    @Override
    public void close() throws Exception {
      synchronized (this) {
        closed = true;
      }
      closeAll(parts);
    }
  }

  private static void closeAll(List<AutoCloseable> clients) throws Exception {
    Exception failure = null;
    for (AutoCloseable c : clients) {
      try {
        c.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** The retry strategy of built clients: the SDK's standard one, plus 409 conflicts. */
  static RetryStrategy retryStrategy(S3StoreConfig config) {
    return AwsRetryStrategy.standardRetryStrategy().toBuilder()
        .maxAttempts(config.sdkAttempts())
        .retryOnException(t -> S3Errors.status(t) == 409)
        .build();
  }

  /**
   * The HTTP client of the synchronous clients: 64 connections; no {@code Expect: 100-continue}
   * of its own (Apache's client asks it of every request with a body, so each record write and
   * small object waited a round trip for the server's go-ahead; S3's own interceptor still asks
   * it of PutObject and UploadPart bodies from the SDK's threshold up); and over an {@code
   * http://} endpoint a TLS context set up only if an {@code https} connection is ever made.
   */
  private static ApacheHttpClient.Builder controlHttp(S3StoreConfig config) {
    ApacheHttpClient.Builder http = ApacheHttpClient.builder().maxConnections(64)
        .expectContinueEnabled(false);
    if (config.endpoint().map(e -> "http".equalsIgnoreCase(e.getScheme())).orElse(false)) {
      http.socketFactory(new TlsOnFirstUse());
    }
    return http;
  }

  /**
   * The asynchronous client a store builds for bulk bytes, as the configuration names; the Netty
   * client runs on {@code loop}, which the caller shuts down after closing the client.
   */
  static S3AsyncClient bulkClient(S3StoreConfig config, SdkEventLoopGroup loop) {
    return bulkClient(config, loop, null);
  }

  /** The bulk client, its requests counted in {@code registry} unless null (not the CRT's). */
  static S3AsyncClient bulkClient(S3StoreConfig config, SdkEventLoopGroup loop,
      MeterRegistry registry) {
    if (config.transfer() == S3StoreConfig.Transfer.CRT) {
      S3CrtAsyncClientBuilder builder = S3AsyncClient.crtBuilder()
          .region(Region.of(config.region()))
          .forcePathStyle(config.pathStyle())
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
          .minimumPartSizeInBytes(config.partSize())
          .maxConcurrency(64)
          .retryConfiguration(r -> r.numRetries(config.sdkAttempts() - 1));
      config.endpoint().ifPresent(builder::endpointOverride);
      config.credentials().ifPresent(builder::credentialsProvider);
      return builder.build();
    }
    return common(S3AsyncClient.builder(), config, registry)
        .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(64)
            .eventLoopGroup(loop))
        .build();
  }

  /**
   * Settings shared by the SDK-built clients: addressing, checksums, retries, credentials, and
   * bodies unsigned over http unless the configuration asks for signed ones ({@link
   * UnsignedPayloadSigner}).
   */
  static <B extends S3BaseClientBuilder<B, ?>> B common(B builder,
      S3StoreConfig config, MeterRegistry registry) {
    return common(builder, config, registry, retryStrategy(config));
  }

  /** {@link #common}, with {@code retries} for the retry strategy. */
  private static <B extends S3BaseClientBuilder<B, ?>> B common(B builder,
      S3StoreConfig config, MeterRegistry registry, RetryStrategy retries) {
    builder.region(Region.of(config.region()))
        .forcePathStyle(config.pathStyle())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> {
          o.retryStrategy(retries);
          if (registry != null) {
            o.addExecutionInterceptor(new S3RequestMeter(registry));
          }
        });
    config.endpoint().ifPresent(builder::endpointOverride);
    config.credentials().ifPresent(builder::credentialsProvider);
    if (config.unsignedPayloads()) {
      // Over https this changes nothing: the SDK already sends S3 bodies unsigned there.
      builder.putAuthScheme(unsignedPayloads());
    }
    return builder;
  }
}
