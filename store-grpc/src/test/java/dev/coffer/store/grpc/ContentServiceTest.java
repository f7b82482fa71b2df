package dev.coffer.store.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.coffer.store.AbortedException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.PermissionDeniedException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import dev.coffer.store.Writer;
import dev.coffer.store.grpc.proto.AbortRequest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.DeleteContentRequest;
import dev.coffer.store.grpc.proto.Info;
import dev.coffer.store.grpc.proto.InfoRequest;
import dev.coffer.store.grpc.proto.ListContentRequest;
import dev.coffer.store.grpc.proto.ListContentResponse;
import dev.coffer.store.grpc.proto.ListStatusesRequest;
import dev.coffer.store.grpc.proto.ReadContentRequest;
import dev.coffer.store.grpc.proto.ReadContentResponse;
import dev.coffer.store.grpc.proto.StatusRequest;
import dev.coffer.store.grpc.proto.UpdateRequest;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.grpc.proto.WriteContentResponse;
import dev.coffer.store.memory.MemoryStores;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The content service over the in-memory store, through an in-process gRPC channel. */
class ContentServiceTest {

  private static final int CHUNK = 64 << 10;

  private InterceptingStore intercepting;
  private ContentStore store;
  private ContentService service;
  private Server server;
  private ManagedChannel channel;
  private ContentGrpc.ContentBlockingStub blocking;
  private ContentGrpc.ContentStub async;
  private final List<WriteStream> streams = new ArrayList<>();

  private final ServerSettings settings = new ServerSettings(null, -1, CHUNK, 2,
      ContentServer.MAX_INBOUND_MESSAGE_BYTES_DEFAULT, Duration.ZERO, 4, Duration.ofSeconds(5));

  @BeforeEach
  void start() throws Exception {
    intercepting = new InterceptingStore(MemoryStores.open());
    store = intercepting.store;
    serve(new ContentService(store, settings, Holds.inMemory(), IngestScope.NONE));
  }

