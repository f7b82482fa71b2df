package dev.coffer.store.grpc;

import com.google.common.util.concurrent.MoreExecutors;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Write stream: an ingest opened by the first message's ref and driven by STAT, WRITE and COMMIT
 * messages, with the semantics of containerd's content server.
 *
 * <ul>
 *   <li>The first message must carry a ref; it opens the store's writer (taking the ref's lock:
 *       a locked ref fails the stream with UNAVAILABLE, unless this server's earlier stream on the
 *       ref is closing it, see {@link WriteSessions}) with its total and expected digest. An
 *       expected digest already stored is held (see {@link HoldKeeper}) and fails the stream with
 *       ALREADY_EXISTS, which containerd takes as "stored".
 *   <li>STAT replies with the ingest's status and digest so far, writing nothing.
 *   <li>WRITE and COMMIT write their data at their offset: a positive offset other than the
 *       ingest's is OUT_OF_RANGE; offset 0 on a non-empty ingest truncates it first. The reply
 *       carries the new offset and the digest so far.
 *   <li>COMMIT then commits with the latest total, expected digest and the labels and holds the
 *       blob; its reply carries the committed digest and ends the stream. Content already stored
 *       is held and fails the stream with ALREADY_EXISTS, the ingest discarded, as containerd's
 *       own server answers.
 * </ul>
 *
 * <p>The writer is closed when the stream ends, fails or is cancelled, so an uncommitted ingest
 * stays resumable.
 *
 * <p>Threads: gRPC calls this observer on the transport's thread ({@link
 * ContentService#callExecutors()}), in the order the client sent the stream's messages and its
 * close; the observer only marks an ending stream and hands each event to {@link #steps}, which
 * runs them one at a time on the service's workers. Each message is requested only once the one
 * before it is handled, which is the back-pressure on a fast client. The fields other than
 * {@link #ending} and {@link #closed} are touched by the steps only.
 */
final class WriteSession implements StreamObserver<WriteContentRequest> {

  private static final Logger LOG = LoggerFactory.getLogger(WriteSession.class);

  /** How often an open retries (content found stored deleted before it is held, a closing ref). */
  private static final int OPEN_ATTEMPTS = 3;

  private final ContentStore store;
  private final HoldKeeper holder;
  private final IngestScope scope;
  private final WriteSessions sessions;
  private final ServerCallStreamObserver<WriteContentResponse> responses;
  private final Executor steps;
  /** Set when the client's close or cancellation arrives; read by reopens of the ref. */
  private volatile boolean ending;
  /** Completed once the stream is over and its writer, if any, closed. */
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private Writer writer;
  private String ref;
  private String storeRef;
  private long total;
  private Digest expected;
  private boolean done;

  WriteSession(ContentStore store, HoldKeeper holder, IngestScope scope, WriteSessions sessions,
      ServerCallStreamObserver<WriteContentResponse> responses, Executor workers) {
    this.store = store;
    this.holder = holder;
    this.scope = scope;
    this.sessions = sessions;
    this.responses = responses;
    this.steps = MoreExecutors.newSequentialExecutor(workers);
    responses.disableAutoRequest();
  }

  /** Asks for the first message; called once, by the service, as the stream starts. */
  void start() {
    responses.request(1);
  }

  /** Whether the client has closed or cancelled the stream. */
  boolean ending() {
    return ending;
  }

  /** Completed once the stream is over and its writer closed. */
  CompletableFuture<Void> closed() {
    return closed;
  }

  @Override
  public void onNext(WriteContentRequest request) {
    step(() -> handle(request));
  }

  @Override
  public void onError(Throwable t) {
    ending = true;
    step(() -> {
      // The client cancelled or the connection broke: keep the ingest for a later resume.
      LOG.debug("write of ref \"{}\" ended by the client: {}", ref, t.toString());
      finish();
    });
  }

  @Override
  public void onCompleted() {
    ending = true;
    step(() -> {
      if (!done) {
        finish();
        responses.onCompleted();
      }
    });
  }

  private void step(Runnable step) {
    Runnable guarded = () -> {
      try {
        step.run();
      } catch (RuntimeException e) {
        // Nothing left to tell the client: its call is over (cancelled, typically).
        if (responses.isCancelled()) {
          LOG.debug("write of ref \"{}\": {}", ref, e.toString());
        } else {
          LOG.warn("write of ref \"{}\" failed", ref, e);
        }
      }
    };
    try {
      steps.execute(guarded);
    } catch (RejectedExecutionException e) {
      guarded.run(); // the service is closing: the writer must still be closed, its ingest kept
    }
  }

  private void handle(WriteContentRequest request) {
    if (done) {
      return; // after a commit or a failure, containerd's server reads no more either
    }
    try {
      if (writer == null) {
        open(request);
      }
      WriteContentResponse response = reply(request);
      if (request.getAction() == WriteAction.COMMIT) {
        responses.onNext(response);
        finish();
        responses.onCompleted();
      } else {
        // Asked before replying, so that what the client sends after the reply (the next
        // message, or its close) is taken in order.
        responses.request(1);
        responses.onNext(response);
      }
    } catch (RuntimeException e) {
      finish();
      ContentService.fail(responses, "write of ref \"" + ref + "\"", e);
    }
  }

  private void open(WriteContentRequest first) {
    if (first.getRef().isEmpty()) {
      throw GrpcErrors.invalidArgument("first message of a write stream must have a ref");
    }
    ref = first.getRef();
    storeRef = scope.toStore(ref);
    total = first.getTotal();
    expected = Protos.optionalDigest(first.getExpected());
    LOG.debug("write {} total {} expected {}", ref, total, expected);
    for (int attempt = 1; ; attempt++) {
      long closes = sessions.closes();
      try {
        writer = store.writer(storeRef, new Descriptor(expected, Math.max(0, total)));
        sessions.opened(storeRef, this);
        return;
      } catch (AlreadyExistsException e) {
        // containerd now records the blob as its own without writing it: hold it first. If it
        // was deleted in between, the ingest writes it after all.
        if (holder.holdStored(expected) || attempt == OPEN_ATTEMPTS) {
          throw e;
        }
      } catch (UnavailableException e) {
        // Locked: by this server's earlier stream on the ref, still closing its writer (wait for
        // that), or by a writer that is open (fail, as containerd's server does).
        if (!sessions.awaitClose(storeRef, closes) || attempt == OPEN_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  private WriteContentResponse reply(WriteContentRequest request) {
    Status status = writer.status();
    WriteContentResponse.Builder response = WriteContentResponse.newBuilder()
        .setAction(request.getAction())
        .setOffset(status.offset());
    // A later message may state what the first did not know yet, typically on COMMIT.
    if (!request.getExpected().isEmpty()) {
      expected = Digest.parse(request.getExpected());
    }
    if (request.getTotal() > 0) {
      total = request.getTotal();
    }
    switch (request.getAction()) {
      case STAT -> response
          .setDigest(writer.digest().toString())
          .setStartedAt(Protos.timestamp(status.startedAt()))
          .setUpdatedAt(Protos.timestamp(status.updatedAt()))
          .setTotal(total);
      case WRITE, COMMIT -> {
        long offset = request.getOffset();
        if (offset > 0 && offset != status.offset()) {
          throw GrpcErrors.outOfRange("write of ref \"" + ref + "\" at offset " + offset
              + " must occur at the ingest's offset " + status.offset());
        }
        if (offset == 0 && status.offset() > 0) {
          writer.truncate(0);
          response.setOffset(0);
        }
        if (!request.getData().isEmpty()) {
          for (var chunk : request.getData().asReadOnlyByteBufferList()) {
            writer.write(chunk);
          }
          response.setOffset(response.getOffset() + request.getData().size());
        }
        if (request.getAction() == WriteAction.COMMIT) {
          Map<String, String> labels = request.getLabelsMap();
          LOG.debug("commit {} size {} expected {} labels {}", ref, total, expected, labels);
          holder.commit(writer, total, expected, labels.isEmpty() ? null : labels);
        }
        response.setDigest(writer.digest().toString());
      }
      default -> throw GrpcErrors.invalidArgument("write of ref \"" + ref
          + "\": unknown action " + request.getActionValue());
    }
    return response.build();
  }

  private void finish() {
    done = true;
    if (closed.isDone()) {
      return;
    }
    try {
      if (writer != null) {
        writer.close();
      }
    } catch (RuntimeException e) {
      // The reply (or failure) already went out; a lock the store failed to release expires.
      LOG.warn("closing the writer of ref \"{}\" failed", ref, e);
    } finally {
      if (writer != null) {
        sessions.closed(storeRef, this);
      }
      closed.complete(null);
    }
  }
}
