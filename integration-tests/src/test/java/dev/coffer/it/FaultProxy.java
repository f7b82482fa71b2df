package dev.coffer.it;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback HTTP proxy between S3 clients and an S3 server (stores point their endpoint at
 * {@link #endpoint()}), which injects faults at configured rates and, optionally, serialises the
 * requests on each object key.
 *
 * <p>Faults, each with its own rate (the fraction of the requests it applies to that get it; a
 * request gets at most one):
 * <ul>
 *   <li>{@link Fault#SLOW_DOWN}, {@link Fault#INTERNAL_ERROR}: a 503 SlowDown or 500 InternalError
 *       answered by the proxy; the server never sees the request.
 *   <li>{@link Fault#CONDITIONAL_CONFLICT}: a 409 ConditionalRequestConflict, only for a write with
 *       If-Match or If-None-Match, as S3 answers concurrent conditional writes; not forwarded.
 *   <li>{@link Fault#RESPONSE_CUT}: a GET whose response body the proxy cuts off (connection
 *       closed) after a random number of bytes. Only reads: a mutating request cut after the
 *       server applied it would be ambiguous for the client, which is a different fault.
 *   <li>{@link Fault#UPLOAD_ABORT}: a request with a body whose connection the proxy closes after
 *       forwarding a random part of the body, so the server never gets the whole request.
 *   <li>{@link Fault#SLOW_RESPONSE}: the response is held back for up to {@code slowness}.
 *   <li>{@link Fault#RESPONSE_LOST}: a conditional write (If-Match or If-None-Match) that the
 *       server applies, whose response the proxy drops, closing the connection: the client cannot
 *       tell whether it took effect, and its retry meets its own write (412).
 * </ul>
 * Besides the rates, {@link #aim} gives the next requests of one method on one object key a
 * chosen fault, whatever the request's headers (a DELETE whose answer is lost, say), and
 * {@link #requests(HttpMethod, String, String)} counts the requests of a method on a key.
 * Decisions come from one {@link Random} seeded by {@code coffer.it.fault.seed} when set, else
 * fresh and printed; with concurrent clients a seed replays the same sequence of draws, though
 * which request meets which draw follows the threads' timing.
 *
 * <p>With {@code serializeWrites}, every PUT, POST or DELETE holds its object key exclusively,
 * and every GET or HEAD shares it, from the request's head until its response has been forwarded
 * whole. Conditional writes then take effect one at a time per key and no read sees half a write,
 * as on S3, even in front of a server that checks a condition and writes in two steps (S3Mock).
 *
 * <p>Bodies stream through with back-pressure (a read from one side only after the previous
 * write to the other completed), so memory stays bounded whatever the part size. Thread-safe;
 * {@link #close()} is idempotent.
 */
final class FaultProxy implements AutoCloseable {

  /** The faults the proxy injects. */
  enum Fault {
    SLOW_DOWN, INTERNAL_ERROR, CONDITIONAL_CONFLICT, RESPONSE_CUT, UPLOAD_ABORT, SLOW_RESPONSE,
    RESPONSE_LOST
  }

  /** The seed property: set it to replay a run's decisions. */
  static final String SEED_PROPERTY = "coffer.it.fault.seed";

  private final URI upstream;
  private final boolean serializeWrites;
  private final Duration slowness;
  private final long seed;
  private final Random random;
  private final KeyLocks locks = new KeyLocks();
  private final EventLoopGroup loops = new NioEventLoopGroup(2);
  private final Channel server;
  private final Map<Fault, AtomicLong> injected = new EnumMap<>(Fault.class);
  private final AtomicLong requests = new AtomicLong();
  /** Requests that asked {@code Expect: 100-continue}, per method and path. */
  private final Map<String, AtomicLong> expecting = new ConcurrentHashMap<>();
  /** Requests per method and path ({@code "DELETE /bucket/key"}). */
  private final Map<String, AtomicLong> byPath = new ConcurrentHashMap<>();
  /** Faults aimed at one method and path, each with the number of requests still to get it. */
  private final Map<String, Aim> aims = new ConcurrentHashMap<>();
  private volatile Map<Fault, Double> rates;
  private boolean closed;

  private FaultProxy(Builder b) {
    this.upstream = b.upstream;
    this.serializeWrites = b.serializeWrites;
    this.slowness = b.slowness;
    this.rates = Collections.unmodifiableMap(new EnumMap<>(b.rates));
    Long fixed = Long.getLong(SEED_PROPERTY);
    this.seed = fixed != null ? fixed : new Random().nextLong();
    this.random = new Random(seed);
    for (Fault f : Fault.values()) {
      injected.put(f, new AtomicLong());
    }
    ServerBootstrap bootstrap = new ServerBootstrap().group(loops)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new Frontend());
          }
        });
    this.server = bootstrap.bind("127.0.0.1", 0).syncUninterruptibly().channel();
    if (!b.rates.isEmpty()) {
      System.out.println("FaultProxy: seed " + seed + " (replay with -D" + SEED_PROPERTY + "="
          + seed + "), rates " + b.rates);
    }
  }

  /** A proxy in front of {@code upstream}, an {@code http://host:port} endpoint. */
  static Builder builder(URI upstream) {
    return new Builder(upstream);
  }

  /** Configuration of a {@link FaultProxy}. */
  static final class Builder {
    private final URI upstream;
    private final Map<Fault, Double> rates = new EnumMap<>(Fault.class);
    private boolean serializeWrites;
    private Duration slowness = Duration.ofMillis(500);

    private Builder(URI upstream) {
      if (!"http".equals(upstream.getScheme()) || upstream.getPort() < 0) {
        throw new IllegalArgumentException("upstream " + upstream + ": expected http://host:port");
      }
      this.upstream = upstream;
    }

    /** The fraction of requests that get {@code fault}, 0 to 1; default 0. */
    Builder rate(Fault fault, double rate) {
      rates.put(fault, checkRate(fault, rate));
      return this;
    }

    /** Sets every fault's rate to {@code rate}. */
    Builder rateOfEach(double rate) {
      for (Fault f : Fault.values()) {
        rate(f, rate);
      }
      return this;
    }

    /** Whether requests on one object key take turns (see the class comment); default false. */
    Builder serializeWrites(boolean serialize) {
      this.serializeWrites = serialize;
      return this;
    }

    /** The longest delay of a slow response; default 500 ms. */
    Builder slowness(Duration max) {
      if (max.isNegative() || max.isZero()) {
        throw new IllegalArgumentException("slowness " + max + ": must be positive");
      }
      this.slowness = max;
      return this;
    }

    FaultProxy start() {
      double total = rates.values().stream().mapToDouble(Double::doubleValue).sum();
      if (total > 1) { // a request that every fault applies to draws from all of them
        throw new IllegalArgumentException("fault rates " + rates + " add up to more than 1");
      }
      return new FaultProxy(this);
    }
  }

  private static double checkRate(Fault fault, double rate) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("rate of " + fault + " " + rate + ": must be in [0, 1]");
    }
    return rate;
  }

  /** Where clients connect: {@code http://127.0.0.1:<port>}. */
  URI endpoint() {
    return URI.create("http://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort());
  }

  /** The seed of this proxy's decisions. */
  long seed() {
    return seed;
  }

  /** Stops injecting faults (serialisation stays as configured). */
  void stopFaults() {
    rates = Map.of();
  }

  /** How many faults of each kind the proxy has injected so far. */
  Map<Fault, Long> injected() {
    Map<Fault, Long> counts = new EnumMap<>(Fault.class);
    injected.forEach((f, n) -> counts.put(f, n.get()));
    return counts;
  }

  /** How many requests reached the proxy. */
  long requests() {
    return requests.get();
  }

  /**
   * The requests that reached the proxy asking {@code Expect: 100-continue}, each as its method
   * and path ({@code "PUT /bucket/key"}) with how many times.
   */
  Map<String, Long> expectContinues() {
    Map<String, Long> counts = new TreeMap<>();
    expecting.forEach((where, n) -> counts.put(where, n.get()));
    return counts;
  }

  /** How many requests of {@code method} on {@code key} of {@code bucket} reached the proxy. */
  long requests(HttpMethod method, String bucket, String key) {
    AtomicLong n = byPath.get(method.name() + " " + path(bucket, key));
    return n == null ? 0 : n.get();
  }

  /**
   * Gives the next {@code times} requests of {@code method} on {@code key} of {@code bucket}
   * {@code fault}, ahead of the rates (a path-style request's path is {@code /bucket/key}).
   */
  void aim(HttpMethod method, String bucket, String key, Fault fault, int times) {
    if (times < 1) {
      throw new IllegalArgumentException("aim " + fault + " x " + times + ": at least once");
    }
    aims.put(method.name() + " " + path(bucket, key), new Aim(fault, new AtomicLong(times)));
  }

  private static String path(String bucket, String key) {
    return "/" + bucket + "/" + key;
  }

  /** A fault aimed at a method and path, and how many more requests get it. */
  private record Aim(Fault fault, AtomicLong remaining) {}

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.close().syncUninterruptibly();
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** The fault for a request, or null; one draw per request. */
  private Fault decide(HttpRequest request) {
    requests.incrementAndGet();
    String where = request.method().name() + " " + lockKey(request);
    byPath.computeIfAbsent(where, w -> new AtomicLong()).incrementAndGet();
    if (HttpUtil.is100ContinueExpected(request)) {
      expecting.computeIfAbsent(where, w -> new AtomicLong()).incrementAndGet();
    }
    Aim aim = aims.get(where);
    if (aim != null && aim.remaining().getAndDecrement() > 0) {
      return aim.fault();
    }
    Map<Fault, Double> current = rates;
    if (current.isEmpty()) {
      return null;
    }
    double draw;
    synchronized (random) {
      draw = random.nextDouble();
    }
    double bound = 0;
    for (Map.Entry<Fault, Double> e : current.entrySet()) {
      if (applies(e.getKey(), request)) {
        bound += e.getValue();
        if (draw < bound) {
          return e.getKey();
        }
      }
    }
    return null;
  }

  private static boolean applies(Fault fault, HttpRequest request) {
    HttpMethod method = request.method();
    return switch (fault) {
      case CONDITIONAL_CONFLICT, RESPONSE_LOST -> mutating(method)
          && (request.headers().contains(HttpHeaderNames.IF_MATCH)
              || request.headers().contains(HttpHeaderNames.IF_NONE_MATCH));
      case RESPONSE_CUT -> method.equals(HttpMethod.GET);
      case UPLOAD_ABORT -> HttpUtil.getContentLength(request, 0L) > 1
          || HttpUtil.isTransferEncodingChunked(request);
      default -> true;
    };
  }

  private static boolean mutating(HttpMethod method) {
    return method.equals(HttpMethod.PUT) || method.equals(HttpMethod.POST)
        || method.equals(HttpMethod.DELETE);
  }

  private long draw(long bound) {
    synchronized (random) {
      return bound <= 1 ? 0 : (long) (random.nextDouble() * bound);
    }
  }

  private static FullHttpResponse error(HttpRequest request, Fault fault) {
    HttpResponseStatus status;
    String code;
    String message;
    switch (fault) {
      case SLOW_DOWN -> {
        status = HttpResponseStatus.SERVICE_UNAVAILABLE;
        code = "SlowDown";
        message = "Please reduce your request rate.";
      }
      case INTERNAL_ERROR -> {
        status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
        code = "InternalError";
        message = "We encountered an internal error. Please try again.";
      }
      default -> {
        status = HttpResponseStatus.CONFLICT;
        code = "ConditionalRequestConflict";
        message = "A conflicting conditional operation is currently in progress against this "
            + "resource. Please try again.";
      }
    }
    byte[] body = request.method().equals(HttpMethod.HEAD) ? new byte[0]
        : ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>"
            + message + "</Message><RequestId>injected</RequestId></Error>")
            .getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/xml")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return response;
  }

  /** The lock key of a path-style request: {@code /bucket/key}, without the query. */
  private static String lockKey(HttpRequest request) {
    return new QueryStringDecoder(request.uri()).rawPath();
  }

  /**
   * One client connection and its exchanges, one at a time (the SDK does not pipeline). Every
   * callback runs on the connection's event loop, which the upstream connection shares.
   */
  private final class Frontend extends ChannelInboundHandlerAdapter {
    private Channel front;
    private Channel back;
    /** The exchange in progress, or null between exchanges. */
    private Exchange exchange;

    private final class Exchange {
      final HttpRequest request;
      final Fault fault;
      final Queue<HttpObject> pending = new ArrayDeque<>();
      /** Response parts that arrived while a slow response's head is held back, else null. */
      Queue<Object> held;
      KeyLocks.Held lock;
      boolean forwarding;
      boolean requestDone;
      long requestBytes;
      long requestCut = -1;
      long responseBytes;
      long responseCut = -1;

      Exchange(HttpRequest request, Fault fault) {
        this.request = request;
        this.fault = fault;
      }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      front = ctx.channel();
      front.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest request) {
        startExchange(request);
      }
      if (msg instanceof HttpContent content) {
        onRequestContent(content);
      } else if (!(msg instanceof HttpRequest)) {
        ReferenceCountUtil.release(msg);
      }
    }

    private void startExchange(HttpRequest request) {
      Fault fault = decide(request);
      Exchange x = new Exchange(request, fault);
      exchange = x;
      if (fault == Fault.SLOW_DOWN || fault == Fault.INTERNAL_ERROR
          || fault == Fault.CONDITIONAL_CONFLICT) {
        injected.get(fault).incrementAndGet();
        if (HttpUtil.is100ContinueExpected(request)) {
          // The client waits for 100 Continue before the body: answer now and close, since the
          // body may or may not follow.
          FullHttpResponse response = error(request, fault);
          HttpUtil.setKeepAlive(response, false);
          exchange = null;
          front.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
          front.read(); // the body is read and dropped, then answered
        }
        return;
      }
      if (fault == Fault.UPLOAD_ABORT) {
        long length = HttpUtil.getContentLength(request, 1L << 16);
        x.requestCut = 1 + draw(length - 1);
      }
      boolean expectContinue = HttpUtil.is100ContinueExpected(request);
      request.headers().remove(HttpHeaderNames.EXPECT);
      request.headers().set(HttpHeaderNames.HOST, upstream.getHost() + ":" + upstream.getPort());
      x.pending.add(request);
      Runnable go = () -> connectThen(x, () -> {
        if (expectContinue) {
          front.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
              HttpResponseStatus.CONTINUE));
        }
        x.forwarding = true;
        drain(x);
      });
      if (serializeWrites && !request.method().equals(HttpMethod.OPTIONS)) {
        x.lock = locks.acquire(lockKey(request), mutating(request.method()), front.eventLoop(),
            () -> {
              if (exchange == x && front.isActive()) {
                go.run();
              }
            });
      } else {
        go.run();
      }
    }

    private void onRequestContent(HttpContent content) {
      Exchange x = exchange;
      if (x == null) {
        content.release();
        front.read();
        return;
      }
      if (x.fault == Fault.SLOW_DOWN || x.fault == Fault.INTERNAL_ERROR
          || x.fault == Fault.CONDITIONAL_CONFLICT) {
        content.release();
        if (content instanceof LastHttpContent) {
          exchange = null;
          front.writeAndFlush(error(x.request, x.fault));
        }
        front.read();
        return;
      }
      x.pending.add(content);
      if (x.forwarding) {
        drain(x);
      }
    }

    /** Sends what arrived of the request upstream, then reads more of it. */
    private void drain(Exchange x) {
      HttpObject next;
      while ((next = x.pending.poll()) != null) {
        if (next instanceof HttpContent content && x.requestCut >= 0) {
          int readable = content.content().readableBytes();
          if (x.requestBytes + readable >= x.requestCut) {
            int keep = (int) (x.requestCut - x.requestBytes);
            ByteBuf part = content.content().retainedSlice(content.content().readerIndex(), keep);
            content.release();
            injected.get(Fault.UPLOAD_ABORT).incrementAndGet();
            back.writeAndFlush(new DefaultHttpContent(part))
                .addListener(f -> closeAll());
            x.pending.forEach(ReferenceCountUtil::release);
            x.pending.clear();
            return;
          }
          x.requestBytes += readable;
        }
        boolean last = next instanceof LastHttpContent;
        ChannelFuture written = back.writeAndFlush(next);
        if (last) {
          x.requestDone = true;
        }
        written.addListener(f -> {
          if (!f.isSuccess()) {
            closeAll();
          } else if (!x.requestDone || last) {
            front.read();
          }
        });
      }
    }

    private void connectThen(Exchange x, Runnable then) {
      if (back != null && back.isActive()) {
        then.run();
        return;
      }
      Bootstrap bootstrap = new Bootstrap().group(front.eventLoop())
          .channel(NioSocketChannel.class)
          .option(ChannelOption.AUTO_READ, false)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new HttpClientCodec(), new Backend());
            }
          });
      bootstrap.connect(upstream.getHost(), upstream.getPort()).addListener(
          (ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
              closeAll();
              return;
            }
            back = f.channel();
            back.read();
            if (exchange == x) {
              then.run();
            }
          });
    }

    /** The upstream response, forwarded to the client. */
    private final class Backend extends ChannelInboundHandlerAdapter {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Exchange x = exchange;
        if (x == null || !front.isActive()) {
          ReferenceCountUtil.release(msg);
          closeAll();
          return;
        }
        if (x.held != null) {
          x.held.add(msg);
          return;
        }
        if (x.fault == Fault.RESPONSE_LOST) {
          boolean last = msg instanceof LastHttpContent;
          ReferenceCountUtil.release(msg);
          if (last) {
            injected.get(Fault.RESPONSE_LOST).incrementAndGet();
            closeAll(); // the server applied the write; the client only sees the connection go
          }
          return;
        }
        if (msg instanceof HttpResponse response) {
          if (x.fault == Fault.RESPONSE_CUT) {
            long length = HttpUtil.getContentLength(response, -1L);
            if (length > 0) {
              x.responseCut = draw(length);
            }
          }
          if (x.fault == Fault.SLOW_RESPONSE) {
            injected.get(Fault.SLOW_RESPONSE).incrementAndGet();
            long delay = 1 + draw(slowness.toMillis());
            Queue<Object> held = new ArrayDeque<>();
            held.add(msg);
            x.held = held;
            ctx.channel().eventLoop().schedule(() -> {
              x.held = null;
              if (exchange == x) {
                held.forEach(m -> forward(x, m));
              } else {
                held.forEach(ReferenceCountUtil::release);
              }
            }, delay, TimeUnit.MILLISECONDS);
            return;
          }
        }
        forward(x, msg);
      }

      @Override
      public void channelInactive(ChannelHandlerContext ctx) {
        if (back == ctx.channel()) {
          back = null;
        }
        if (exchange != null) {
          closeAll(); // the client sees the connection reset, as the proxy did
        }
      }

      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        closeAll();
      }
    }

    private void forward(Exchange x, Object msg) {
      if (msg instanceof HttpContent content && x.responseCut >= 0) {
        int readable = content.content().readableBytes();
        if (x.responseBytes + readable > x.responseCut) {
          int keep = (int) (x.responseCut - x.responseBytes);
          ByteBuf part = content.content().retainedSlice(content.content().readerIndex(), keep);
          content.release();
          injected.get(Fault.RESPONSE_CUT).incrementAndGet();
          front.writeAndFlush(new DefaultHttpContent(part)).addListener(f -> closeAll());
          return;
        }
        x.responseBytes += readable;
      }
      boolean last = msg instanceof LastHttpContent;
      if (msg instanceof HttpResponse response && !HttpUtil.isKeepAlive(x.request)) {
        HttpUtil.setKeepAlive(response, false);
      }
      ChannelFuture written = front.writeAndFlush(msg);
      if (last) {
        finish(x);
        if (!HttpUtil.isKeepAlive(x.request)) {
          written.addListener(ChannelFutureListener.CLOSE);
          return;
        }
      }
      Channel upstreamChannel = back;
      written.addListener(f -> {
        if (!f.isSuccess()) {
          closeAll();
        } else if (upstreamChannel != null && upstreamChannel.isActive()) {
          upstreamChannel.read();
        }
      });
    }

    private void finish(Exchange x) {
      if (x.lock != null) {
        x.lock.release();
      }
      if (exchange == x) {
        exchange = null;
      }
    }

    private void closeAll() {
      Exchange x = exchange;
      if (x != null) {
        finish(x);
        x.pending.forEach(ReferenceCountUtil::release);
        x.pending.clear();
      }
      if (back != null) {
        back.close();
      }
      front.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeAll();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeAll();
    }
  }
}
