package dev.coffer.store.grpc;

import static dev.coffer.store.grpc.ContentServiceTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Digest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.memory.MemoryStores;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * containerd's Resume pattern over a real Unix socket: its proxy writer's Close is a bare
 * CloseSend, and the next Writer call opens the ref again at once, on the same connection, while
 * the server is still closing the store's writer (held here at a gate, as an S3 writer's close
 * takes round trips). The reopen must wait for that close, not fail with UNAVAILABLE.
 */
class ReopenOverASocketTest {

  @TempDir
  Path dir;

  private InterceptingStore intercepting;
  private ContentServer server;
  private EventLoopGroup clientLoop;
  private ManagedChannel channel;
  private ContentGrpc.ContentStub stub;

  @BeforeEach
  void start() throws Exception {
    intercepting = new InterceptingStore(MemoryStores.open());
    Path socket = dir.resolve("coffer.sock");
    server = ContentServer.builder(intercepting.store).unixSocket(socket)
        .shutdownGrace(Duration.ofSeconds(1)).build().start();
    clientLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(clientLoop).usePlaintext()
        .build();
    stub = ContentGrpc.newStub(channel);
  }

  @AfterEach
  void stop() throws Exception {
    intercepting.closeGate.set(null);
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.close();
    clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    intercepting.store.close();
  }

  @Test
  void aReopenSentRightAfterTheCloseWaitsForIt() throws Exception {
    for (int round = 0; round < 20; round++) {
      String ref = "default/1/round-" + round;
      byte[] written = bytes(64 + round, round);
      WriteStream first = new WriteStream(stub);
      first.stat(ref);
      first.write(0, written);
      CountDownLatch gate = new CountDownLatch(1);
      intercepting.closeGate.set(gate);
      intercepting.writerCalls.drainPermits();

      first.halfCloseAndGo();
      WriteStream second = new WriteStream(stub);
      second.sendAndGo(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref)
          .build());
      // The reopen met the ref locked: the close it follows cannot end before the gate opens.
      assertThat(intercepting.writerCalls.tryAcquire(30, TimeUnit.SECONDS))
          .as("round %d: the reopen reached the store", round).isTrue();
      gate.countDown();

      var stat = second.reply();
      assertThat(stat.getOffset()).as("round %d", round).isEqualTo(written.length);
      assertThat(stat.getDigest()).isEqualTo(Digest.of(written).toString());
      assertThat(first.completed()).isTrue();
      intercepting.closeGate.set(null);
      second.halfClose();
    }
  }
}
