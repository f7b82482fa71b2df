package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer serve --metrics-address}: a scrape of /metrics after a known sequence of operations
 * counts exactly the requests the (simulated) S3 endpoint logged (OBS-1 end to end), /healthz, and
 * the loopback rule (OBS-3).
 */
class ServeMetricsTest {
  private static final Pattern LISTENING =
      Pattern.compile("serving /metrics and /healthz on (http://\\S+)");
  private static final Pattern REQUESTS = Pattern.compile(
      "^coffer_s3_requests_total\\{operation=\"(\\w+)\",status=\"(\\w+)\"} (\\S+)$",
      Pattern.MULTILINE);
  private static final Pattern SERVE_GAUGE =
      Pattern.compile("^coffer_serve_(\\w+) (\\S+)$", Pattern.MULTILINE);

  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final HttpClient http = HttpClient.newHttpClient();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private Thread serve;

  @AfterEach
  void stop() throws Exception {
    if (serve != null) {
      serve.interrupt();
      serve.join(TimeUnit.SECONDS.toMillis(30));
    }
    connector.close();
  }

  private String errText() {
    synchronized (err) {
      return err.toString(StandardCharsets.UTF_8);
    }
  }

  private int serve(String metricsAddress, String... more) {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", tmp.toString());
    List<String> args = new ArrayList<>(List.of("serve", "--no-cache",
        "--containerd-socket", tmp.resolve("c.sock").toString(), "--holder-id", "h",
        "--state-dir", tmp.resolve("state").toString(), "--metrics-address", metricsAddress));
    args.addAll(List.of(more));
    return Coffer.run(args.toArray(String[]::new),
        new ByteArrayInputStream(new byte[0]), new PrintStream(new ByteArrayOutputStream(), true),
        new PrintStream(err, true), env, connector, false);
  }

  private HttpResponse<String> get(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Starts {@code coffer serve} with metrics on a free loopback port; its metrics base URI. */
  private URI startServe(String... more) {
    serve = new Thread(() -> serve("127.0.0.1:0", more));
    serve.start();
    await().atMost(Duration.ofSeconds(30))
        .until(() -> LISTENING.matcher(errText()).find()
            && errText().contains("serving containerd's content service"));
    Matcher m = LISTENING.matcher(errText());
    assertThat(m.find()).isTrue();
    return URI.create(m.group(1));
  }

  @Test
  void aScrapeCountsExactlyTheRequestsTheEndpointLogged() throws Exception {
    URI base = startServe();
    await().atMost(Duration.ofSeconds(30)).until(() -> get(base.resolve("/healthz")).statusCode(),
        code -> code == 200);

    ContentStore store = connector.store;
    byte[] content = "scraped".getBytes(StandardCharsets.UTF_8);
    Digest digest = store.put(content, null, Map.of("team", "obs")).digest();
    store.ref(digest);
    assertThat(Content.readBlob(store, store.info(digest).descriptor())).isEqualTo(content);
    try {
      store.info(Digest.of(new byte[] {42}));
    } catch (NotFoundException expected) {
      // a 404 counted as such
    }

    HttpResponse<String> scrape = get(base.resolve("/metrics"));
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/plain"));
    Map<String, Long> scraped = new TreeMap<>();
    Matcher line = REQUESTS.matcher(scrape.body());
    while (line.find()) {
      scraped.merge(line.group(1) + " " + line.group(2), (long) Double.parseDouble(line.group(3)),
          Long::sum);
    }
    assertThat(scraped).containsKeys("PutObject 200", "GetObject 200")
        .isEqualTo(connector.logged(connector.host));
    assertThat(scrape.body()).contains("coffer_store_operations_seconds_count{operation=\"ref\","
        + "outcome=\"ok\"} 1");
    assertThat(get(base.resolve("/other")).statusCode()).isEqualTo(404);
  }

  @Test
  void gcRunInTheServerCountsItsPurgesInTheScrape() throws Exception {
    URI base = startServe("--gc-interval", "1s");
    ContentStore store = connector.store;
    byte[] content = "purged by the server's gc".getBytes(StandardCharsets.UTF_8);
    Digest digest = store.put(content, null, Map.of()).digest();
    store.delete(digest);
    connector.clock.advance(Duration.ofMinutes(20)); // past the default 15-minute grace

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(get(base.resolve(
        "/metrics")).body()).contains("coffer_gc_purged_total 1.0",
        "coffer_gc_freed_bytes_total " + content.length + ".0"));
    assertThatThrownBy(() -> store.info(digest)).isInstanceOf(NotFoundException.class);
    assertThat(errText()).contains("coffer: gc purged 1 blobs (" + content.length + " B)");
  }

  @Test
  void aGcIntervalOfZeroIsRefused() {
    serve = null;
    int code = serve("127.0.0.1:0", "--gc-interval", "0s");

    assertThat(code).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(errText()).contains("--gc-interval must be positive");
  }

  @Test
  void holdsAndOpenWritersAreGaugedExactly() throws Exception {
    URI base = startServe();
    assertThat(gauges(base)).isEqualTo(Map.of("holds", 0.0, "writers_open", 0.0));

    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel = NettyChannelBuilder
        .forAddress(new DomainSocketAddress(tmp.resolve("c.sock").toString()))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(loop).usePlaintext().build();
    try {
      ContentGrpc.ContentStub stub = ContentGrpc.newStub(channel);
      for (String blob : List.of("held one", "held two")) {
        byte[] bytes = blob.getBytes(StandardCharsets.UTF_8);
        Stream write = new Stream(stub);
        write.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(blob));
        write.send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE)
            .setData(ByteString.copyFrom(bytes)));
        write.send(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT)
            .setOffset(bytes.length).setTotal(bytes.length)
            .setExpected(Digest.of(bytes).toString()));
        write.requests.onCompleted();
      }
      Stream open = new Stream(stub);
      open.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef("open"));
      open.send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE)
          .setData(ByteString.copyFromUtf8("not committed")));

      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gauges(base))
          .isEqualTo(Map.of("holds", 2.0, "writers_open", 1.0)));

      open.requests.onError(new IllegalStateException("client gone"));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gauges(base))
          .isEqualTo(Map.of("holds", 2.0, "writers_open", 0.0)));
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      loop.shutdownGracefully().await(10, TimeUnit.SECONDS);
    }
  }

  /** The values of the {@code coffer_serve_*} gauges in a scrape, by the rest of their name. */
  private Map<String, Double> gauges(URI base) throws Exception {
    Map<String, Double> gauges = new TreeMap<>();
    Matcher line = SERVE_GAUGE.matcher(get(base.resolve("/metrics")).body());
    while (line.find()) {
      gauges.put(line.group(1), Double.parseDouble(line.group(2)));
    }
    return gauges;
  }

  /** A Write stream driven one request and one reply at a time, as containerd's client does. */
  private static final class Stream {
    final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
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
        }

        @Override
        public void onCompleted() {}
      });
    }

    void send(WriteContentRequest.Builder request) throws InterruptedException {
      requests.onNext(request.build());
      Object reply = replies.poll(30, TimeUnit.SECONDS);
      assertThat(reply).isInstanceOf(WriteContentResponse.class);
    }
  }

  @Test
  void aNonLoopbackAddressIsRefused() {
    int code = serve("192.0.2.1:9464");

    assertThat(code).isEqualTo(ExitCode.CONFIG.code);
    assertThat(errText()).contains("--metrics-address 192.0.2.1:9464 is not a loopback address");
  }
}
