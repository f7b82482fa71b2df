package dev.coffer.store.grpc;

import static dev.coffer.store.grpc.ContentServiceTest.assertCode;
import static dev.coffer.store.grpc.ContentServiceTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Writer;
import dev.coffer.store.grpc.proto.AbortRequest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.DeleteContentRequest;
import dev.coffer.store.grpc.proto.ListContentRequest;
import dev.coffer.store.grpc.proto.ListStatusesRequest;
import dev.coffer.store.grpc.proto.ReadContentRequest;
import dev.coffer.store.grpc.proto.StatusRequest;
import dev.coffer.store.grpc.proto.WriteAction;
import dev.coffer.store.grpc.proto.WriteContentRequest;
import dev.coffer.store.memory.MemoryStores;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two content services with their own holds and ingest scopes over one in-memory store, as two
 * hosts' containerd over one bucket: a Delete from one host releases only what that host holds, and
 * each host sees and aborts only its own ingests.
 */
class SharedStoreHoldsTest {

  private static final AtomicInteger REFS = new AtomicInteger();

  @TempDir
  Path temp;

  private ContentStore store;
  private final List<Host> hosts = new ArrayList<>();
  private Host a;
  private Host b;

  @BeforeEach
  void start() throws Exception {
    store = MemoryStores.open();
    a = host("a", Holds.inDirectory(temp.resolve("a")));
    b = host("b", Holds.inMemory());
  }

  @AfterEach
  void stop() throws Exception {
    for (Host host : hosts) {
      host.close();
    }
    store.close();
  }

  @Test
  void oneHostsDeleteLeavesABlobTheOtherHolds() {
    byte[] bytes = bytes(100_000, 1);
    Digest d = a.write(bytes);
    assertThat(store.info(d).refCount()).isEqualTo(1);
    assertThat(b.write(bytes)).isEqualTo(d); // stored already: held, and ALREADY_EXISTS
    assertThat(store.info(d).refCount()).isEqualTo(2);

    a.delete(d);
    assertThat(store.info(d).refCount()).isEqualTo(1);
    assertThat(b.read(d)).isEqualTo(bytes);
    a.delete(d); // a second delete from a holds nothing: no change
    assertThat(store.info(d).refCount()).isEqualTo(1);

    b.delete(d);
    assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
    assertCode(() -> b.read(d), Code.NOT_FOUND, d.toString());
  }

