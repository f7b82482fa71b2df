package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Cascades of dereferences through links: a cycle terminates, a chain of a thousand links is
 * released completely, and a host killed in the middle of a cascade leaves every blob either live
 * with its count or in deletion, never a referenced blob removed.
 */
class CascadeIT {
  private static final GcOptions GC = new GcOptions(Duration.ofDays(1), false);

  private RefCountHosts hosts;
  private ExecutorService pool;

  @BeforeEach
  void setUp() {
    hosts = new RefCountHosts();
    pool = Executors.newFixedThreadPool(4);
  }

  @AfterEach
  void tearDown() {
    pool.shutdownNow();
    hosts.close();
  }

  private ContentStore host() {
    return hosts.own(S3Stores.open(S3Mock.get().config(hosts.bucket, hosts.prefix)
        .deletionGrace(Duration.ZERO).build()));
  }

  /** Blobs 0..n-1 with tiny contents, blob i linking to blob i+1; the caller holds blob 0. */
  private record Chain(List<Digest> digests, List<byte[]> contents) {
    Digest head() {
      return digests.get(0);
    }
  }

  /** Runs the tasks on the pool, four at a time, and returns their results in order. */
  private <T> List<T> inParallel(List<Callable<T>> tasks) throws Exception {
    List<T> results = new ArrayList<>();
    for (Future<T> f : pool.invokeAll(tasks)) {
      results.add(f.get());
    }
    return results;
  }

  private Chain chain(ContentStore store, String name, int length) throws Exception {
    List<byte[]> contents = new ArrayList<>();
    List<Callable<Digest>> commits = new ArrayList<>();
    for (int i = 0; i < length; i++) {
      byte[] bytes = (name + " " + i).getBytes(StandardCharsets.UTF_8);
      contents.add(bytes);
      String ref = name + "-" + i;
      commits.add(() -> RefCountHosts.commitAndRef(store, ref, bytes, null).digest());
    }
    List<Digest> digests = inParallel(commits);
    List<Callable<Void>> links = new ArrayList<>();
    for (int i = 0; i + 1 < length; i++) {
      Digest from = digests.get(i);
      Digest to = digests.get(i + 1);
      links.add(() -> {
        store.link(to, from); // only "from"'s record is written: no two tasks write one record
        return null;
      });
    }
    inParallel(links);
    return new Chain(digests, contents);
  }

  private void assertGone(ContentStore store, Digest digest) {
    assertThatThrownBy(() -> store.info(digest)).as("info of %s", digest)
        .isInstanceOf(NotFoundException.class);
  }

  /** Nothing left under blobs/ and index/ after the final gc, and fsck finds nothing. */
  private void assertEmptyAfterGc(ContentStore store, long expectedPurged) {
    assertThat(store.gc(GC).blobsPurged()).isEqualTo(expectedPurged);
    assertThat(hosts.plain.listObjectsV2(b -> b.bucket(hosts.bucket)
        .prefix(hosts.prefix + "blobs/")).contents()).as("keys under blobs/").isEmpty();
    assertThat(hosts.plain.listObjectsV2(b -> b.bucket(hosts.bucket)
        .prefix(hosts.prefix + "index/")).contents()).as("keys under index/").isEmpty();
    assertThat(store.fsck(false).findings()).isEmpty();
  }

