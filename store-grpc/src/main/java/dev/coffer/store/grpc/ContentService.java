package dev.coffer.store.grpc;

import com.github.benmanes.caffeine.cache.Ticker;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.Empty;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Filter;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.grpc.proto.AbortRequest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.DeleteContentRequest;
import dev.coffer.store.grpc.proto.InfoRequest;
import dev.coffer.store.grpc.proto.InfoResponse;
import dev.coffer.store.grpc.proto.ListContentRequest;
import dev.coffer.store.grpc.proto.ListContentResponse;
import dev.coffer.store.grpc.proto.ListStatusesRequest;
import dev.coffer.store.grpc.proto.ListStatusesResponse;
import dev.coffer.store.grpc.proto.ReadContentRequest;
import dev.coffer.store.grpc.proto.ReadContentResponse;
import dev.coffer.store.grpc.proto.StatusRequest;
import dev.coffer.store.grpc.proto.StatusResponse;
import dev.coffer.store.grpc.proto.UpdateRequest;
import dev.coffer.store.grpc.proto.UpdateResponse;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's {@code containerd.services.content.v1.Content} over a {@link ContentStore}, with the
 * behaviour of containerd's own content server, holding blobs for one containerd (see
 * {@link HoldKeeper}): List shows, and Delete releases, only what this holder holds. Every store
 * error goes through {@link GrpcErrors}. Thread-safe: calls share the store, the holds and the
 * open readers.
 */
