package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.grpc.ContentServer;
import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.s3.S3StoreConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coffer serve}: containerd's content service on a Unix socket, over the configured store. */
@Command(name = "serve", description = {
    "Serve the store to containerd as its content store (proxy plugin) on a Unix socket"
        + " (mode 0600), and optionally TCP: loopback only, or elsewhere with TLS and client"
        + " authentication.",
    "Each containerd sharing a bucket needs its own server and holder id: its garbage collection"
        + " then releases only what it holds.",
    "Stops cleanly on SIGTERM or SIGINT. --debug logs one line per request."})
final class Serve extends StoreCommand {

  @Option(names = "--containerd-socket", paramLabel = "PATH", required = true,
      description = "Unix socket to listen on (the proxy_plugins address in containerd's config).")
  Path socket;

  @Option(names = "--holder-id", paramLabel = "ID",
      description = {"Names this containerd among those sharing the bucket; its holds are kept"
          + " under the state directory (default: the host name and a hash of the socket path).",
          "Letters, digits, '.', '_' and '-', at most 128."})
  String holderId;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Where the holds of this server survive restarts (default: ~/.coffer/state,"
          + " or $COFFER_STATE_DIR).")
  Path stateDir;

  @Option(names = "--open-readers", paramLabel = "N",
      description = "Readers of this many blobs stay open between containerd's Read calls"
          + " (default: ${DEFAULT-VALUE}; 0 opens one per call).")
  int openReaders = ContentServer.OPEN_READERS_DEFAULT;

  @Option(names = "--tcp-port", paramLabel = "PORT",
      description = "Also listen on this TCP port of the loopback address, or of --tcp-address"
          + " (0: any free port).")
  Integer tcpPort;

