package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.grpc.ContentServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coffer serve}: containerd's content service on a Unix socket, over the configured store. */
@Command(name = "serve", description = {
    "Serve the store to containerd as its content store (proxy plugin) on a Unix socket.",
    "Stops cleanly on SIGTERM or SIGINT. --debug logs one line per request."})
final class Serve extends StoreCommand {

  @Option(names = "--containerd-socket", paramLabel = "PATH", required = true,
      description = "Unix socket to listen on (the proxy_plugins address in containerd's config).")
  Path socket;

  @Option(names = "--tcp-port", paramLabel = "PORT",
      description = "Also listen on this loopback TCP port (0: any free port).")
  Integer tcpPort;

  @Override
  ExitCode execute(ContentStore store, Settings settings) throws IOException {
    ContentServer.Builder builder = ContentServer.builder(store).unixSocket(socket);
    if (tcpPort != null) {
      builder.tcpPort(tcpPort);
    }
    CountDownLatch stopped = new CountDownLatch(1);
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
          + server.tcpPort().stream().mapToObj(p -> " and 127.0.0.1:" + p).findFirst().orElse("")
          + " (bucket " + settings.bucket() + (settings.prefix().isEmpty() ? "" : ", prefix "
          + settings.prefix()) + ")");
      try {
        server.awaitTermination();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } finally {
      stopped.countDown();
    }
    cli().err.println("coffer: stopped serving " + socket);
    return ExitCode.OK;
  }
}
