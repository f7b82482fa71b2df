package dev.coffer.store.grpc;

import static dev.coffer.store.grpc.ContentServiceTest.assertCode;
import static dev.coffer.store.grpc.ContentServiceTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.InfoRequest;
import dev.coffer.store.memory.MemoryStores;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status.Code;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** SEC-5, the server's bounds: open writes against the writer memory, calls per connection, idle time. */
class ServerLimitsTest {

  private static final long MIB = 1 << 20;

  @Test
  void writesBeyondTheWriterMemoryBudgetAreRefusedUntilOneEnds() throws Exception {
    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store).tcpPort(0)
            // Two writers of 64 MiB each fit in 160 MiB.
            .writerMemory(160 * MIB, 64 * MIB)
            .shutdownGrace(Duration.ZERO).build().start()) {
      ManagedChannel channel = channel(server);
      try {
        ContentGrpc.ContentStub async = ContentGrpc.newStub(channel);
        WriteStream first = new WriteStream(async);
        WriteStream second = new WriteStream(async);
        assertThat(first.stat("ref-1").getOffset()).isZero();
        assertThat(second.stat("ref-2").getOffset()).isZero();
        try (WriteStream third = new WriteStream(async)) {
          assertCode(() -> third.stat("ref-3"), Code.RESOURCE_EXHAUSTED, "2 writes open");
        }
        // Other calls are not writes: still served.
        String unknown = Digest.of(bytes(1, 3)).toString();
        assertCode(() -> ContentGrpc.newBlockingStub(channel).withDeadlineAfter(30,
            TimeUnit.SECONDS).info(InfoRequest.newBuilder().setDigest(unknown).build()),
            Code.NOT_FOUND, unknown);

        first.halfClose();
        second.close(); // cancelled: its permit comes back too
        try (WriteStream fourth = new WriteStream(async);
            WriteStream fifth = new WriteStream(async)) {
          await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
              assertThat(fourth.stat("ref-4").getOffset()).isZero());
          await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
              assertThat(fifth.stat("ref-5").getOffset()).isZero());
        }
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      // The uncommitted ingests stayed, for a later resume.
      assertThat(store.listStatuses()).extracting(s -> s.ref())
          .containsExactlyInAnyOrder("ref-1", "ref-2", "ref-4", "ref-5");
    }
  }

  @Test
  void callsBeyondTheBoundPerConnectionWaitForOneToEnd() throws Exception {
    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store).tcpPort(0)
            .maxCallsPerConnection(1)
            .shutdownGrace(Duration.ZERO).build().start()) {
      ManagedChannel channel = channel(server);
      try {
        String unknown = Digest.of(bytes(1, 4)).toString();
        InfoRequest info = InfoRequest.newBuilder().setDigest(unknown).build();
        try (WriteStream open = new WriteStream(ContentGrpc.newStub(channel))) {
          open.stat("busy");
          // The connection's one call is taken: a second call cannot start on it.
          assertCode(() -> ContentGrpc.newBlockingStub(channel)
              .withDeadlineAfter(2, TimeUnit.SECONDS).info(info), Code.DEADLINE_EXCEEDED, "");
          open.halfClose();
        }
        assertCode(() -> ContentGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS).info(info), Code.NOT_FOUND, unknown);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void anIdleConnectionIsClosed() throws Exception {
    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store).tcpPort(0)
            .connectionLimits(Duration.ofMillis(500), Duration.ofHours(1), Duration.ofMinutes(1))
            .shutdownGrace(Duration.ZERO).build().start()) {
      ManagedChannel channel = channel(server);
      try {
        String unknown = Digest.of(bytes(1, 5)).toString();
        assertCode(() -> ContentGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .info(InfoRequest.newBuilder().setDigest(unknown).build()), Code.NOT_FOUND, unknown);
        assertThat(channel.getState(false)).isEqualTo(ConnectivityState.READY);
        // The server sends GOAWAY once the connection has had no call for the idle time.
        await().atMost(Duration.ofSeconds(30))
            .until(() -> channel.getState(false) == ConnectivityState.IDLE);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void callsRunOnTheBoundedPoolOfCallThreads() throws Exception {
    ContentStore memory = MemoryStores.open();
    java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    // The store sees which thread runs each call.
    ContentStore recording = (ContentStore) java.lang.reflect.Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          threads.add(Thread.currentThread().getName());
          try {
            return method.invoke(memory, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
    try (ContentServer server = ContentServer.builder(recording).tcpPort(0)
        .executorThreads(2).shutdownGrace(Duration.ZERO).build().start()) {
      ManagedChannel channel = channel(server);
      try {
        ContentGrpc.ContentFutureStub stub = ContentGrpc.newFutureStub(channel);
        List<com.google.common.util.concurrent.ListenableFuture<?>> calls = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
          calls.add(stub.withDeadlineAfter(30, TimeUnit.SECONDS).info(InfoRequest.newBuilder()
              .setDigest(Digest.of(bytes(8, i)).toString()).build()));
        }
        for (var call : calls) {
          assertThatThrownBy(call::get).hasMessageContaining("NOT_FOUND");
        }
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      memory.close();
    }
    assertThat(threads).isNotEmpty().isSubsetOf("coffer-grpc-1", "coffer-grpc-2");
  }

  @Test
  void limitsAreCheckedWhenSet() {
    try (ContentStore store = MemoryStores.open()) {
      ContentServer.Builder builder = ContentServer.builder(store);
      assertThatThrownBy(() -> builder.maxCallsPerConnection(0))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
      assertThatThrownBy(() -> builder.executorThreads(2000))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2000");
      assertThatThrownBy(() -> builder.writerMemory(0, 64 * MIB))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> builder.connectionLimits(Duration.ZERO, Duration.ofHours(1),
          Duration.ofMinutes(1))).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("idle");
    }
  }

  private static ManagedChannel channel(ContentServer server) {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.tcpPort().orElseThrow())
        .usePlaintext().build();
  }
}