  /** Serves {@code service} on a new in-process server, as {@link ContentServer} does. */
  private void serve(ContentService service) throws Exception {
    this.service = service;
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).addService(service)
        .callExecutor(ContentService.callExecutors()).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
    blocking = ContentGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    async = ContentGrpc.newStub(channel);
  }

  @AfterEach
  void stop() throws Exception {
    streams.forEach(WriteStream::close);
    shutDown();
    store.close();
  }

  private void shutDown() throws Exception {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    service.close();
  }

  // ---- Info, Update, List, Delete

  @Test
  void infoReturnsTheBlob() {
    byte[] bytes = bytes(1000, 1);
    Instant before = Instant.now();
    Digest d = put(bytes, Map.of("k", "v"));

    Info info = blocking.info(InfoRequest.newBuilder().setDigest(d.toString()).build()).getInfo();

    assertThat(info.getDigest()).isEqualTo(d.toString());
    assertThat(info.getSize()).isEqualTo(1000);
    assertThat(info.getLabelsMap()).isEqualTo(Map.of("k", "v"));
    assertThat(Protos.instant(info.getCreatedAt())).isEqualTo(store.info(d).createdAt())
        .isAfterOrEqualTo(before.minusSeconds(1));
    assertThat(info.getUpdatedAt()).isEqualTo(info.getCreatedAt());
  }

  @Test
  void infoOfUnknownOrMalformedDigest() {
    String unknown = Digest.of(bytes(10, 2)).toString();
    assertCode(() -> blocking.info(InfoRequest.newBuilder().setDigest(unknown).build()),
        Code.NOT_FOUND, unknown);
    assertCode(() -> blocking.info(InfoRequest.newBuilder().setDigest("sha256:nothex").build()),
        Code.INVALID_ARGUMENT, "sha256:nothex");
  }

  @Test
  void updateReplacesLabelsWithAnEmptyMaskAndEditsNamedLabels() {
    Digest d = put(bytes(10, 3), Map.of("k1", "v1", "k2", "v2"));

    Info replaced = blocking.update(UpdateRequest.newBuilder()
        .setInfo(Info.newBuilder().setDigest(d.toString()).putLabels("k3", "v3")).build())
        .getInfo();
    assertThat(replaced.getLabelsMap()).isEqualTo(Map.of("k3", "v3"));

    Info edited = blocking.update(UpdateRequest.newBuilder()
        .setInfo(Info.newBuilder().setDigest(d.toString()).putLabels("k1", "new"))
        .setUpdateMask(FieldMask.newBuilder().addPaths("labels.k1").addPaths("labels.k3"))
        .build()).getInfo();
    assertThat(edited.getLabelsMap()).isEqualTo(Map.of("k1", "new"));
    assertThat(store.info(d).labels()).isEqualTo(Map.of("k1", "new"));
    assertThat(Protos.instant(edited.getUpdatedAt()))
        .isAfterOrEqualTo(Protos.instant(edited.getCreatedAt()));

    assertCode(() -> blocking.update(UpdateRequest.newBuilder()
        .setInfo(Info.newBuilder().setDigest(d.toString()))
        .setUpdateMask(FieldMask.newBuilder().addPaths("size")).build()),
        Code.INVALID_ARGUMENT, "size");
    String unknown = Digest.of(bytes(10, 4)).toString();
    assertCode(() -> blocking.update(UpdateRequest.newBuilder()
        .setInfo(Info.newBuilder().setDigest(unknown)).build()), Code.NOT_FOUND, unknown);
  }

  @Test
  void listStreamsInfosInBatchesAndHonoursFilters() {
    List<Digest> all = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      all.add(writeThroughTheService("ns/1/list-" + i, bytes(100 + i, 10 + i),
          i % 2 == 0 ? Map.of("even", "yes") : Map.of()));
    }

    List<ListContentResponse> batches = new ArrayList<>();
    blocking.list(ListContentRequest.getDefaultInstance()).forEachRemaining(batches::add);
    assertThat(batches).hasSize(3); // batches of 2 in this test's settings
    assertThat(digests(batches)).containsExactlyInAnyOrderElementsOf(strings(all));
    assertThat(batches.get(0).getInfo(0).getSize()).isBetween(100L, 104L);

    List<ListContentResponse> even = new ArrayList<>();
    blocking.list(ListContentRequest.newBuilder().addFilters("labels.even==yes").build())
        .forEachRemaining(even::add);
    assertThat(digests(even))
        .containsExactlyInAnyOrderElementsOf(strings(List.of(all.get(0), all.get(2), all.get(4))));

    List<ListContentResponse> either = new ArrayList<>();
    blocking.list(ListContentRequest.newBuilder().addFilters("digest==" + all.get(1))
        .addFilters("digest==" + all.get(3)).build()).forEachRemaining(either::add);
    assertThat(digests(either)).containsExactlyInAnyOrderElementsOf(
        strings(List.of(all.get(1), all.get(3))));

    assertCode(() -> blocking.list(ListContentRequest.newBuilder().addFilters("labels.=").build())
        .forEachRemaining(r -> { }), Code.INVALID_ARGUMENT, "labels.=");
  }

  @Test
  void listShowsOnlyWhatThisServerHoldsAndStillStored() {
    Digest held = writeThroughTheService("ns/1/held", bytes(300, 57));
    Digest gone = writeThroughTheService("ns/1/gone", bytes(300, 58));
    Digest outside = put(bytes(300, 59), Map.of()); // another host's, or coffer put's
    store.delete(gone); // deleted outside containerd (coffer rm)

    List<ListContentResponse> listed = new ArrayList<>();
    blocking.list(ListContentRequest.getDefaultInstance()).forEachRemaining(listed::add);

    assertThat(digests(listed)).containsExactly(held.toString());
    assertThat(listed.get(0).getInfo(0).getSize()).isEqualTo(300);
    assertThat(store.info(outside).size()).isEqualTo(300);
  }

  @Test
  void deleteRemovesABlobWrittenThroughTheServiceAndNoOther() {
    Digest d = writeThroughTheService("ns/1/held", bytes(10, 5));
    Digest other = put(bytes(10, 55), Map.of());
    blocking.delete(DeleteContentRequest.newBuilder().setDigest(d.toString()).build());
    blocking.delete(DeleteContentRequest.newBuilder().setDigest(other.toString()).build());

    assertThat(store.listStatuses()).isEmpty();
    assertCode(() -> blocking.info(InfoRequest.newBuilder().setDigest(d.toString()).build()),
        Code.NOT_FOUND, d.toString());
    assertThat(store.info(other).size()).isEqualTo(10);
    // containerd's collector stops at the first error: a delete of what is gone is no error.
    blocking.delete(DeleteContentRequest.newBuilder().setDigest(d.toString()).build());
  }

  @Test
  void aReleaseThatLostEveryRaceIsRetriedByTheNextDelete() {
    Digest d = writeThroughTheService("ns/1/contended", bytes(10, 56));
    DeleteContentRequest delete = DeleteContentRequest.newBuilder().setDigest(d.toString()).build();
    intercepting.failWith("deref", new AbortedException("lost every race on " + d));
    assertCode(() -> blocking.delete(delete), Code.ABORTED, "lost every race");
    assertThat(store.info(d).refCount()).isEqualTo(1);

    intercepting.failWith("none", null);
    blocking.delete(delete);
    assertCode(() -> blocking.info(InfoRequest.newBuilder().setDigest(d.toString()).build()),
        Code.NOT_FOUND, d.toString());
  }

  /**
   * PROTO-3: a release whose deref may still land (Unknown) is not held again, so the next
   * collection cannot release the same reference a second time; the blob stays over-referenced.
   */
  @Test
  void aReleaseWhoseOutcomeIsUnknownIsNeverSentAgain() {
    Digest d = writeThroughTheService("ns/1/unknown", bytes(10, 57));
    DeleteContentRequest delete = DeleteContentRequest.newBuilder().setDigest(d.toString()).build();
    intercepting.failWith("deref", new UnknownException("a write of " + d + " may still land"));
    assertCode(() -> blocking.delete(delete), Code.UNKNOWN, "backing storage failed");

    intercepting.failWith("none", null);
    blocking.delete(delete);
    assertThat(store.info(d).refCount()).isEqualTo(1);
  }

  // ---- Read

  @Test
  void readStreamsAMultiMebibyteBlobWithOffsetAndSize() {
    byte[] bytes = bytes(3 * (1 << 20) + 123, 6);
    Digest d = put(bytes, Map.of());

    assertThat(read(d, 0, 0)).isEqualTo(bytes);
    assertThat(read(d, 100_000, 1_500_000))
        .isEqualTo(java.util.Arrays.copyOfRange(bytes, 100_000, 1_600_000));
    assertThat(read(d, 3_000_000, 0))
        .isEqualTo(java.util.Arrays.copyOfRange(bytes, 3_000_000, bytes.length));
    // A size past the end reads to the end, as containerd's server.
    assertThat(read(d, bytes.length - 10, 1000))
        .isEqualTo(java.util.Arrays.copyOfRange(bytes, bytes.length - 10, bytes.length));
    assertThat(read(d, bytes.length, 0)).isEmpty();

    List<ReadContentResponse> messages = new ArrayList<>();
    blocking.read(ReadContentRequest.newBuilder().setDigest(d.toString()).setOffset(10).build())
        .forEachRemaining(messages::add);
    long expectedOffset = 10;
    for (ReadContentResponse m : messages) {
      assertThat(m.getOffset()).isEqualTo(expectedOffset);
      assertThat(m.getData().size()).isBetween(1, CHUNK);
      expectedOffset += m.getData().size();
    }
    assertThat(expectedOffset).isEqualTo(bytes.length);
  }

  @Test
  void readsOfOneBlobShareOneReader() {
    byte[] bytes = bytes(320 << 10, 60);
    Digest d = put(bytes, Map.of());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int offset = 0; offset < bytes.length; offset += 32 << 10) { // as containerd reads
      out.writeBytes(read(d, offset, 32 << 10));
    }
    assertThat(out.toByteArray()).isEqualTo(bytes);
    assertThat(intercepting.readersOpened.get()).isEqualTo(1);
    assertThat(intercepting.readersClosed.get()).isZero();

    service.close(); // closes the idle reader; idempotent
    service.close();
    assertThat(intercepting.readersClosed.get()).isEqualTo(1);
  }

  @Test
  void aSharedReaderKeptBusyStopsServingABlobDeletedElsewhereAfterTheRecheckBound()
      throws Exception {
    AtomicLong nanos = new AtomicLong();
    shutDown();
    serve(new ContentService(store, settings, Holds.inMemory(), IngestScope.NONE,
        WriteSessions.CLOSE_WAIT_DEFAULT, nanos::get));
    byte[] bytes = bytes(64 << 10, 61);
    Digest d = put(bytes, Map.of());
    assertThat(read(d, 0, 32 << 10)).isEqualTo(slice(bytes, 0, 32 << 10));

    // Deleted by someone else (another host's store on the same bucket): the server's holds know
    // nothing of it. The in-memory store's open reader goes on serving the bytes it holds.
    store.delete(d);
    assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);

    // A reader read every 4 s never goes idle (5 s); within the bound it still serves, unchecked.
    long step = Duration.ofSeconds(4).toNanos();
    while (nanos.get() + step < ReaderCache.RECHECK_AFTER.toNanos()) {
      nanos.addAndGet(step);
      assertThat(read(d, 32 << 10, 32 << 10)).isEqualTo(slice(bytes, 32 << 10, 64 << 10));
    }
    assertThat(intercepting.readersOpened.get()).isEqualTo(1);

    nanos.addAndGet(step);
    assertCode(() -> read(d, 32 << 10, 32 << 10), Code.NOT_FOUND, d.toString());
    assertCode(() -> read(d, 0, 0), Code.NOT_FOUND, d.toString());
    assertThat(intercepting.readersOpened.get()).isEqualTo(1);
    assertThat(intercepting.readersClosed.get()).as("the stale reader is closed").isEqualTo(1);
  }

  @Test
  void aSharedReaderOfAStoredBlobIsCheckedOncePerBound() throws Exception {
    AtomicLong nanos = new AtomicLong();
    shutDown();
    serve(new ContentService(store, settings, Holds.inMemory(), IngestScope.NONE,
        WriteSessions.CLOSE_WAIT_DEFAULT, nanos::get));
    byte[] bytes = bytes(32 << 10, 62);
    Digest d = put(bytes, Map.of());
    long infosBefore = intercepting.calls("info");
    long step = Duration.ofSeconds(4).toNanos();
    int reads = 0;
    while (nanos.get() < 2 * ReaderCache.RECHECK_AFTER.toNanos() + step) {
      assertThat(read(d, 0, 0)).isEqualTo(bytes);
      reads++;
      nanos.addAndGet(step);
    }
    assertThat(reads).isGreaterThan(30);
    assertThat(intercepting.calls("info") - infosBefore).isEqualTo(2);
    assertThat(intercepting.readersOpened.get()).isEqualTo(1);
  }

  @Test
  void readPastTheEndOrOfAnUnknownBlobFails() {
    Digest d = put(bytes(100, 7), Map.of());
    assertCode(() -> read(d, 101, 0), Code.OUT_OF_RANGE, d.toString());
    Digest unknown = Digest.of(bytes(100, 8));
    assertCode(() -> read(unknown, 0, 0), Code.NOT_FOUND, unknown.toString());
  }

  @Test
  void readReadsFromTheStoreOnlyAsFastAsTheClientTakes() throws Exception {
    byte[] bytes = bytes(8 << 20, 9);
    Digest d = put(bytes, Map.of());
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    CompletableFuture<Void> done = new CompletableFuture<>();
    CompletableFuture<Void> first = new CompletableFuture<>();
    ClientCallStreamObserver<?>[] call = new ClientCallStreamObserver<?>[1];
    async.read(ReadContentRequest.newBuilder().setDigest(d.toString()).build(),
        new ClientResponseObserver<ReadContentRequest, ReadContentResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<ReadContentRequest> requestStream) {
            call[0] = requestStream;
            requestStream.disableAutoRequestWithInitial(1);
          }

          @Override
          public void onNext(ReadContentResponse value) {
            received.writeBytes(value.getData().toByteArray());
            first.complete(null);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(null);
          }
        });
    first.get(30, TimeUnit.SECONDS);
    // A server that ignored flow control would run ahead and read all 8 MiB meanwhile.
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(intercepting.bytesRead.get())
            .isLessThanOrEqualTo(4L * CHUNK));

    call[0].request(Integer.MAX_VALUE);
    done.get(30, TimeUnit.SECONDS);
    assertThat(received.toByteArray()).isEqualTo(bytes);
  }

  // ---- Status, ListStatuses, Abort

  @Test
  void statusListStatusesAndAbortOfIngests() {
    try (WriteStream w = stream()) {
      w.stat("ns/1/layer");
      w.write(0, bytes(100, 11));
      w.halfClose();
    }
    try (WriteStream w = stream()) {
      w.stat("ns/2/config");
      w.halfClose();
    }

    var status = blocking.status(StatusRequest.newBuilder().setRef("ns/1/layer").build())
        .getStatus();
    assertThat(status.getRef()).isEqualTo("ns/1/layer");
    assertThat(status.getOffset()).isEqualTo(100);
    assertThat(Protos.instant(status.getUpdatedAt()))
        .isAfterOrEqualTo(Protos.instant(status.getStartedAt()));

    assertThat(blocking.listStatuses(ListStatusesRequest.getDefaultInstance()).getStatusesList())
        .extracting(s -> s.getRef()).containsExactlyInAnyOrder("ns/1/layer", "ns/2/config");
    assertThat(blocking.listStatuses(ListStatusesRequest.newBuilder()
        .addFilters("ref~=config").build()).getStatusesList())
        .extracting(s -> s.getRef()).containsExactly("ns/2/config");

    blocking.abort(AbortRequest.newBuilder().setRef("ns/1/layer").build());
    assertCode(() -> blocking.status(StatusRequest.newBuilder().setRef("ns/1/layer").build()),
        Code.NOT_FOUND, "ns/1/layer");
    assertCode(() -> blocking.abort(AbortRequest.newBuilder().setRef("ns/1/layer").build()),
        Code.NOT_FOUND, "ns/1/layer");
    assertThat(store.listStatuses()).extracting(s -> s.ref()).containsExactly("ns/2/config");
  }

  @Test
  void abortOfALockedRefIsUnavailable() {
    try (WriteStream w = stream()) {
      w.stat("locked");
      assertCode(() -> blocking.abort(AbortRequest.newBuilder().setRef("locked").build()),
          Code.UNAVAILABLE, "locked");
    }
  }

  // ---- Write

  @Test
  void writeStatWriteCommit() {
    byte[] bytes = bytes(300_000, 12);
    Digest d = Digest.of(bytes);
    try (WriteStream w = stream()) {
      WriteContentResponse stat = w.send(WriteContentRequest.newBuilder()
          .setAction(WriteAction.STAT).setRef("ns/1/blob").setTotal(bytes.length)
          .setExpected(d.toString()).build());
      assertThat(stat.getAction()).isEqualTo(WriteAction.STAT);
      assertThat(stat.getOffset()).isZero();
      assertThat(stat.getTotal()).isEqualTo(bytes.length);
      assertThat(stat.getDigest()).isEqualTo(Digest.EMPTY_SHA256.toString());
      assertThat(stat.getStartedAt()).isEqualTo(stat.getUpdatedAt());
      assertThat(store.status("ns/1/blob").offset()).isZero();

      WriteContentResponse first = w.write(0, slice(bytes, 0, 100_000));
      assertThat(first.getAction()).isEqualTo(WriteAction.WRITE);
      assertThat(first.getOffset()).isEqualTo(100_000);
      assertThat(first.getDigest()).isEqualTo(Digest.of(slice(bytes, 0, 100_000)).toString());
      WriteContentResponse second = w.write(100_000, slice(bytes, 100_000, bytes.length));
      assertThat(second.getOffset()).isEqualTo(bytes.length);

      WriteContentResponse commit =
          w.commit(bytes.length, bytes.length, d.toString(), Map.of("containerd.io/gc.root", "x"));
      assertThat(commit.getAction()).isEqualTo(WriteAction.COMMIT);
      assertThat(commit.getOffset()).isEqualTo(bytes.length);
      assertThat(commit.getDigest()).isEqualTo(d.toString());
      assertThat(w.completed()).isTrue();
    }
    assertThat(Content.readBlob(store, Descriptor.of(d))).isEqualTo(bytes);
    assertThat(store.info(d).labels()).isEqualTo(Map.of("containerd.io/gc.root", "x"));
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  void commitWithDataInTheSameMessageAndNoExpectations() {
    byte[] bytes = bytes(5000, 13);
    try (WriteStream w = stream()) {
      WriteContentResponse commit = w.send(WriteContentRequest.newBuilder()
          .setAction(WriteAction.COMMIT).setRef("one-shot")
          .setData(ByteString.copyFrom(bytes)).build());
      assertThat(commit.getOffset()).isEqualTo(5000);
      assertThat(commit.getDigest()).isEqualTo(Digest.of(bytes).toString());
      assertThat(w.completed()).isTrue();
    }
    assertThat(store.info(Digest.of(bytes)).size()).isEqualTo(5000);
  }

  @Test
  void writeResumesAtTheOffsetOfAnEarlierStream() {
    byte[] bytes = bytes(200_000, 14);
    Digest d = Digest.of(bytes);
    WriteContentResponse started;
    try (WriteStream w = stream()) {
      started = w.stat("resume-me");
      w.write(0, slice(bytes, 0, 80_000));
      w.halfClose();
    }
    assertThat(store.status("resume-me").offset()).isEqualTo(80_000);

    try (WriteStream w = stream()) {
      WriteContentResponse stat = w.stat("resume-me");
      assertThat(stat.getOffset()).isEqualTo(80_000);
      assertThat(stat.getDigest()).isEqualTo(Digest.of(slice(bytes, 0, 80_000)).toString());
      assertThat(stat.getStartedAt()).isEqualTo(started.getStartedAt());

      assertThat(w.write(80_000, slice(bytes, 80_000, bytes.length)).getOffset())
          .isEqualTo(bytes.length);
      assertThat(w.commit(bytes.length, bytes.length, d.toString(), Map.of()).getDigest())
          .isEqualTo(d.toString());
    }
    assertThat(Content.readBlob(store, Descriptor.of(d))).isEqualTo(bytes);
  }

  @Test
  void cancelledStreamKeepsTheIngestAndReleasesTheRef() throws Exception {
    WriteStream w = stream();
    w.stat("cancelled");
    w.write(0, bytes(1000, 15));
    w.close();
    // The server sees the cancellation asynchronously; the ref is free once it has.
    Writer writer = Content.openWriter(store, "cancelled", Descriptor.UNKNOWN,
        Duration.ofSeconds(10));
    try (writer) {
      assertThat(writer.status().offset()).isEqualTo(1000);
    }
  }

  @Test
  void writeAtAWrongOffsetIsOutOfRangeAndKeepsTheIngest() {
    try (WriteStream w = stream()) {
      w.stat("gap");
      w.write(0, bytes(100, 16));
      assertCode(() -> w.write(150, bytes(10, 17)), Code.OUT_OF_RANGE, "150");
    }
    assertThat(store.status("gap").offset()).isEqualTo(100);
  }

  @Test
  void writeAtOffsetZeroTruncatesANonEmptyIngest() {
    byte[] replacement = bytes(300, 18);
    try (WriteStream w = stream()) {
      w.stat("restart");
      w.write(0, bytes(1000, 19));
      WriteContentResponse restarted = w.write(0, replacement);
      assertThat(restarted.getOffset()).isEqualTo(300);
      assertThat(restarted.getDigest()).isEqualTo(Digest.of(replacement).toString());
      assertThat(w.commit(300, 300, "", Map.of()).getDigest())
          .isEqualTo(Digest.of(replacement).toString());
    }
    assertThat(Content.readBlob(store, Descriptor.of(Digest.of(replacement))))
        .isEqualTo(replacement);
  }

  @Test
  void firstMessageWithoutARefIsInvalid() {
    try (WriteStream w = stream()) {
      assertCode(() -> w.send(WriteContentRequest.newBuilder().setAction(WriteAction.WRITE)
          .setData(ByteString.copyFromUtf8("x")).build()), Code.INVALID_ARGUMENT, "ref");
    }
  }

  @Test
  void secondWriterOfALockedRefIsUnavailable() {
    try (WriteStream holder = stream(); WriteStream other = stream()) {
      holder.stat("busy");
      assertCode(() -> other.stat("busy"), Code.UNAVAILABLE, "busy");
      holder.halfClose();
    }
    try (WriteStream again = stream()) {
      assertThat(again.stat("busy").getOffset()).isZero();
    }
  }

  @Test
  void commitErrorsCarryTheStoreClass() {
    byte[] bytes = bytes(256, 20);
    Digest d = put(bytes, Map.of());

    // Opening with the digest of stored content.
    try (WriteStream w = stream()) {
      assertCode(() -> w.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT)
          .setRef("dup").setExpected(d.toString()).build()), Code.ALREADY_EXISTS, d.toString());
    }
    // Committing content that turns out to be stored: ALREADY_EXISTS, as containerd's own server
    // answers, and this host now holds it as well.
    try (WriteStream w = stream()) {
      w.stat("dup");
      w.write(0, bytes);
      assertCode(() -> w.commit(256, 256, "", Map.of()), Code.ALREADY_EXISTS, d.toString());
    }
    assertThat(store.listStatuses()).isEmpty(); // the ingest is discarded
    assertThat(store.info(d).refCount()).isEqualTo(2); // its hold and the pin of a put blob
    // A digest or size mismatch keeps the ingest.
    Digest other = Digest.of(bytes(256, 21));
    try (WriteStream w = stream()) {
      w.stat("mismatch");
      w.write(0, bytes(256, 22));
      assertCode(() -> w.commit(256, 256, other.toString(), Map.of()),
          Code.FAILED_PRECONDITION, other.toString());
    }
    try (WriteStream w = stream()) {
      w.stat("mismatch");
      assertCode(() -> w.commit(256, 300, "", Map.of()), Code.FAILED_PRECONDITION, "300");
    }
    assertThat(store.status("mismatch").offset()).isEqualTo(256);
    // A malformed expected digest.
    try (WriteStream w = stream()) {
      assertCode(() -> w.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT)
          .setRef("bad").setExpected("md5:abc").build()), Code.INVALID_ARGUMENT, "md5:abc");
    }
  }

  @Test
  void commitOfContentThisHostHoldsIsAlreadyExistsAndDiscardsTheIngest() {
    byte[] bytes = bytes(256, 24);
    Digest d = writeThroughTheService("ns/1/first", bytes);
    // containerd's CommitExists: the same bytes again, committed with and without the digest.
    for (String expected : List.of(d.toString(), "")) {
      try (WriteStream w = stream()) {
        w.stat("ns/2/again");
        w.write(0, bytes);
        assertCode(() -> w.commit(256, 256, expected, Map.of()), Code.ALREADY_EXISTS,
            d.toString());
      }
      assertThat(store.listStatuses()).as("ingest discarded").isEmpty();
      assertThat(store.info(d).refCount()).as("held once").isEqualTo(1);
    }
    blocking.delete(DeleteContentRequest.newBuilder().setDigest(d.toString()).build());
    assertCode(() -> blocking.info(InfoRequest.newBuilder().setDigest(d.toString()).build()),
        Code.NOT_FOUND, d.toString());
  }

  @Test
  void reopenOfARefWhoseWriterIsClosingWaitsForTheClose() throws Exception {
    WriteStream first = stream();
    first.stat("ns/1/resumed");
    first.write(0, bytes(128, 25));
    CountDownLatch gate = new CountDownLatch(1);
    intercepting.closeGate.set(gate);
    intercepting.writerCalls.drainPermits();
    first.halfCloseAndGo();
    assertThat(intercepting.closesEntered.tryAcquire(30, TimeUnit.SECONDS))
        .as("the server is closing the writer").isTrue();

    WriteStream second = stream();
    second.sendAndGo(WriteContentRequest.newBuilder().setAction(WriteAction.STAT)
        .setRef("ns/1/resumed").build());
    assertThat(intercepting.writerCalls.tryAcquire(30, TimeUnit.SECONDS))
        .as("the reopen reached the store while the close was under way").isTrue();
    gate.countDown();

    WriteContentResponse stat = second.reply();
    assertThat(stat.getOffset()).isEqualTo(128);
    assertThat(stat.getDigest()).isEqualTo(Digest.of(bytes(128, 25)).toString());
    assertThat(first.completed()).isTrue();
  }

  @Test
  void reopenWaitsForAClosingWriterOnlySoLong() throws Exception {
    shutDown();
    serve(new ContentService(store, settings, Holds.inMemory(), IngestScope.NONE,
        Duration.ofMillis(300)));
    WriteStream first = stream();
    first.stat("ns/1/stuck");
    first.write(0, bytes(10, 26));
    CountDownLatch gate = new CountDownLatch(1);
    intercepting.closeGate.set(gate);
    try {
      first.halfCloseAndGo();
      assertThat(intercepting.closesEntered.tryAcquire(30, TimeUnit.SECONDS)).isTrue();
      WriteStream second = stream();
      assertCode(() -> second.stat("ns/1/stuck"), Code.UNAVAILABLE,
          "ref \"ns/1/stuck\" is still being closed by an earlier stream after 300 ms");
    } finally {
      gate.countDown();
    }
    assertThat(first.completed()).isTrue();
  }

  // ---- error classes the in-memory store never raises

  @Test
  void backendFailuresAreNeverUnavailable() {
    Digest d = Digest.of(bytes(10, 23));
    InfoRequest request = InfoRequest.newBuilder().setDigest(d.toString()).build();

    intercepting.failWith("info", new UnknownException("bucket said 500 for " + d));
    assertCode(() -> blocking.info(request), Code.UNKNOWN, "backing storage failed (UNKNOWN)");
    intercepting.failWith("info", new AbortedException("lost every race on " + d));
    assertCode(() -> blocking.info(request), Code.ABORTED, "lost every race");
    intercepting.failWith("info", new PermissionDeniedException("access denied to " + d));
    assertCode(() -> blocking.info(request), Code.PERMISSION_DENIED,
        "backing storage failed (PERMISSION_DENIED)");
    intercepting.failWith("info", new IllegalStateException("a bug"));
    assertCode(() -> blocking.info(request), Code.UNKNOWN, "backing storage failed (UNKNOWN)");
  }

  @Test
  void corruptContentIsDataLossNamingTheDigest() {
    // INT-2: the store found bytes that do not hash to their digest; containerd's DataLoss.
    Digest d = put(bytes(100, 41), Map.of());
    Digest actual = Digest.of(bytes(100, 42));
    intercepting.failWith("readerAt", DataLossException.digestMismatch(d, actual));
    assertCode(() -> read(d, 0, 0), Code.DATA_LOSS, "hash to " + actual);
  }

  /** SEC-6. */
  @Test
  void descriptionsNeverNameTheBucketOrKeysBehindTheStore() {
    Digest d = Digest.of(bytes(10, 24));
    InfoRequest request = InfoRequest.newBuilder().setDigest(d.toString()).build();
    // What the S3 store's one translation makes of S3 answers: the request's key, the SDK's text.
    RuntimeException s3 = new RuntimeException("The bucket secret-bucket denied it (Status 403)");
    List<RuntimeException> failures = List.of(
        new PermissionDeniedException("reading farm/index/sha256/" + d.hex() + ": "
            + s3.getMessage(), s3),
        new UnknownException("reading farm/blobs/sha256/" + d.hex() + ": bytes 0-9 of 10"),
        new NotFoundException("reading farm/index/sha256/" + d.hex() + ": 404", s3),
        new UnavailableException("writing farm/ingest/x/state: 503 SlowDown", s3),
        new AbortedException("writing farm/index/sha256/" + d.hex() + ": 412", s3),
        new java.io.UncheckedIOException("secret-bucket",
            new java.io.IOException("farm/blobs/sha256/" + d.hex())));
    for (RuntimeException failure : failures) {
      intercepting.failWith("info", failure);
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
          () -> blocking.info(request));
      assertThat(e.getStatus().getDescription()).as("%s", failure)
          .doesNotContain("secret-bucket").doesNotContain("farm/")
          .contains("the server's log has the details");
    }
    // The store's own findings still name the digest.
    intercepting.failWith("info", new NotFoundException("blob " + d + " not found"));
    assertCode(() -> blocking.info(request), Code.NOT_FOUND, d.toString());
  }

  // ---- helpers

  private WriteStream stream() {
    WriteStream w = new WriteStream(async);
    streams.add(w);
    return w;
  }

  /** Writes and commits {@code bytes} through a Write stream, as containerd does. */
  private Digest writeThroughTheService(String ref, byte[] bytes) {
    return writeThroughTheService(ref, bytes, Map.of());
  }

  private Digest writeThroughTheService(String ref, byte[] bytes, Map<String, String> labels) {
    Digest d = Digest.of(bytes);
    try (WriteStream w = stream()) {
      w.stat(ref);
      w.write(0, bytes);
      w.commit(bytes.length, bytes.length, d.toString(), labels);
    }
    return d;
  }

  private Digest put(byte[] bytes, Map<String, String> labels) {
    Digest d = Digest.of(bytes);
    try (Writer w = store.writer("put-" + d.hex(), Descriptor.of(d, bytes.length))) {
      w.write(bytes);
      w.commit(bytes.length, d, labels);
    }
    return d;
  }

  private byte[] read(Digest d, long offset, long size) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Iterator<ReadContentResponse> it = blocking.read(ReadContentRequest.newBuilder()
        .setDigest(d.toString()).setOffset(offset).setSize(size).build());
    it.forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
    return out.toByteArray();
  }

  static void assertCode(Runnable call, Code code, String inDescription) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("expected %s", code).isNotNull();
    assertThat(e.getStatus().getCode()).isEqualTo(code);
    assertThat(e.getStatus().getDescription()).contains(inDescription);
  }

  static void assertCode(Supplier<?> call, Code code, String inDescription) {
    assertCode((Runnable) call::get, code, inDescription);
  }

  static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] slice(byte[] bytes, int from, int to) {
    return java.util.Arrays.copyOfRange(bytes, from, to);
  }

  private static List<String> digests(List<ListContentResponse> batches) {
    return batches.stream().flatMap(b -> b.getInfoList().stream()).map(Info::getDigest).toList();
  }

  private static List<String> strings(List<Digest> digests) {
    return digests.stream().map(Digest::toString).toList();
  }
}
