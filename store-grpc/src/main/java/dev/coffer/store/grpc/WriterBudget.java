package dev.coffer.store.grpc;

import dev.coffer.store.grpc.proto.ContentGrpc;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SEC-5 (docs/architecture.md): bounds the Write streams open at once, each of which holds one store writer and so up to the
 * store's part size times its upload concurrency in memory. A Write beyond the bound ends at once
 * with RESOURCE_EXHAUSTED (never UNAVAILABLE, which containerd retries without end); its permit
 * returns when the call closes or is cancelled, after the writer has been closed. Shared by every
 * listener of one server; thread-safe.
 */
final class WriterBudget implements ServerInterceptor {

  private static final String WRITE = ContentGrpc.getWriteMethod().getFullMethodName();

  private final Semaphore permits;
  private final int maxWriters;
  private final long bytesPerWriter;

  WriterBudget(int maxWriters, long bytesPerWriter) {
    this.permits = new Semaphore(maxWriters);
    this.maxWriters = maxWriters;
    this.bytesPerWriter = bytesPerWriter;
  }

  /** Writes that may still open now. */
  int available() {
    return permits.availablePermits();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!WRITE.equals(call.getMethodDescriptor().getFullMethodName())) {
      return next.startCall(call, headers);
    }
    if (!permits.tryAcquire()) {
      call.close(Status.RESOURCE_EXHAUSTED.withDescription("the server has " + maxWriters
          + " writes open, its bound (each may hold " + (bytesPerWriter >> 20)
          + " MiB); retry when one ends"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    AtomicBoolean released = new AtomicBoolean();
    Runnable release = () -> {
      if (released.compareAndSet(false, true)) {
        permits.release();
      }
    };
    ServerCall<Q, R> releasing = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        try {
          super.close(status, trailers);
        } finally {
          release.run();
        }
      }
    };
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(releasing, headers);
    } catch (RuntimeException e) {
      release.run();
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          release.run();
        }
      }

      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          release.run();
        }
      }
    };
  }
}
