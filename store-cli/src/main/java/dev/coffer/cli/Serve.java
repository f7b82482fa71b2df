package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.grpc.ContentServer;
import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coffer serve}: containerd's content service on a Unix socket, over the configured store. */
@Command(name = "serve", description = {
    "Serve the store to containerd as its content store (proxy plugin) on a Unix socket.",
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
      description = "Also listen on this loopback TCP port (0: any free port).")
  Integer tcpPort;

  @Override
  ExitCode execute(ContentStore store, Settings settings) throws IOException {
    String holder = holderId != null ? holderId : defaultHolderId(socket);
    Path state = stateDir != null ? stateDir
        : Optional.ofNullable(cli().env.get("COFFER_STATE_DIR")).map(Path::of)
            .orElse(settings.home().resolve("state"));
    Path holds = state.resolve("holds").resolve(holder);
    ContentServer.Builder builder = ContentServer.builder(store).unixSocket(socket);
    try {
      builder.holderId(holder).openReaders(openReaders);
    } catch (IllegalArgumentException e) {
      throw new InvalidArgumentException(e.getMessage(), e);
    }
    builder.holdDirectory(holds);
    if (tcpPort != null) {
      builder.tcpPort(tcpPort);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    // The shutdown hook waits for this thread to close the server and say so: the JVM halts once
    // its hooks return.
    try {
      try (ContentServer server = builder.build().start()) {
        Thread hook = new Thread(() -> {
          server.close();
          try {
            stopped.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "coffer-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        cli().err.println("coffer: serving containerd's content service on " + socket
            + server.tcpPort().stream().mapToObj(p -> " and 127.0.0.1:" + p).findFirst()
                .orElse("")
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