  @Test
  void aDerefIntoALinkCycleTerminatesAndRemovesEveryBlobOfIt() throws Exception {
    ContentStore builder = host();
    ContentStore other = host();
    Chain ring = chain(builder, "ring", 5);
    // Close the ring: the last blob links back to the head, taking the caller's reference to it.
    builder.link(ring.head(), ring.digests().get(4));
    for (Digest d : ring.digests()) {
      Info info = builder.info(d);
      assertThat(info.refCount()).isEqualTo(1);
      assertThat(info.links()).hasSize(1);
    }
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> other.deref(ring.head()));
    ring.digests().forEach(d -> assertGone(builder, d));
    assertEmptyAfterGc(other, 5);
  }

  /**
   * Writes a chain as the store itself would hold it after commitAndRef and link: per blob the
   * blob object and its index record in the documented format (docs/architecture.md, "Records"), two PutObjects
   * instead of the seven requests of commitAndRef + link, which took 94 s for a thousand blobs on
   * S3Mock on this machine. The cascade under test then runs through the store alone.
   */
  private Chain writtenChain(String name, int length) throws Exception {
    List<byte[]> contents = new ArrayList<>();
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < length; i++) {
      byte[] bytes = (name + " " + i).getBytes(StandardCharsets.UTF_8);
      contents.add(bytes);
      digests.add(Digest.of(bytes));
    }
    long now = java.time.Instant.now().toEpochMilli() * 1_000_000L;
    List<Callable<Void>> writes = new ArrayList<>();
    for (int i = 0; i < length; i++) {
      Digest digest = digests.get(i);
      byte[] bytes = contents.get(i);
      String links = i + 1 < length ? "\"" + digests.get(i + 1) + "\"" : "";
      String record = "{\"version\":1,\"digest\":\"" + digest + "\",\"size\":" + bytes.length
          + ",\"createdAt\":" + now + ",\"updatedAt\":" + now + ",\"labels\":{}"
          + ",\"refCount\":1,\"links\":[" + links + "],\"state\":\"live\""
          + ",\"stateChangedAt\":" + now + "}";
      writes.add(() -> {
        hosts.plain.putObject(b -> b.bucket(hosts.bucket).key(hosts.blobKey(digest))
            .tagging("refs=1&state=live"), RequestBody.fromBytes(bytes));
        hosts.plain.putObject(b -> b.bucket(hosts.bucket).key(hosts.indexKey(digest)),
            RequestBody.fromString(record));
        return null;
      });
    }
    inParallel(writes);
    return new Chain(digests, contents);
  }

  @Test
  void aCascadeReleasesAChainOfAThousandLinks() throws Exception {
    int length = Math.max(1000, RefCountHosts.scaled(1000));
    long started = System.nanoTime();
    Chain chain = writtenChain("deep", length);
    long built = System.nanoTime();
    ContentStore store = host();
    Info middle = store.info(chain.digests().get(length / 2));
    assertThat(middle.refCount()).isEqualTo(1);
    assertThat(middle.links()).containsExactly(chain.digests().get(length / 2 + 1));
    RefCountHosts.assertReadable(store, chain.digests().get(length - 1),
        chain.contents().get(length - 1));

    host().deref(chain.head());
    long released = System.nanoTime();
    System.out.printf("CascadeIT: chain of %d written in %d ms, released by one deref in %d ms%n",
        length, (built - started) / 1_000_000, (released - built) / 1_000_000);
    List<Info> live = new ArrayList<>();
    store.walk(live::add);
    assertThat(live).as("blobs left live").isEmpty();
    for (int i = 0; i < length; i += length / 10) {
      assertGone(store, chain.digests().get(i));
    }
    assertGone(store, chain.digests().get(length - 1));
    // The records stay, in deletion, until gc purges them (shown on the shorter chains).
    assertThat(hosts.plain.listObjectsV2Paginator(b -> b.bucket(hosts.bucket)
        .prefix(hosts.prefix + "index/")).contents().stream().count())
        .as("records left for gc").isEqualTo(length);
  }

  @Test
  void aHostKilledInTheMiddleOfACascadeLosesNoReferencedBlob() throws Exception {
    long seed = Long.getLong("coffer.it.seed", System.nanoTime());
    Random random = new Random(seed);
    int length = RefCountHosts.scaled(120);
    int held = length * 3 / 4;
    ContentStore builder = host();
    Chain chain = chain(builder, "crash", length);
    // A reference of our own in the middle: the cascade must stop there, crash or not.
    builder.ref(chain.digests().get(held));

    String headRecord = hosts.indexKey(chain.head());
    Process child = ChildJvm.start(CascadeCrasher.class, S3Mock.get().endpoint().toString(),
        hosts.bucket, hosts.prefix, chain.head().toString());
    long delay = 100 + random.nextInt(1400);
    try {
      ChildJvm.awaitReady(child);
      // Kill it a little after its cascade has begun: the head's record says deleting.
      await("the child's deref began").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(5))
          .until(() -> hosts.plain.getObjectAsBytes(b -> b.bucket(hosts.bucket).key(headRecord))
              .asUtf8String().contains("\"deleting\""));
      Thread.sleep(delay); // a random point in the cascade to kill it at, not a poll
    } finally {
      child.destroyForcibly().waitFor();
    }

    ContentStore repairer = host();
    int deleted = 0;
    while (deleted < length && !isLive(repairer, chain.digests().get(deleted))) {
      deleted++;
    }
    System.out.printf("CascadeIT: child killed %d ms into the cascade, after %d of the %d blobs"
        + " before the held one (seed %d)%n", delay, deleted, held, seed);
    assertThat(deleted).as("blobs the cascade reached").isBetween(1, held);
    for (int i = deleted; i < length; i++) {
      Digest d = chain.digests().get(i);
      Info info = repairer.info(d);
      long expected = i == held ? (deleted < held ? 2 : info.refCount()) : 1;
      assertThat(info.refCount()).as("count of blob %d", i).isEqualTo(expected);
      assertThat(info.refCount()).as("count of blob %d", i).isBetween(1L, 2L);
      assertThat(hosts.exists(hosts.blobKey(d))).as("blob object %d", i).isTrue();
    }
    for (int i = deleted; i < length; i += Math.max(1, (length - deleted) / 20)) {
      RefCountHosts.assertReadable(repairer, chain.digests().get(i), chain.contents().get(i));
    }
    RefCountHosts.assertReadable(repairer, chain.digests().get(held),
        chain.contents().get(held));

    FsckReport repaired = repairer.fsck(true);
    List<String> prefix = chain.digests().subList(0, deleted).stream().map(Digest::toString)
        .toList();
    assertThat(repaired.findings()).as("findings after the crash").allSatisfy(f -> {
      assertThat(f.kind()).isEqualTo(FsckReport.Kind.STALE_DELETION);
      assertThat(prefix).contains(f.subject());
    });
    assertThat(repairer.gc(GC).blobsPurged()).isEqualTo(deleted);
    assertThat(repairer.fsck(false).findings()).isEmpty();

    // Release what the crash left over-referenced: the first live blob's count is held by the
    // link of a blob that is gone; then our own reference in the middle.
    if (deleted < held) {
      repairer.deref(chain.digests().get(deleted));
    }
    long left = repairer.info(chain.digests().get(held)).refCount();
    for (long i = 0; i < left; i++) {
      repairer.deref(chain.digests().get(held));
    }
    for (int i = deleted; i < length; i++) {
      assertGone(repairer, chain.digests().get(i));
    }
    assertEmptyAfterGc(repairer, length - deleted);
  }

  static boolean isLive(ContentStore store, Digest digest) {
    try {
      store.info(digest);
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }
}
