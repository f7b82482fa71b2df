package dev.coffer.store.grpc;

import com.google.protobuf.ByteString;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A Write stream driven one request and one reply at a time, as containerd's client does. */
final class WriteStream implements AutoCloseable {

  private static final Object COMPLETED = new Object();

  private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
  private final StreamObserver<WriteContentRequest> requests;
  private boolean halfClosed;

  WriteStream(ContentGrpc.ContentStub stub) {
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

  /** Sends {@code request} and returns the reply; a failed stream throws its status. */
  WriteContentResponse send(WriteContentRequest request) {
    requests.onNext(request);
    return reply();
  }

  WriteContentResponse stat(String ref) {
    return send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT).setRef(ref).build());
  }

  WriteContentResponse write(long offset, byte[] data) {
    return send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE).setOffset(offset)
        .setData(ByteString.copyFrom(data)).build());
  }

  WriteContentResponse commit(long offset, long total, String expected,
      Map<String, String> labels) {
    return send(WriteContentRequest.newBuilder().setAction(WriteAction.COMMIT).setOffset(offset)
        .setTotal(total).setExpected(expected).putAllLabels(labels).build());
  }

  /** The next reply; a failed stream throws its status. */
  WriteContentResponse reply() {
    Object event = next();
    if (event instanceof WriteContentResponse response) {
      return response;
    }
    if (event instanceof StatusRuntimeException e) {
      throw e;
    }
    throw new AssertionError("expected a reply, got " + event);
  }

  /** Whether the server ended the stream normally. */
  boolean completed() {
    Object event = next();
    if (event instanceof Throwable t) {
      throw new AssertionError("stream failed", t);
    }
    return event == COMPLETED;
  }

  /** Sends {@code request} without waiting for the reply ({@link #reply()} takes it). */
  void sendAndGo(WriteContentRequest request) {
    requests.onNext(request);
  }

  /**
   * Ends the client's side without waiting for the server, as containerd's proxy writer closes
   * ({@link #completed()} tells how the server ended the stream).
   */
  void halfCloseAndGo() {
    halfClosed = true;
    requests.onCompleted();
  }

  /** Ends the client's side and waits for the server to end the stream. */
  void halfClose() {
    halfClosed = true;
    requests.onCompleted();
    if (!completed()) {
      throw new AssertionError("server did not complete the stream");
    }
  }

  private Object next() {
    try {
      Object event = events.poll(30, TimeUnit.SECONDS);
      if (event == null) {
        throw new AssertionError("no reply within 30 s");
      }
      return event;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Cancels the stream if it is still open, as a client that goes away. */
  @Override
  public void close() {
    if (!halfClosed) {
      halfClosed = true;
      try {
        requests.onError(new RuntimeException("client gone"));
      } catch (IllegalStateException alreadyClosed) {
        // the stream ended already
      }
    }
  }
}
