package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.grpc.ContentServer;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.ListContentRequest;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import dev.coffer.store.s3.S3Stores;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * What containerd's garbage collection costs through the content server on a bucket full of other
 * hosts' blobs: its List walks only what this holder holds, one record read per held blob, however
 * many blobs the bucket has; the store's own walk of the same prefix (what the server's List cost
 * before) is counted beside it. Requests are counted by an interceptor on the store's client.
 *
 * <p>{@code -Dcoffer.it.foreignBlobs=N} sets how many blobs other hosts store (default 150: S3Mock
 * slows down as a bucket grows, each write costing more; docs/architecture.md quotes a run with
 * 10,000 on S3Proxy, selected as the {@code aws} endpoint with {@code COFFER_IT_S3_ENDPOINT}).
 */
class CollectionRequestCountIT {

  private static final int FOREIGN = Integer.getInteger("coffer.it.foreignBlobs", 150);
  private static final int HELD = 25;

  @TempDir
  Path dir;

  @Test
  void aCollectionsListCostsOneRecordReadPerHeldBlobWhateverTheBucketHolds() throws Exception {
    S3Endpoint endpoint = S3Endpoint.selected();
    String bucket = endpoint.newBucket();
    String prefix = endpoint.newPrefix();
    storeForeignBlobs(endpoint, bucket, prefix);

    RequestCounter counter = new RequestCounter();
    try (S3Client client = endpoint.clientBuilder(endpoint.endpoint())
            .overrideConfiguration(o -> o.addExecutionInterceptor(counter)).build();
        ContentStore store = S3Stores.builder()
            .config(endpoint.config(bucket, prefix).build()).client(client).build();
        ContentServer server = ContentServer.builder(store).tcpPort(0).holderId("host-a")
            .holdDirectory(dir.resolve("holds")).shutdownGrace(Duration.ofSeconds(2)).build()
            .start()) {
      ManagedChannel channel = NettyChannelBuilder
          .forAddress("127.0.0.1", server.tcpPort().orElseThrow()).usePlaintext().build();
      try {
        List<String> held = new ArrayList<>();
        for (int i = 0; i < HELD; i++) {
          held.add(write(ContentGrpc.newStub(channel), "default/" + i + "/layer",
              blob("host-a", i)));
        }

        counter.take();
        AtomicInteger walked = new AtomicInteger();
        store.walk(info -> walked.incrementAndGet());
        Map<String, Integer> storeWalk = counter.take();

        List<String> listed = new ArrayList<>();
        ContentGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES)
            .list(ListContentRequest.getDefaultInstance())
            .forEachRemaining(r -> r.getInfoList().forEach(i -> listed.add(i.getDigest())));
        Map<String, Integer> serverList = counter.take();

        System.out.printf("%s: %d blobs of other hosts, %d held: the store's walk %s; the"
            + " server's List (a collection's walk) %s%n", endpoint.name(), FOREIGN, HELD,
            storeWalk, serverList);
        assertThat(walked.get()).isEqualTo(FOREIGN + HELD);
        assertThat(storeWalk).containsEntry("GetObject", FOREIGN + HELD)
            .containsEntry("ListObjectsV2", (FOREIGN + HELD + 999) / 1000);
        assertThat(listed).containsExactlyInAnyOrderElementsOf(held);
        assertThat(serverList).isEqualTo(Map.of("GetObject", HELD));
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Other hosts' blobs under the same prefix, 16 puts at a time. */
  private static void storeForeignBlobs(S3Endpoint endpoint, String bucket, String prefix)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try (ContentStore others = S3Stores.open(endpoint.config(bucket, prefix).build())) {
      List<Future<?>> puts = new ArrayList<>();
      for (int i = 0; i < FOREIGN; i++) {
        byte[] bytes = blob("other-host", i);
        puts.add(pool.submit(() -> others.putAndRef(bytes, null, null)));
      }
      for (Future<?> put : puts) {
        put.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Writes {@code bytes} under {@code ref} as containerd does (stat, write, commit). */
  private static String write(ContentGrpc.ContentStub stub, String ref, byte[] bytes)
      throws Exception {
    CompletableFuture<String> committed = new CompletableFuture<>();
    StreamObserver<WriteContentRequest> requests = stub.write(new StreamObserver<>() {
      @Override
      public void onNext(WriteContentResponse response) {
        if (response.getAction() == WriteAction.COMMIT) {
          committed.complete(response.getDigest());
        }
      }

      @Override
      public void onError(Throwable t) {
        committed.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        committed.completeExceptionally(new AssertionError("stream ended without a commit"));
      }
    });
    // One COMMIT carrying the ref and the data: the server opens, writes and commits.
    requests.onNext(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setRef(ref)
        .setTotal(bytes.length).setExpected(Digest.of(bytes).toString())
        .setData(ByteString.copyFrom(bytes)).build());
    requests.onCompleted();
    return committed.get(1, TimeUnit.MINUTES);
  }

  private static byte[] blob(String host, int i) {
    return ByteBuffer.allocate(64).put((host + " blob " + i).getBytes()).array();
  }
}
