package dev.coffer.store.grpc;

import dev.coffer.store.ContentStore;
import dev.coffer.store.memory.MemoryStores;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A server on a Unix socket in a JVM of its own, so a test can start it under a umask of its
 * choosing: {@code ServeInChild SOCKET HOLD_DIRECTORY [GROUP]}. Prints READY once listening and
 * stops when its standard input ends.
 */
public final class ServeInChild {
  private ServeInChild() {}

  public static void main(String[] args) throws Exception {
    try (ContentStore store = MemoryStores.open()) {
      ContentServer.Builder builder = ContentServer.builder(store).unixSocket(Path.of(args[0]))
          .holdDirectory(Path.of(args[1])).shutdownGrace(Duration.ZERO);
      if (args.length > 2) {
        builder.socketGroup(args[2]);
      }
      try (ContentServer server = builder.build().start()) {
        System.out.println("READY");
        System.out.flush();
        while (System.in.read() >= 0) {
          // until the test closes our input
        }
      }
    }
  }
}
