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
 * records, metadata and reads, and the client named by {@link S3StoreConfig#transfer()} for
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
      if (control == null) {
        control = S3Stores.controlClient(config, registry);
        owned.add(control);
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
      S3Objects objects = new S3Objects(control, bulk, config.bucket(), config.checksumMode());
      S3Store store = new S3Store(config, objects, () -> closeAll(owned),
          runtime != null ? runtime : StoreRuntime.system());
      if (registry == null) {
        return store;
      }
      store.metrics = new StoreMetrics(registry);
      return MeteredStore.wrap(store, registry);
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

  /** The synchronous client a store builds for records and metadata requests. */
  static S3Client controlClient(S3StoreConfig config) {
    return controlClient(config, null);
  }

  /**
   * The synchronous client, its requests counted in {@code registry} unless null. With an {@code
   * http://} endpoint its TLS context is set up only if an {@code https} connection is ever made
   * ({@link TlsOnFirstUse}).
   */
  static S3Client controlClient(S3StoreConfig config, MeterRegistry registry) {
    ApacheHttpClient.Builder http = ApacheHttpClient.builder().maxConnections(64);
    if (config.endpoint().map(e -> "http".equalsIgnoreCase(e.getScheme())).orElse(false)) {
      http.socketFactory(new TlsOnFirstUse());
    }
    return common(S3Client.builder(), config, registry).httpClientBuilder(http).build();
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
    builder.region(Region.of(config.region()))
        .forcePathStyle(config.pathStyle())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> {
          o.retryStrategy(retryStrategy(config));
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