  @Option(names = "--tcp-address", paramLabel = "ADDR",
      description = {"Listen on this address instead of loopback (0.0.0.0: every address)."
          + " Other machines can then connect, so it needs --tls-cert and --tls-key and"
          + " --tls-client-ca or --auth-token-file; the server refuses to start otherwise."})
  String tcpAddress;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "TCP over TLS: the server's PEM certificate chain.")
  Path tlsCertificate;

  @Option(names = "--tls-key", paramLabel = "FILE",
      description = "TCP over TLS: the server's PEM PKCS#8 private key.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE",
      description = "Require TCP clients to present a certificate issued by a CA in this PEM file.")
  Path tlsClientCa;

  @Option(names = "--auth-token-file", paramLabel = "FILE",
      description = "Require TCP clients to send 'authorization: Bearer <token>' with the token in"
          + " this file (mode 0600, at least 16 characters).")
  Path authTokenFile;

  @Option(names = "--socket-group", paramLabel = "GROUP",
      description = "Let this group use the socket too (mode 0660; default 0600, owner only).")
  String socketGroup;

  @Option(names = "--max-calls-per-connection", paramLabel = "N",
      description = "Concurrent calls one connection may have (default: ${DEFAULT-VALUE}).")
  int maxCallsPerConnection = ContentServer.MAX_CALLS_PER_CONNECTION_DEFAULT;

  @Option(names = "--writer-memory", paramLabel = "SIZE",
      description = {"Memory the open writes may hold together (default: 1GiB); each holds up to"
          + " the part size times the upload concurrency (64 MiB), and a write beyond the bound"
          + " is refused with RESOURCE_EXHAUSTED."})
  String writerMemory;

  @Option(names = "--metrics-address", paramLabel = "HOST:PORT",
      description = {"Also serve /metrics (Prometheus text format) and /healthz (200 once the"
          + " store answered a probe) over HTTP on this loopback address (127.0.0.1:9464;"
          + " port 0: any free port). Other addresses are refused: the listener has no TLS or"
          + " authentication."})
  String metricsAddress;

  @Option(names = "--gc-interval", paramLabel = "DURATION",
      converter = Durations.Converter.class,
      description = {"Also run gc (as 'coffer gc' with its defaults) in this process, one"
          + " interval after the start and after each run: 1h, 6h or ISO-8601 PT1H (default:"
          + " never). Its meters (coffer_gc_*) then count in /metrics."})
  Duration gcInterval;

  /** Always: /metrics serves the store's meters. */
  @Override
  boolean measuresRequests() {
    return true;
  }

  @Override
  ExitCode execute(ContentStore store, Settings settings) throws IOException {
    if (gcInterval != null && (gcInterval.isZero() || gcInterval.isNegative())) {
      throw new InvalidArgumentException("--gc-interval must be positive, not " + gcInterval);
    }
    try (ServeMetrics metrics = metricsAddress == null ? null
            : ServeMetrics.start(MetricsServer.address(metricsAddress), store, cli().metrics(),
                cli().err);
        ServeGc gc = gcInterval == null ? null : ServeGc.start(store, gcInterval, cli().err)) {
      return serve(store, settings);
    }
  }

  private ExitCode serve(ContentStore store, Settings settings) throws IOException {
    Coffer cli = cli();
    socket = cli.path(socket);
    stateDir = cli.path(stateDir);
    tlsCertificate = cli.path(tlsCertificate);
    tlsKey = cli.path(tlsKey);
    tlsClientCa = cli.path(tlsClientCa);
    authTokenFile = cli.path(authTokenFile);
    String holder = holderId != null ? holderId : defaultHolderId(socket);
    Path state = stateDir != null ? stateDir
        : Optional.ofNullable(cli.env.get("COFFER_STATE_DIR")).map(cli::path)
            .orElse(settings.home().resolve("state"));
    Path holds = state.resolve("holds").resolve(holder);
    ContentServer.Builder builder = ContentServer.builder(store).unixSocket(socket);
    try {
      builder.holderId(holder).openReaders(openReaders);
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException(e.getMessage(), e);
    }
    builder.holdDirectory(holds);
    configureListeners(builder);
    CountDownLatch stopped = new CountDownLatch(1);
    // The shutdown hook waits for this thread to close the server and say so: the JVM halts once
    // its hooks return.
    ContentServer built;
    try {
      built = builder.build();
    } catch (IllegalStateException e) {
      throw new ConfigException(e.getMessage());
    }
    try {
      try (ContentServer server = built.start()) {
        ServeMetrics.bindServer(server, cli().metrics());
        Thread hook = new Thread(() -> {
          server.close();
          try {
            stopped.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "coffer-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        cli().err.println("coffer: serving containerd's content service on "
            + String.join(" and ", server.listeners())
            + " (" + (settings.embedded() ? "the embedded server's bucket " + EmbeddedServer.BUCKET
                : "bucket " + settings.bucket())
            + (settings.prefix().isEmpty() ? "" : ", prefix " + settings.prefix())
            + "; holder " + holder + ", holds in " + holds + ")");
        try {
          server.awaitTermination();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      cli().err.println("coffer: stopped serving " + socket);
      cli().err.flush();
    } finally {
      stopped.countDown();
    }
    return ExitCode.OK;
  }

  /** The TCP listener, TLS, client authentication, the socket's group and the bounds. */
  private void configureListeners(ContentServer.Builder builder) {
    try {
      if (socketGroup != null) {
        builder.socketGroup(socketGroup);
      }
      builder.maxCallsPerConnection(maxCallsPerConnection);
      if (writerMemory != null) {
        builder.writerMemory(Sizes.parse(writerMemory),
            S3StoreConfig.PART_SIZE_DEFAULT * S3StoreConfig.UPLOAD_CONCURRENCY_DEFAULT);
      }
      if (tcpAddress != null) {
        if (tcpPort == null) {
          throw new ConfigException("--tcp-address " + tcpAddress + " needs --tcp-port");
        }
        builder.tcpAddress(address(tcpAddress));
      }
      if (tcpPort != null) {
        builder.tcpPort(tcpPort);
      }
      if ((tlsCertificate == null) != (tlsKey == null)) {
        throw new ConfigException("--tls-cert and --tls-key go together");
      }
      if (tlsCertificate != null) {
        builder.tls(tlsCertificate, tlsKey);
      }
      if (tlsClientCa != null) {
        builder.clientCertificateAuthorities(tlsClientCa);
      }
      if (authTokenFile != null) {
        builder.bearerTokenFile(authTokenFile);
      }
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException(e.getMessage(), e);
    }
  }

  /** An IP address; a name is resolved, and refused if it does not resolve. */
  private static InetAddress address(String text) {
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      throw new ConfigException("invalid --tcp-address \"" + text + "\": unknown host");
    }
  }

  /** The host name and a hash of the socket: stable across restarts, distinct per containerd. */
  private static String defaultHolderId(Path socket) {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    host = host.replaceAll("[^A-Za-z0-9._-]", "_").replaceFirst("^\\.", "_");
    String hash = Digest.of(socket.toAbsolutePath().normalize().toString()
        .getBytes(StandardCharsets.UTF_8)).hex().substring(0, 12);
    return host.substring(0, Math.min(host.length(), 100)) + "-" + hash;
  }
}
