package dev.coffer.benchmarks.dashboard;

import com.google.protobuf.ByteString;
import dev.coffer.store.Digest;
import dev.coffer.store.grpc.proto.AbortRequest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.DeleteContentRequest;
import dev.coffer.store.grpc.proto.Info;
import dev.coffer.store.grpc.proto.InfoRequest;
import dev.coffer.store.grpc.proto.ListContentRequest;
import dev.coffer.store.grpc.proto.ReadContentRequest;
import dev.coffer.store.grpc.proto.UpdateRequest;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import com.google.protobuf.FieldMask;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The workload behind docs/grafana/dashboard.png: containerd's content service driven over
 * {@code coffer serve}'s Unix socket for a few minutes, as a build farm host's containerd would,
 * with every event the dashboard's panels show. Each second: two new blobs written and committed
 * (one hold, a store reference, each), reads of recent and of old blobs (memory and disk hits,
 * misses once the small caches the run gives the server have evicted them), infos (and one of a
 * blob never stored: a 404), and every few seconds a label update, a listing, a Delete (the hold
 * released: the blob's last reference goes, and the server's gc purges it after the grace), an
 * aborted ingest; every 20 seconds six concurrent commits of the same new bytes, then six
 * concurrent label updates of that blob (compare-and-swap retries on its record); twice a writer
 * that writes slowly for 40 s (lease renewals); once an ingest abandoned mid-write and resumed (a
 * take-over of its lease).
 *
 * <p>Arguments: the socket path and the run's length in seconds. Prints what it did on stdout.
 */
public final class DashboardWorkload {
  private static final int CHUNK = 256 << 10;

  private final ContentGrpc.ContentStub async;
  private final ContentGrpc.ContentBlockingStub blocking;
  private final List<Info> committed = new ArrayList<>();
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
  private final Random random = new Random(22);

  private DashboardWorkload(ManagedChannel channel) {
    async = ContentGrpc.newStub(channel);
    blocking = ContentGrpc.newBlockingStub(channel);
  }

  public static void main(String[] args) throws Exception {
    String socket = args[0];
    int seconds = Integer.parseInt(args[1]);
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext()
        .maxInboundMessageSize(16 << 20).build();
    try {
      new DashboardWorkload(channel).run(seconds);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      loop.shutdownGracefully().await(10, TimeUnit.SECONDS);
    }
  }

  private void count(String what) {
    counts.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
  }