  @Test
  void anOpenThatFindsTheBlobStoredHoldsIt() {
    byte[] bytes = bytes(5000, 2);
    Digest d = a.write(bytes);
    for (int i = 0; i < 2; i++) { // once held, a second open takes nothing more
      try (WriteStream w = new WriteStream(b.stub)) {
        assertCode(() -> w.send(WriteContentRequest.newBuilder().setAction(WriteAction.STAT)
            .setRef("b-ref").setTotal(bytes.length).setExpected(d.toString()).build()),
            Code.ALREADY_EXISTS, d.toString());
      }
    }
    assertThat(store.info(d).refCount()).isEqualTo(2);
    a.delete(d);
    assertThat(b.read(d)).isEqualTo(bytes);
    b.delete(d);
    assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void aCommitOfContentAnotherHostHoldsIsAlreadyExistsAndHoldsItHereToo() {
    byte[] bytes = bytes(6000, 9);
    Digest d = a.write(bytes);
    try (WriteStream w = new WriteStream(b.stub)) {
      w.stat("ns/1/same-bytes"); // no digest at open, as behind containerd's metadata layer
      w.write(0, bytes);
      assertCode(() -> w.commit(bytes.length, bytes.length, "", Map.of()), Code.ALREADY_EXISTS,
          d.toString());
    }
    assertThat(store.listStatuses()).as("ingest discarded").isEmpty();
    assertThat(store.info(d).refCount()).as("held by a and b").isEqualTo(2);
    a.delete(d);
    assertThat(b.read(d)).isEqualTo(bytes);
    b.delete(d);
    assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void aHostWritingTheSameBlobTwiceHoldsItOnce() {
    byte[] bytes = bytes(3000, 3);
    Digest d = a.write(bytes);
    a.write(bytes);
    assertThat(store.info(d).refCount()).isEqualTo(1);
    a.delete(d);
    assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void aDeleteOfABlobTheHostNeverHeldLeavesIt() {
    byte[] bytes = bytes(2000, 4);
    Digest d = putWithoutReference(bytes); // as the CLI's put
    a.delete(d);
    b.delete(d);
    assertThat(store.info(d).refCount()).isZero();
    assertThat(Content.readBlob(store, Descriptor.of(d))).isEqualTo(bytes);
    // Unknown digests are not an error either: containerd's collector would stop at one.
    a.delete(Digest.of(bytes(10, 5)));
    assertCode(() -> a.blocking.delete(DeleteContentRequest.newBuilder().setDigest("sha256:xyz")
        .build()), Code.INVALID_ARGUMENT, "sha256:xyz");
  }

  @Test
  void aBlobStoredWithoutReferencesOutlivesTheHostsThatHeldIt() {
    byte[] bytes = bytes(4000, 6);
    Digest d = putWithoutReference(bytes);
    a.write(bytes);
    b.write(bytes);
    a.delete(d);
    b.delete(d);
    assertThat(Content.readBlob(store, Descriptor.of(d))).isEqualTo(bytes);
    assertThat(store.info(d).refCount()).isEqualTo(1); // the pin its first holder added
  }

  @Test
  void holdsInADirectorySurviveARestart() throws Exception {
    byte[] bytes = bytes(1000, 7);
    Digest d = a.write(bytes);
    b.write(bytes);
    assertThat(temp.resolve("a").resolve("sha256").resolve(d.hex())).isRegularFile();
    a.close();
    hosts.remove(a);
    Host restarted = host("a", Holds.inDirectory(temp.resolve("a")));

    restarted.delete(d);
    assertThat(Files.exists(temp.resolve("a").resolve("sha256").resolve(d.hex()))).isFalse();
    assertThat(store.info(d).refCount()).isEqualTo(1);
    b.delete(d);
    assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void aReleaseRacingAnotherHostsCommitLeavesTheBlobHeld() throws Exception {
    for (int i = 0; i < 40; i++) {
      byte[] bytes = bytes(2000 + i, 100 + i);
      Digest d = a.write(bytes);
      CompletableFuture<Void> release = CompletableFuture.runAsync(() -> a.delete(d));
      CompletableFuture<Digest> commit = CompletableFuture.supplyAsync(() -> b.write(bytes));
      release.get(30, TimeUnit.SECONDS);
      assertThat(commit.get(30, TimeUnit.SECONDS)).isEqualTo(d);

      assertThat(store.info(d).refCount()).as("round %d", i).isEqualTo(1);
      assertThat(b.read(d)).as("round %d", i).isEqualTo(bytes);
      b.delete(d);
      assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
    }
  }

  /** PROTO-1: host a's hold is of the blob's first life; host b's reference is of its second. */
  @Test
  void aHoldOfAnEarlierIncarnationNeverReleasesAnotherHostsReference() {
    byte[] bytes = bytes(1500, 14);
    Digest d = a.write(bytes);
    store.delete(d); // coffer rm
    b.write(bytes);
    assertThat(store.info(d).refCount()).isEqualTo(1);

    a.delete(d); // a's collection: a's hold went with the blob it was taken on

    assertThat(store.info(d).refCount()).isEqualTo(1);
    assertThat(b.read(d)).isEqualTo(bytes);
    assertThat(a.list()).isEmpty();
  }

  /** PROTO-1: a host that writes the blob again after it came back holds the new life. */
  @Test
  void aHostHoldingAnEarlierIncarnationTakesTheNewOneWhenItWritesAgain() {
    byte[] bytes = bytes(1600, 15);
    Digest d = a.write(bytes);
    store.delete(d);
    b.write(bytes);

    a.write(bytes); // ALREADY_EXISTS, and now a holds this life too

    assertThat(store.info(d).refCount()).isEqualTo(2);
    b.delete(d);
    assertThat(a.read(d)).isEqualTo(bytes);
    a.delete(d);
    assertThatThrownBy(() -> store.info(d)).isInstanceOf(NotFoundException.class);
  }

  /**
   * PROTO-8: whether a blob needs a pin is read from the count the reference-taking call returned,
   * not from an info a cache may have kept for seconds: a host whose cached info still says "no
   * reference" adds no second pin to a blob another host has pinned meanwhile.
   */
  @Test
  void thePinDecisionReadsTheFreshCountNotACachedInfo() throws Exception {
    byte[] bytes = bytes(1700, 16);
    Digest d = putWithoutReference(bytes);
    ContentStore cached = withInfosKeptForever(store);
    assertThat(cached.info(d).refCount()).isZero(); // what a cache keeps for its TTL
    Host c = host("c", cached, Holds.inMemory());

    a.write(bytes); // a's reference and the pin
    c.write(bytes); // c's reference; its cached info still says none

    assertThat(store.info(d).refCount()).isEqualTo(3);
    a.delete(d);
    c.delete(d);
    assertThat(store.info(d).refCount()).isEqualTo(1); // the one pin, as stored by the CLI + 1
    assertThat(Content.readBlob(store, Descriptor.of(d))).isEqualTo(bytes);
  }

  /** {@code store}, except that {@code info} answers what it answered the first time. */
  private static ContentStore withInfosKeptForever(ContentStore store) {
    Map<Object, Object> infos = new java.util.concurrent.ConcurrentHashMap<>();
    return (ContentStore) java.lang.reflect.Proxy.newProxyInstance(
        ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
        (proxy, method, args) -> {
          try {
            if (method.getName().equals("info")) {
              Object known = infos.get(args[0]);
              if (known != null) {
                return known;
              }
              Object info = method.invoke(store, args);
              infos.put(args[0], info);
              return info;
            }
            return method.invoke(store, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @Test
  void eachHostListsOnlyWhatItHolds() {
    Digest onA = a.write(bytes(700, 10));
    Digest onB = b.write(bytes(800, 11));
    Digest both = a.write(bytes(900, 12));
    b.write(bytes(900, 12));
    putWithoutReference(bytes(1000, 13));

    assertThat(a.list()).containsExactlyInAnyOrder(onA, both);
    assertThat(b.list()).containsExactlyInAnyOrder(onB, both);
    a.delete(both);
    assertThat(a.list()).containsExactly(onA);
    assertThat(b.list()).containsExactlyInAnyOrder(onB, both);
  }

  @Test
  void eachHostSeesAndAbortsOnlyItsOwnIngests() {
    byte[] bytes = bytes(1000, 8);
    // Both containerd daemons number their refs alike: the same ref on two hosts at once.
    try (WriteStream onA = new WriteStream(a.stub); WriteStream onB = new WriteStream(b.stub)) {
      onA.stat("default/1/layer");
      onA.write(0, slice(bytes, 0, 300));
      onB.stat("default/1/layer");
      onB.write(0, slice(bytes, 0, 700));
    }
    assertThat(store.listStatuses()).extracting(dev.coffer.store.Status::ref)
        .containsExactlyInAnyOrder("a/default/1/layer", "b/default/1/layer");
    var listedOnA = a.blocking.listStatuses(ListStatusesRequest.getDefaultInstance());
    assertThat(listedOnA.getStatusesList()).singleElement().satisfies(s -> {
      assertThat(s.getRef()).isEqualTo("default/1/layer");
      assertThat(s.getOffset()).isEqualTo(300);
    });
    assertThat(b.blocking.listStatuses(ListStatusesRequest.newBuilder()
        .addFilters("ref==default/1/layer").build()).getStatuses(0).getOffset()).isEqualTo(700);
    assertThat(a.blocking.status(StatusRequest.newBuilder().setRef("default/1/layer").build())
        .getStatus().getRef()).isEqualTo("default/1/layer");

    // What host a's collector does with an ingest its metadata does not know.
    a.blocking.abort(AbortRequest.newBuilder().setRef("default/1/layer").build());
    assertThat(store.listStatuses()).extracting(dev.coffer.store.Status::ref)
        .containsExactly("b/default/1/layer");
    assertThat(a.blocking.listStatuses(ListStatusesRequest.getDefaultInstance())
        .getStatusesList()).isEmpty();
  }

  private static byte[] slice(byte[] bytes, int from, int to) {
    return java.util.Arrays.copyOfRange(bytes, from, to);
  }

  private Digest putWithoutReference(byte[] bytes) {
    Digest d = Digest.of(bytes);
    try (Writer w = store.writer("cli-" + d.hex(), Descriptor.of(d, bytes.length))) {
      w.write(bytes);
      w.commit(bytes.length, d, null);
    }
    return d;
  }

  private Host host(String id, Holds holds) throws Exception {
    return host(id, store, holds);
  }

  private Host host(String id, ContentStore on, Holds holds) throws Exception {
    Host host = new Host(on, holds, IngestScope.of(id));
    hosts.add(host);
    return host;
  }

  /** One host's content service, reached through its own in-process channel. */
  private static final class Host implements AutoCloseable {
    private final ContentService service;
    private final Server server;
    private final ManagedChannel channel;
    private final ContentGrpc.ContentBlockingStub blocking;
    private final ContentGrpc.ContentStub stub;

    Host(ContentStore store, Holds holds, IngestScope scope) throws Exception {
      ServerSettings settings = new ServerSettings(null, -1, 64 << 10, 100,
          ContentServer.MAX_INBOUND_MESSAGE_BYTES_DEFAULT, Duration.ZERO, 4, Duration.ofSeconds(5));
      service = new ContentService(store, settings, holds, scope);
      String name = InProcessServerBuilder.generateName();
      server = InProcessServerBuilder.forName(name).addService(service)
          .callExecutor(ContentService.callExecutors()).build().start();
      channel = InProcessChannelBuilder.forName(name).build();
      blocking = ContentGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      stub = ContentGrpc.newStub(channel);
    }

    /**
     * Writes and commits {@code bytes} through a Write stream, as containerd's ingest; content
     * already stored (ALREADY_EXISTS) counts as written, as containerd takes it.
     */
    Digest write(byte[] bytes) {
      Digest d = Digest.of(bytes);
      try (WriteStream w = new WriteStream(stub)) {
        w.stat("ns/" + REFS.incrementAndGet() + "/blob");
        w.write(0, bytes);
        return Digest.parse(w.commit(bytes.length, bytes.length, d.toString(), Map.of())
            .getDigest());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Code.ALREADY_EXISTS) {
          throw e;
        }
        return d;
      }
    }

    void delete(Digest d) {
      blocking.delete(DeleteContentRequest.newBuilder().setDigest(d.toString()).build());
    }

    List<Digest> list() {
      List<Digest> listed = new ArrayList<>();
      blocking.list(ListContentRequest.getDefaultInstance()).forEachRemaining(r ->
          r.getInfoList().forEach(i -> listed.add(Digest.parse(i.getDigest()))));
      return listed;
    }

    byte[] read(Digest d) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      blocking.read(ReadContentRequest.newBuilder().setDigest(d.toString()).build())
          .forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
      return out.toByteArray();
    }

    @Override
    public void close() throws Exception {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      service.close();
    }
  }
}
