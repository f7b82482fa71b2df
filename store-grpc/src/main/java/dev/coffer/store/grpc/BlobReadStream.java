package dev.coffer.store.grpc;

import com.google.protobuf.UnsafeByteOperations;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.grpc.proto.ReadContentResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.ByteBuffer;

/**
 * Sends the bytes {@code [offset, end)} of one blob as a Read stream, one chunk per message, and
 * only while the transport is ready: a slow client holds back the reads from the store, so a layer
 * of any size streams with about one chunk in memory. The reader is closed (released, when shared)
 * when the stream completes, fails or is cancelled.
 *
 * <p>gRPC runs the ready and cancel handlers serially for one call, so the fields need no lock.
 */
final class BlobReadStream {

  private final ReaderAt reader;
  private final long end;
  private final int chunkBytes;
  private final ServerCallStreamObserver<ReadContentResponse> responses;
  private final Runnable onReadFailure;
  private long position;
  private boolean done;

  BlobReadStream(ReaderAt reader, long offset, long end, int chunkBytes,
      ServerCallStreamObserver<ReadContentResponse> responses, Runnable onReadFailure) {
    this.reader = reader;
    this.onReadFailure = onReadFailure;
    this.position = offset;
    this.end = end;
    this.chunkBytes = chunkBytes;
    this.responses = responses;
  }

  /**
   * Installs the handlers and sends what the transport takes now; the rest goes out as gRPC
   * reports the call ready. containerd's 32 KiB reads thus complete here, without waiting for a
   * ready event. gRPC runs the handlers after this call returns, never during it.
   */
  void start() {
    responses.setOnCancelHandler(this::finish);
    responses.setOnReadyHandler(this::sendWhileReady);
    sendWhileReady();
  }

  private void sendWhileReady() {
    try {
      while (!done) {
        // Completing needs no readiness: waiting for it would cost a round trip per call, and
        // containerd issues one Read per 32 KiB it serves.
        if (position >= end) {
          finish();
          responses.onCompleted();
          return;
        }
        if (!responses.isReady()) {
          return; // the next ready event resumes here
        }
        // A fresh buffer per message: gRPC may still hold the previous one when this returns.
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(chunkBytes, end - position));
        while (chunk.hasRemaining()) {
          int n = reader.read(chunk, position + chunk.position());
          if (n < 0) {
            throw new FailedPreconditionException("blob ended at " + (position + chunk.position())
                + " bytes, before the " + end + " it reported");
          }
        }
        chunk.flip();
        responses.onNext(ReadContentResponse.newBuilder()
            .setOffset(position)
            .setData(UnsafeByteOperations.unsafeWrap(chunk))
            .build());
        position += chunk.remaining();
      }
    } catch (RuntimeException e) {
      if (!done) {
        finish();
        onReadFailure.run();
        ContentService.fail(responses, "read", e);
      }
    }
  }

  private void finish() {
    if (!done) {
      done = true;
      reader.close();
    }
  }
}
