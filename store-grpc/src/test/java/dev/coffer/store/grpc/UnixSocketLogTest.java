package dev.coffer.store.grpc;

import static dev.coffer.store.grpc.ContentServiceTest.assertCode;
import static dev.coffer.store.grpc.ContentServiceTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.InfoRequest;
import dev.coffer.store.memory.MemoryStores;
import io.grpc.ManagedChannel;
import io.grpc.Status.Code;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a connection on the Unix socket logs at the default level: nothing. */
class UnixSocketLogTest {

  @TempDir
  Path dir;

  @Test
  void connectionsOnTheUnixSocketLogNoWarning() throws Exception {
    Path socket = dir.resolve("coffer.sock");
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    EventLoopGroup clientLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store).unixSocket(socket)
            .shutdownGrace(Duration.ofSeconds(1)).build().start()) {
      // slf4j-simple writes to whatever System.err is when it logs.
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      for (int i = 0; i < 3; i++) {
        ManagedChannel channel = NettyChannelBuilder
            .forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class).eventLoopGroup(clientLoop)
            // grpc-netty's client asks for TCP keep-alive too: not the server's log.
            .withOption(ChannelOption.SO_KEEPALIVE, null)
            .usePlaintext().build();
        try {
          String unknown = Digest.of(bytes(10, i)).toString();
          assertCode(() -> ContentGrpc.newBlockingStub(channel)
              .withDeadlineAfter(30, TimeUnit.SECONDS)
              .info(InfoRequest.newBuilder().setDigest(unknown).build()), Code.NOT_FOUND, unknown);
        } finally {
          channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
      }
    } finally {
      System.setErr(stderr);
      clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log).doesNotContain("WARN").doesNotContain("SO_KEEPALIVE");
    assertThat(log).contains("content server stopped"); // the capture saw the server's own log
  }
}