  private void run(int seconds) throws Exception {
    ExecutorService background = Executors.newCachedThreadPool();
    List<Future<?>> slow = new ArrayList<>();
    slow.add(background.submit(() -> slowWrite("slow-writer-1", 40)));
    long start = System.nanoTime();
    for (int tick = 0; tick < seconds; tick++) {
      long tickStart = System.nanoTime();
      if (tick == seconds / 2) {
        slow.add(background.submit(() -> slowWrite("slow-writer-2", 40)));
      }
      if (tick == seconds / 4) {
        slow.add(background.submit(() -> abandonAndResume("resumed-ingest")));
      }
      for (int i = 0; i < 2; i++) {
        byte[] bytes = bytes(8 << 10, 1 << 20);
        committed.add(write("build-" + tick + "-" + i, bytes,
            Map.of("team", tick % 3 == 0 ? "web" : "ci", "build", Integer.toString(tick))));
      }
      for (int i = 0; i < 4; i++) {
        int n = committed.size();
        // three of four reads are of the last 16 blobs; the rest of any, old ones included
        int index = i < 3 ? n - 1 - random.nextInt(Math.min(n, 16)) : random.nextInt(n);
        read(committed.get(index));
      }
      for (int i = 0; i < 3; i++) {
        blocking.info(InfoRequest.newBuilder()
            .setDigest(committed.get(random.nextInt(committed.size())).getDigest()).build());
        count("info");
      }
      try {
        blocking.info(InfoRequest.newBuilder()
            .setDigest(Digest.of(("never stored " + tick).getBytes()).toString()).build());
      } catch (StatusRuntimeException expected) {
        count("info not found");
      }
      if (tick % 5 == 0) {
        Info info = committed.get(random.nextInt(committed.size()));
        blocking.update(UpdateRequest.newBuilder()
            .setInfo(info.toBuilder().putLabels("checked", Integer.toString(tick)))
            .setUpdateMask(FieldMask.newBuilder().addPaths("labels.checked")).build());
        count("update");
        blocking.list(ListContentRequest.newBuilder().addFilters("labels.team==web").build())
            .forEachRemaining(r -> { });
        count("list");
      }
      if (tick % 3 == 2 && committed.size() > 40) {
        Info gone = committed.remove(random.nextInt(committed.size() - 20));
        blocking.delete(DeleteContentRequest.newBuilder().setDigest(gone.getDigest()).build());
        count("delete");
      }
      if (tick % 7 == 3) {
        Stream stream = new Stream(async);
        stream.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT)
            .setRef("aborted-" + tick));
        stream.send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE)
            .setData(ByteString.copyFrom(bytes(4 << 10, 8 << 10))));
        stream.close();
        blocking.abort(AbortRequest.newBuilder().setRef("aborted-" + tick).build());
        count("abort");
      }
      if (tick % 20 == 10) {
        concurrentCommits(background, tick);
      }
      long left = TimeUnit.SECONDS.toNanos(1) - (System.nanoTime() - tickStart);
      if (left > 0) {
        TimeUnit.NANOSECONDS.sleep(left);
      }
    }
    for (Future<?> f : slow) {
      f.get(2, TimeUnit.MINUTES);
    }
    background.shutdown();
    System.out.printf("workload: %.0f s, %d blobs held at the end; %s%n",
        (System.nanoTime() - start) / 1e9, committed.size(), new java.util.TreeMap<>(counts));
  }

  private byte[] bytes(int min, int max) {
    synchronized (random) {
      byte[] bytes = new byte[min + random.nextInt(max - min)];
      random.nextBytes(bytes);
      return bytes;
    }
  }

  /** Six writers commit the same new bytes under six refs at once. */
  private void concurrentCommits(ExecutorService pool, int tick) throws Exception {
    byte[] bytes = bytes(16 << 10, 32 << 10);
    List<Future<Info>> writes = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String ref = "shared-" + tick + "-" + i;
      writes.add(pool.submit(() -> write(ref, bytes, Map.of("team", "ci"))));
    }
    for (Future<Info> w : writes) {
      w.get(1, TimeUnit.MINUTES);
    }
    Info shared = writes.get(0).get();
    committed.add(shared);
    // six clients label it at once: one record, six compare-and-swaps
    List<Future<?>> updates = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String key = "scanned-by-" + i;
      updates.add(pool.submit(() -> blocking.update(UpdateRequest.newBuilder()
          .setInfo(shared.toBuilder().putLabels(key, Integer.toString(tick)))
          .setUpdateMask(FieldMask.newBuilder().addPaths("labels." + key)).build())));
    }
    for (Future<?> u : updates) {
      u.get(1, TimeUnit.MINUTES);
      count("concurrent update");
    }
  }

  /** Writes {@code bytes} under {@code ref} in chunks and commits them; the blob's info. */
  private Info write(String ref, byte[] bytes, Map<String, String> labels) throws Exception {
    Stream stream = new Stream(async);
    stream.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref)
        .setTotal(bytes.length).setExpected(Digest.of(bytes).toString()));
    int offset = 0;
    while (bytes.length - offset > CHUNK) {
      stream.send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setOffset(offset)
          .setData(ByteString.copyFrom(bytes, offset, CHUNK)));
      offset += CHUNK;
    }
    try {
      stream.send(commit(bytes, offset, labels));
      count("commit");
    } catch (IllegalStateException e) {
      if (!(e.getCause() instanceof StatusRuntimeException s)
          || s.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
        throw e;
      }
      // another writer committed the same bytes first: containerd takes that as success
      count("commit already exists");
    }
    stream.close();
    return blocking.info(InfoRequest.newBuilder().setDigest(Digest.of(bytes).toString()).build())
        .getInfo();
  }

  private static WriteContentRequest.Builder commit(byte[] bytes, int offset,
      Map<String, String> labels) {
    return WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setOffset(offset)
        .setData(ByteString.copyFrom(bytes, offset, bytes.length - offset))
        .setTotal(bytes.length).setExpected(Digest.of(bytes).toString()).putAllLabels(labels);
  }

  private void read(Info info) {
    long read = 0;
    var replies = blocking.read(
        ReadContentRequest.newBuilder().setDigest(info.getDigest()).build());
    while (replies.hasNext()) {
      read += replies.next().getData().size();
    }
    if (read != info.getSize()) {
      throw new IllegalStateException("read " + read + " bytes of " + info.getSize());
    }
    count("read");
  }

  /** Writes 64 KiB every 3 s for {@code seconds}, then commits: its lease is renewed meanwhile. */
  private Void slowWrite(String ref, int seconds) throws Exception {
    byte[] bytes = bytes(64 << 10, (64 << 10) + 1);
    byte[] whole = new byte[bytes.length * (seconds / 3)];
    for (int i = 0; i < seconds / 3; i++) {
      System.arraycopy(bytes, 0, whole, i * bytes.length, bytes.length);
    }
    Stream stream = new Stream(async);
    stream.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref));
    int offset = 0;
    for (int i = 0; i < seconds / 3 - 1; i++) {
      stream.send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setOffset(offset)
          .setData(ByteString.copyFrom(bytes)));
      offset += bytes.length;
      TimeUnit.SECONDS.sleep(3);
    }
    stream.send(commit(whole, offset, Map.of("team", "slow")));
    stream.close();
    count("slow commit");
    return null;
  }

  /**
   * Writes half of a blob under {@code ref}, goes away (the stream cancelled: the server's writer
   * releases the ingest's lease), then resumes the ingest from its offset and commits.
   */
  private Void abandonAndResume(String ref) throws Exception {
    byte[] bytes = bytes(512 << 10, (512 << 10) + 1);
    Stream first = new Stream(async);
    first.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref));
    first.send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE)
        .setData(ByteString.copyFrom(bytes, 0, bytes.length / 2)));
    first.requests.onError(new IllegalStateException("client gone"));
    TimeUnit.SECONDS.sleep(5);
    Stream second = new Stream(async);
    WriteContentResponse status = second.send(WriteContentRequest.newBuilder()
        .setAction(WriteAction.STAT).setRef(ref));
    int offset = (int) status.getOffset();
    second.send(commit(bytes, offset, Map.of("team", "resumed")));
    second.close();
    count("resumed commit at offset " + offset);
    return null;
  }

  /** A Write stream driven one request and one reply at a time, as containerd's client does. */
  private static final class Stream {
    final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    final CountDownLatch ended = new CountDownLatch(1);
    final StreamObserver<WriteContentRequest> requests;

    Stream(ContentGrpc.ContentStub stub) {
      requests = stub.write(new StreamObserver<>() {
        @Override
        public void onNext(WriteContentResponse value) {
          replies.add(value);
        }

        @Override
        public void onError(Throwable t) {
          replies.add(t);
          ended.countDown();
        }

        @Override
        public void onCompleted() {
          ended.countDown();
        }
      });
    }

    /** Half-closes the stream, as containerd's writer does, and waits for the server to end it. */
    void close() throws InterruptedException {
      requests.onCompleted();
      if (!ended.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the server did not end a closed write stream");
      }
    }

    WriteContentResponse send(WriteContentRequest.Builder request) throws Exception {
      requests.onNext(request.build());
      Object reply = replies.poll(60, TimeUnit.SECONDS);
      if (reply instanceof WriteContentResponse response) {
        return response;
      }
      throw new IllegalStateException("write of " + request.getRef() + ": " + reply,
          reply instanceof Throwable t ? t : null);
    }
  }
}
