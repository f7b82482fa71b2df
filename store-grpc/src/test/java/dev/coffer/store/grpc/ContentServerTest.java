package dev.coffer.store.grpc;

import static dev.coffer.store.grpc.ContentServiceTest.assertCode;
import static dev.coffer.store.grpc.ContentServiceTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.InfoRequest;
import dev.coffer.store.grpc.proto.ReadContentRequest;
import dev.coffer.store.memory.MemoryStores;
import io.grpc.ManagedChannel;
import io.grpc.Status.Code;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server on a real Unix socket (Netty epoll) and on TCP. */
class ContentServerTest {

  @TempDir
  Path dir;

  @Test
  void servesOverAUnixSocketAndReplacesAStaleOne() throws Exception {
    Path socket = dir.resolve("coffer.sock");
    // A socket file left by a process that died without cleaning up.
    try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(socket).exists();

    byte[] blob = bytes(2 << 20, 42);
    Digest d = Digest.of(blob);
    EventLoopGroup clientLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store).unixSocket(socket)
            .shutdownGrace(Duration.ofSeconds(1)).build().start()) {
      try (Writer w = store.writer("ref", Descriptor.of(d, blob.length))) {
        w.write(blob);
        w.commit(blob.length, d, Map.of("a", "b"));
      }
      ManagedChannel channel = NettyChannelBuilder
          .forAddress(new DomainSocketAddress(socket.toString()))
          .channelType(EpollDomainSocketChannel.class)
          .eventLoopGroup(clientLoop)
          .usePlaintext()
          .build();
      try {
        var stub = ContentGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        var info = stub.info(InfoRequest.newBuilder().setDigest(d.toString()).build()).getInfo();
        assertThat(info.getSize()).isEqualTo(blob.length);
        assertThat(info.getLabelsMap()).isEqualTo(Map.of("a", "b"));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        stub.read(ReadContentRequest.newBuilder().setDigest(d.toString()).build())
            .forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
        assertThat(out.toByteArray()).isEqualTo(blob);

        String unknown = Digest.of(bytes(1, 1)).toString();
        assertCode(() -> stub.info(InfoRequest.newBuilder().setDigest(unknown).build()),
            Code.NOT_FOUND, unknown);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      assertThat(server.unixSocket()).contains(socket);
      assertThat(server.tcpPort()).isEmpty();
    } finally {
      clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    assertThat(socket).doesNotExist(); // close removes the socket
  }

  @Test
  void servesOverTcp() throws Exception {
    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store).tcpPort(0)
            .shutdownGrace(Duration.ZERO).build().start()) {
      int port = server.tcpPort().orElseThrow();
      assertThat(port).isPositive();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port)
          .usePlaintext().build();
      try {
        String unknown = Digest.of(bytes(1, 2)).toString();
        assertCode(() -> ContentGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .info(InfoRequest.newBuilder().setDigest(unknown).build()), Code.NOT_FOUND, unknown);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void refusesToReplaceAFileThatIsNotASocket() throws IOException {
    Path notASocket = Files.writeString(dir.resolve("precious"), "data");
    try (ContentStore store = MemoryStores.open()) {
      ContentServer server = ContentServer.builder(store).unixSocket(notASocket).build();
      assertThatThrownBy(server::start).isInstanceOf(IOException.class)
          .hasMessageContaining("not a socket");
      server.close();
      server.close(); // idempotent
    }
    assertThat(Files.readString(notASocket)).isEqualTo("data");
  }

  @Test
  void builderChecksValuesWhenSet() {
    try (ContentStore store = MemoryStores.open()) {
      ContentServer.Builder builder = ContentServer.builder(store);
      assertThatThrownBy(() -> builder.tcpPort(70000)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("70000");
      assertThatThrownBy(() -> builder.readChunkBytes(10))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10");
      assertThatThrownBy(() -> builder.shutdownGrace(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class);
    }
  }
}