final class ContentService extends ContentGrpc.ContentImplBase implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ContentService.class);
  /** Info lookups in flight during a List. */
  private static final int LIST_LOOKUPS = 16;

  private final ContentStore store;
  private final ServerSettings settings;
  private final HoldKeeper holder;
  private final ReaderCache readers;
  private final IngestScope scope;
  private final WriteSessions writeSessions;
  /** Where Write streams and List's lookups do their work, off the transport's threads. */
  private final ExecutorService workers;

  ContentService(ContentStore store, ServerSettings settings, Holds holds, IngestScope scope) {
    this(store, settings, holds, scope, WriteSessions.CLOSE_WAIT_DEFAULT);
  }

  /**
   * A service whose Write streams wait up to {@code closeWait} for the close of an earlier
   * stream's writer of the same ref (see {@link WriteSessions}).
   */
  ContentService(ContentStore store, ServerSettings settings, Holds holds, IngestScope scope,
      Duration closeWait) {
    this(store, settings, holds, scope, closeWait, Ticker.systemTicker());
  }

  /** A service whose shared readers' idle and recheck times are measured by {@code ticker}. */
  ContentService(ContentStore store, ServerSettings settings, Holds holds, IngestScope scope,
      Duration closeWait, Ticker ticker) {
    this.store = store;
    this.settings = settings;
    this.scope = scope;
    this.holder = new HoldKeeper(store, holds);
    this.readers = new ReaderCache(store, settings.openReaders(), settings.readerIdle(),
        ticker);
    this.writeSessions = new WriteSessions(closeWait);
    AtomicInteger threads = new AtomicInteger();
    this.workers = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "coffer-content-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** The blobs this service's holder holds now: its hold markers, counted (no store request). */
  int holdCount() {
    return holder.held().size();
  }

  /** The store writers this service's Write streams hold open now. */
  int openWriterCount() {
    return writeSessions.open();
  }

  /**
   * The executors of this service's calls, for {@code ServerBuilder.callExecutor}: a Write
   * stream's callbacks run on the transport's thread, in the order the client sent the stream's
   * messages and its close (so a close the client sent before reopening the ref is seen before the
   * reopen, see {@link WriteSessions}); {@link WriteSession} only queues them for its workers.
   * Every other call runs on the server's executor.
   */
  static ServerCallExecutorSupplier callExecutors() {
    return new ServerCallExecutorSupplier() {
      @Override
      public <ReqT, RespT> Executor getExecutor(ServerCall<ReqT, RespT> call, Metadata headers) {
        return ContentGrpc.getWriteMethod().getFullMethodName()
            .equals(call.getMethodDescriptor().getFullMethodName())
            ? MoreExecutors.directExecutor() : null;
      }
    };
  }

  @Override
  public void info(InfoRequest request, StreamObserver<InfoResponse> responses) {
    LOG.debug("info {}", request.getDigest());
    unary("info", responses, () -> InfoResponse.newBuilder()
        .setInfo(Protos.info(store.info(Digest.parse(request.getDigest()))))
        .build());
  }

  @Override
  public void update(UpdateRequest request, StreamObserver<UpdateResponse> responses) {
    List<String> paths = request.getUpdateMask().getPathsList();
    LOG.debug("update {} {}", request.getInfo().getDigest(), paths);
    unary("update", responses, () -> {
      Info update = Info.forUpdate(
          Digest.parse(request.getInfo().getDigest()), request.getInfo().getLabelsMap());
      Info updated = store.update(update, paths.toArray(String[]::new));
      return UpdateResponse.newBuilder().setInfo(Protos.info(updated)).build();
    });
  }

  /**
   * Lists the blobs this holder holds, not the whole store (GRPC-5). containerd calls List only
   * from its garbage collector, which then deletes what its metadata does not know; a Delete
   * releases only a held blob (see {@link HoldKeeper}), so the other blobs of a shared bucket
   * (every other host's) cannot matter to it, and walking them cost a LIST per 1,000 keys and a
   * record read per blob on every collection. Costs one info per held blob,
   * {@value #LIST_LOOKUPS} at a time; a held blob no longer stored is left out.
   */
  @Override
  public void list(ListContentRequest request, StreamObserver<ListContentResponse> responses) {
    LOG.debug("list {}", request.getFiltersList());
    try {
      Filter filter = Filter.parse(request.getFiltersList().toArray(String[]::new));
      // Infos are small: batches keep the message count low, as containerd's server does.
      List<dev.coffer.store.grpc.proto.Info> batch = new ArrayList<>();
      forEachHeld(info -> {
        if (!filter.matches(info)) {
          return;
        }
        batch.add(Protos.info(info));
        if (batch.size() >= settings.listBatchSize()) {
          responses.onNext(ListContentResponse.newBuilder().addAllInfo(batch).build());
          batch.clear();
        }
      });
      if (!batch.isEmpty()) {
        responses.onNext(ListContentResponse.newBuilder().addAllInfo(batch).build());
      }
      responses.onCompleted();
    } catch (RuntimeException e) {
      fail(responses, "list", e);
    }
  }

  /**
   * Hands {@code fn} the info of each blob this holder holds and the store still has, in the
   * calling thread, with up to {@value #LIST_LOOKUPS} lookups in flight.
   */
  private void forEachHeld(Consumer<Info> fn) {
    Iterator<Digest> held = holder.held().iterator();
    Deque<CompletableFuture<Info>> inFlight = new ArrayDeque<>();
    try {
      while (held.hasNext() || !inFlight.isEmpty()) {
        while (held.hasNext() && inFlight.size() < LIST_LOOKUPS) {
          Digest digest = held.next();
          inFlight.add(CompletableFuture.supplyAsync(() -> {
            try {
              return store.info(digest);
            } catch (NotFoundException e) {
              return null; // deleted outside containerd: nothing to release
            }
          }, workers));
        }
        Info info;
        try {
          info = inFlight.poll().join();
        } catch (CompletionException e) {
          throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        if (info != null) {
          fn.accept(info);
        }
      }
    } finally {
      inFlight.forEach(f -> f.cancel(true));
    }
  }

  @Override
  public void delete(DeleteContentRequest request, StreamObserver<Empty> responses) {
    LOG.debug("delete {}", request.getDigest());
    // containerd's collector asks to delete every blob of the store its metadata does not know,
    // including those other hosts hold; an error would end its collection. So: release this
    // holder's reference if it has one, and answer OK either way.
    unary("delete", responses, () -> {
      Digest digest = Digest.parse(request.getDigest());
      if (holder.release(digest)) {
        readers.invalidate(digest);
      }
      return Empty.getDefaultInstance();
    });
  }

  @Override
  public void read(ReadContentRequest request, StreamObserver<ReadContentResponse> responses) {
    LOG.debug("read {} offset {} size {}", request.getDigest(), request.getOffset(),
        request.getSize());
    Digest digest;
    ReaderAt reader;
    try {
      digest = Digest.parse(request.getDigest());
      // Shared with the other calls reading this blob: containerd sends one call per 32 KiB.
      reader = readers.open(digest);
    } catch (RuntimeException e) {
      fail(responses, "read", e);
      return;
    }
    try {
      long size = reader.size();
      // As containerd: a negative offset reads from the start, one past the end is out of range,
      // and a size of 0 or beyond the end reads to the end.
      long offset = Math.max(0, request.getOffset());
      if (offset > size) {
        throw GrpcErrors.outOfRange("read of " + request.getDigest() + " at offset " + offset
            + " is past its end (" + size + " bytes)");
      }
      long length = request.getSize();
      long end = length <= 0 || length > size - offset ? size : offset + length;
      new BlobReadStream(reader, offset, end, settings.readChunkBytes(),
          (ServerCallStreamObserver<ReadContentResponse>) responses,
          () -> readers.invalidate(digest)).start();
    } catch (RuntimeException e) {
      reader.close();
      fail(responses, "read", e);
    }
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> responses) {
    LOG.debug("status {}", request.getRef());
    unary("status", responses, () -> StatusResponse.newBuilder()
        .setStatus(Protos.status(scope.fromStore(store.status(scope.toStore(request.getRef())))))
        .build());
  }

  @Override
  public void listStatuses(ListStatusesRequest request,
      StreamObserver<ListStatusesResponse> responses) {
    LOG.debug("list statuses {}", request.getFiltersList());
    unary("list statuses", responses, () -> {
      // containerd's filters apply to its own refs, so they run here, after the scope's.
      Filter filter = Filter.parse(request.getFiltersList().toArray(String[]::new));
      ListStatusesResponse.Builder response = ListStatusesResponse.newBuilder();
      store.listStatuses().stream()
          .filter(scope::contains)
          .map(scope::fromStore)
          .filter(filter::matches)
          .forEach(s -> response.addStatuses(Protos.status(s)));
      return response.build();
    });
  }

  @Override
  public StreamObserver<WriteContentRequest> write(StreamObserver<WriteContentResponse> responses) {
    WriteSession session = new WriteSession(store, holder, scope, writeSessions,
        (ServerCallStreamObserver<WriteContentResponse>) responses, workers);
    session.start();
    return session;
  }

  @Override
  public void abort(AbortRequest request, StreamObserver<Empty> responses) {
    LOG.debug("abort {}", request.getRef());
    unary("abort", responses, () -> {
      store.abort(scope.toStore(request.getRef()));
      return Empty.getDefaultInstance();
    });
  }

  /**
   * Closes the idle shared readers (readers of running calls close as those end), and lets the
   * Write streams that ended close their writers, for up to the reopen's close wait. Idempotent;
   * an interrupt stops the wait and is kept.
   */
  @Override
  public void close() {
    readers.close();
    workers.shutdown();
    try {
      if (!workers.awaitTermination(writeSessions.closeWait().toNanos(),
          TimeUnit.NANOSECONDS)) {
        LOG.warn("write streams still closing their writers after {} ms",
            writeSessions.closeWait().toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static <T> void unary(String what, StreamObserver<T> responses, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      fail(responses, what, e);
      return;
    }
    responses.onNext(response);
    responses.onCompleted();
  }

  /**
   * Ends a call with the status of {@code failure}. Failures the store could not classify are
   * logged with their stack, failures of the backing storage with their message (which the client
   * does not see); the others are the client's business and logged at debug.
   */
  static void fail(StreamObserver<?> responses, String what, Throwable failure) {
    StatusRuntimeException status = GrpcErrors.toStatus(failure);
    if (status.getStatus().getCode() == Code.UNKNOWN) {
      LOG.warn("{} failed", what, failure);
    } else if (failure != status && GrpcErrors.revealsBackend(failure)) {
      // The client was told only the code: the message is kept here.
      LOG.warn("{} failed: {}", what, failure.toString());
    } else {
      LOG.debug("{} failed: {}", what, status.getStatus());
    }
    responses.onError(status);
  }
}
