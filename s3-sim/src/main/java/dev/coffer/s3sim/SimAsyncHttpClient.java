package dev.coffer.s3sim;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.http.async.AsyncExecuteRequest;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.async.SdkAsyncHttpResponseHandler;
import software.amazon.awssdk.utils.async.SimplePublisher;

/**
 * The SDK's asynchronous HTTP client for one host of the simulation: each request body is
 * collected whole, then sent through the {@link Network} on a thread of this client's own (so a
 * parked request blocks that thread, never the caller), and the answer is published as one
 * buffer. Thread-safe; {@link #close()} stops its threads.
 */
final class SimAsyncHttpClient implements SdkAsyncHttpClient {
  private final Network network;
  private final String host;
  private final ExecutorService exchanges;

  SimAsyncHttpClient(Network network, String host) {
    this.network = network;
    this.host = host;
    AtomicLong count = new AtomicLong();
    this.exchanges = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "s3-sim-" + host + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public CompletableFuture<Void> execute(AsyncExecuteRequest request) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    SdkAsyncHttpResponseHandler handler = request.responseHandler();
    collect(request.requestContentPublisher()).thenAcceptAsync(body -> {
      try {
        SimResponse response = network.send(host, Transport.request(request.request(), body));
        handler.onHeaders(Transport.response(response));
        SimplePublisher<ByteBuffer> stream = new SimplePublisher<>();
        handler.onStream(stream);
        if (response.body().length > 0) {
          stream.send(ByteBuffer.wrap(response.body()));
        }
        stream.complete();
        done.complete(null);
      } catch (Exception e) {
        handler.onError(e);
        done.completeExceptionally(e);
      }
    }, exchanges).exceptionally(e -> {
      handler.onError(e);
      done.completeExceptionally(e);
      return null;
    });
    return done;
  }

  /** The whole body a publisher sends (empty for none). */
  private static CompletableFuture<byte[]> collect(Publisher<ByteBuffer> publisher) {
    CompletableFuture<byte[]> whole = new CompletableFuture<>();
    if (publisher == null) {
      whole.complete(new byte[0]);
      return whole;
    }
    publisher.subscribe(new Subscriber<ByteBuffer>() {
      private final ByteArrayOutputStream out = new ByteArrayOutputStream();

      @Override
      public void onSubscribe(Subscription s) {
        s.request(Long.MAX_VALUE);
      }

      @Override
      public void onNext(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        out.writeBytes(bytes);
      }

      @Override
      public void onError(Throwable t) {
        whole.completeExceptionally(t);
      }

      @Override
      public void onComplete() {
        whole.complete(out.toByteArray());
      }
    });
    return whole;
  }

  @Override
  public String clientName() {
    return "SimS3Async";
  }

  @Override
  public void close() {
    exchanges.shutdownNow();
  }
}
