package dev.coffer.store.grpc;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Write stream: an ingest opened by the first message's ref and driven by STAT, WRITE and COMMIT
 * messages, with the semantics of containerd's content server.
 *
 * <ul>
 *   <li>The first message must carry a ref; it opens the store's writer (taking the ref's lock:
 *       a locked ref fails the stream with UNAVAILABLE) with its total and expected digest. An
 *       expected digest already stored is held (see {@link HoldKeeper}) and fails the stream with
 *       ALREADY_EXISTS, which containerd takes as "stored".
 *   <li>STAT replies with the ingest's status and digest so far, writing nothing.
 *   <li>WRITE and COMMIT write their data at their offset: a positive offset other than the
 *       ingest's is OUT_OF_RANGE; offset 0 on a non-empty ingest truncates it first. The reply
 *       carries the new offset and the digest so far.
 *   <li>COMMIT then commits with the latest total, expected digest and the labels and holds the
 *       blob; its reply carries the committed digest and ends the stream. Content already stored
 *       is held and replied to as committed.
 * </ul>
 *
 * <p>The writer is closed when the stream ends, fails or is cancelled, so an uncommitted ingest
 * stays resumable. gRPC delivers one call's messages serially and requests the next only after
 * {@link #onNext} returns, which is the back-pressure on a fast client; the fields need no lock.
 */
final class WriteSession implements StreamObserver<WriteContentRequest> {

  private static final Logger LOG = LoggerFactory.getLogger(WriteSession.class);

  /** How often an open retries when content it found stored is deleted before it is held. */
  private static final int OPEN_ATTEMPTS = 3;

  private final ContentStore store;
  private final HoldKeeper holder;
  private final IngestScope scope;
  private final StreamObserver<WriteContentResponse> responses;
  private Writer writer;
  private String ref;
  private long total;
  private Digest expected;
  private boolean done;

  WriteSession(ContentStore store, HoldKeeper holder, IngestScope scope,
      StreamObserver<WriteContentResponse> responses) {
    this.store = store;
    this.holder = holder;
    this.scope = scope;
    this.responses = responses;
  }

  @Override
  public void onNext(WriteContentRequest request) {
    if (done) {
      return; // after a commit or a failure, containerd's server reads no more either
    }
    try {
      if (writer == null) {
        open(request);
      }
      WriteContentResponse response = handle(request);
      responses.onNext(response);
      if (request.getAction() == WriteAction.COMMIT) {
        finish();
        responses.onCompleted();
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
    total = first.getTotal();
    expected = Protos.optionalDigest(first.getExpected());
    LOG.debug("write {} total {} expected {}", ref, total, expected);
    for (int attempt = 1; ; attempt++) {
      try {
        writer = store.writer(scope.toStore(ref), new Descriptor(expected, Math.max(0, total)));
        return;
      } catch (AlreadyExistsException e) {
        // containerd now records the blob as its own without writing it: hold it first. If it
        // was deleted in between, the ingest writes it after all.
        if (holder.holdStored(expected) || attempt == OPEN_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  private WriteContentResponse handle(WriteContentRequest request) {
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

  @Override
  public void onError(Throwable t) {
    // The client cancelled or the connection broke: keep the ingest for a later resume.
    LOG.debug("write of ref \"{}\" ended by the client: {}", ref, t.toString());
    finish();
  }

  @Override
  public void onCompleted() {
    if (!done) {
      finish();
      responses.onCompleted();
    }
  }

  private void finish() {
    done = true;
    if (writer != null) {
      try {
        writer.close();
      } catch (RuntimeException e) {
        // The reply (or failure) already went out; a lock the store failed to release expires.
        LOG.warn("closing the writer of ref \"{}\" failed", ref, e);
      }
    }
  }
}
