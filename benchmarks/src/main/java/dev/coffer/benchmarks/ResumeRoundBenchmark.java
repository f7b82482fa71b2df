package dev.coffer.benchmarks;

import com.google.protobuf.ByteString;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.grpc.ContentServer;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import dev.coffer.store.memory.MemoryStores;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One round of containerd's Resume cases through {@code coffer serve}'s content server, as
 * containerd's proxy client drives it: open a ref with its size and digest, write 128 of 256
 * bytes, close, open the ref again, write the rest, commit. The server runs as {@code coffer serve}
 * does (the S3 store behind the cache, one holder with its holds on disk) on a Unix socket; the
 * client is a gRPC client on that socket.
 *
 * <p>{@code close=await} closes and waits for the server to end the stream (what a client had to do
 * before the server waited for a closing writer itself); {@code close=bare} closes as containerd's
 * proxy writer does, with the reopen right behind.
 *
 * <p>Beside the time of a round, JMH reports (as the secondary results {@code s3Requests},
 * {@code s3Millis} and {@code rounds}, sums per iteration) how many S3 requests the rounds sent and
 * how long those took, so what a round spends outside S3 is their difference.
 *
 * <p>Needs an S3 endpoint: {@code -Dcoffer.bench.endpoint=http://127.0.0.1:PORT} (S3Mock, any
 * key); each trial uses a new bucket. {@code -p store=memory} serves the in-memory store instead,
 * which leaves the server's own share of a round.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"})
public class ResumeRoundBenchmark {
  private static final int SIZE = 256;

  @Param({"await", "bare"})
  public String close;

  /** {@code s3}: the S3 store behind the cache; {@code memory}: the in-memory store. */
  @Param({"s3"})
  public String store;

  private Path dir;
  private ContentStore contentStore;
  private ContentServer server;
  private EventLoopGroup clientLoop;
  private ManagedChannel channel;
  private ContentGrpc.ContentStub stub;
  private final Random random = new Random(19);
  private long round;
  private S3Client client;
  private final S3Timer timer = new S3Timer();

  /** The S3 requests of the rounds and their time, per iteration. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class S3Share {
    public long rounds;
    public long s3Requests;
    public double s3Millis;

    @Setup(Level.Iteration)
    public void clear() {
      rounds = 0;
      s3Requests = 0;
      s3Millis = 0;
    }
  }

  /** Counts the store's S3 requests and the time from sending each to its answer. */
  private static final class S3Timer implements ExecutionInterceptor {
    private static final ExecutionAttribute<Long> SENT = new ExecutionAttribute<>("sent");
    final AtomicLong requests = new AtomicLong();
    final AtomicLong nanos = new AtomicLong();

    @Override
    public void beforeTransmission(Context.BeforeTransmission context,
        ExecutionAttributes attributes) {
      attributes.putAttribute(SENT, System.nanoTime());
    }

    @Override
    public void afterTransmission(Context.AfterTransmission context,
        ExecutionAttributes attributes) {
      nanos.addAndGet(System.nanoTime() - attributes.getAttribute(SENT));
      requests.incrementAndGet();
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("coffer-benchmark-resume");
    contentStore = "memory".equals(store) ? MemoryStores.open() : s3Store();
    Path socket = dir.resolve("coffer.sock");
    server = ContentServer.builder(contentStore).unixSocket(socket).holderId("bench")
        .holdDirectory(dir.resolve("holds")).build().start();
    clientLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(clientLoop)
        .withOption(ChannelOption.SO_KEEPALIVE, null).usePlaintext().build();
    stub = ContentGrpc.newStub(channel);
  }

  private ContentStore s3Store() {
    String endpoint = System.getProperty("coffer.bench.endpoint");
    if (endpoint == null) {
      throw new IllegalStateException("set -Dcoffer.bench.endpoint to an S3 endpoint (S3Mock)");
    }
    var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("coffer",
        "coffer"));
    String bucket = "bench-" + UUID.randomUUID().toString().substring(0, 8);
    client = S3Client.builder().endpointOverride(URI.create(endpoint)).forcePathStyle(true)
        .region(Region.US_EAST_1).credentialsProvider(credentials)
        .overrideConfiguration(o -> o.addExecutionInterceptor(timer)).build();
    client.createBucket(b -> b.bucket(bucket));
    // The store's own client settings, with the timer: what S3Stores.open would build.
    return CachingStores.builder(S3Stores.builder().config(S3StoreConfig.builder()
            .bucket(bucket).endpoint(URI.create(endpoint)).pathStyle(true).region("us-east-1")
            .credentials(credentials).build()).client(client).build())
        .config(CacheConfig.builder().directory(dir.resolve("cache")).build()).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.close();
    clientLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    contentStore.close();
    if (client != null) {
      client.close();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public String round(S3Share share) {
    long requests = timer.requests.get();
    long nanos = timer.nanos.get();
    String committed = resume();
    share.rounds++;
    share.s3Requests += timer.requests.get() - requests;
    share.s3Millis += (timer.nanos.get() - nanos) / 1e6;
    return committed;
  }

  private String resume() {
    byte[] bytes = new byte[SIZE];
    random.nextBytes(bytes);
    String digest = Digest.of(bytes).toString();
    String ref = "default/" + (++round) + "/resume";
    WriteCall first = new WriteCall(stub);
    first.send(stat(ref, digest));
    first.send(write(0, bytes, 0, SIZE / 2));
    first.close("await".equals(close));
    WriteCall second = new WriteCall(stub);
    WriteContentResponse reopened = second.send(stat(ref, digest));
    if (reopened.getOffset() != SIZE / 2) {
      throw new IllegalStateException("reopened at " + reopened.getOffset());
    }
    second.send(write(SIZE / 2, bytes, SIZE / 2, SIZE));
    String committed = second.send(WriteContentRequest.newBuilder()
        .setAction(WriteAction.COMMIT).setOffset(SIZE).setTotal(SIZE).setExpected(digest)
        .build()).getDigest();
    second.close(true);
    return committed;
  }

  private static WriteContentRequest stat(String ref, String digest) {
    return WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref)
        .setTotal(SIZE).setExpected(digest).build();
  }

  private static WriteContentRequest write(long offset, byte[] bytes, int from, int to) {
    return WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setOffset(offset)
        .setData(ByteString.copyFrom(bytes, from, to - from)).build();
  }

  /** A Write stream driven one request and one reply at a time, as containerd's client does. */
  private static final class WriteCall {
    private static final Object COMPLETED = new Object();
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final StreamObserver<WriteContentRequest> requests;

    WriteCall(ContentGrpc.ContentStub stub) {
      requests = stub.write(new StreamObserver<>() {
        @Override
        public void onNext(WriteContentResponse value) {
          events.add(value);
        }

        @Override
        public void onError(Throwable t) {
          events.add(t);
        }

        @Override
        public void onCompleted() {
          events.add(COMPLETED);
        }
      });
    }

    WriteContentResponse send(WriteContentRequest request) {
      requests.onNext(request);
      Object event = next();
      if (event instanceof WriteContentResponse response) {
        return response;
      }
      throw new IllegalStateException("expected a reply, got " + event, event instanceof
          Throwable t ? t : null);
    }

    /** Ends the client's side; with {@code await}, waits for the server to end the stream. */
    void close(boolean await) {
      requests.onCompleted();
      if (await && next() != COMPLETED) {
        throw new IllegalStateException("the server did not complete the stream");
      }
    }

    private Object next() {
      try {
        Object event = events.poll(60, TimeUnit.SECONDS);
        if (event == null) {
          throw new IllegalStateException("no reply within 60 s");
        }
        return event;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
