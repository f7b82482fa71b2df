package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport.Finding;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * A put whose own PutObject created the blob object skips the look for it after creating the
 * record when the two writes were less than half the purge timeout apart; so the deleters other
 * than the first purger spare young blob objects. Seen through the plain S3 API, with the steps
 * of other hosts run at the moment the put is about to create its record.
 */
class YoungBlobIT {
  private final S3Mock s3 = S3Mock.get();
  private final String bucket = s3.newBucket();
  private final String prefix = S3Mock.newPrefix();
  private final ObjectKeys keys = new ObjectKeys(prefix);
  private final S3Client plain = s3.client();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final RequestCounter counter = new RequestCounter();
  /** Runs once, on the putting thread, just before its index record's PutObject is sent. */
  private final AtomicReference<Runnable> beforeRecord = new AtomicReference<>();

  @BeforeEach
  void setUp() {
    resources.add(plain);
  }

  @AfterEach
  void tearDown() throws Exception {
    Collections.reverse(resources);
    for (AutoCloseable resource : resources) {
      resource.close();
    }
  }

  @Test
  void fsckRepairSparesContentWithoutARecordUntilItIsOlderThanThePurgeTimeout()
      throws Exception {
    ContentStore store = store(b -> b.purgeTimeout(Duration.ofSeconds(1)));
    byte[] bytes = "stored moments ago, record not yet created".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(bytes);
    plain.putObject(b -> b.bucket(bucket).key(keys.blob(digest)), RequestBody.fromBytes(bytes));

    FsckReport young = store.fsck(true);
    assertThat(young.findings()).extracting(Finding::kind, Finding::subject, Finding::repaired)
        .containsExactly(tuple(FsckReport.Kind.BLOB_WITHOUT_RECORD, digest.toString(), false));
    assertThat(young.findings().get(0).detail()).contains("a commit in progress or interrupted");
    assertThat(exists(keys.blob(digest))).isTrue();
    assertThat(exists(keys.index(digest))).as("no claim left behind").isFalse();

    Thread.sleep(2_500); // older than the purge timeout plus LastModified's second
    assertThat(store.fsck(true).findings())
        .extracting(Finding::kind, Finding::subject, Finding::repaired)
        .containsExactly(tuple(FsckReport.Kind.BLOB_WITHOUT_RECORD, digest.toString(), true));
    assertThat(exists(keys.blob(digest))).isFalse();
    assertThat(exists(keys.index(digest))).isFalse();
    assertThat(store.fsck(false).findings()).isEmpty();
  }

  @Test
  void aRepairBetweenAPutsTwoWritesLeavesItsBytes() {
    ContentStore putter = intercepted(b -> b);
    ContentStore repairer = store(b -> b);
    byte[] bytes = "put while fsck repairs".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(bytes);
    List<FsckReport> repairs = new ArrayList<>();
    beforeRecord.set(() -> repairs.add(repairer.fsck(true)));

    counter.take();
    assertThat(putter.putAndRef(bytes, digest, Map.of()).refCount()).isEqualTo(1);
    assertThat(counter.take()).as("the put's requests").isEqualTo(Map.of("PutObject", 2));
    assertThat(repairs).singleElement().satisfies(r -> assertThat(r.findings())
        .extracting(Finding::kind, Finding::repaired)
        .containsExactly(tuple(FsckReport.Kind.BLOB_WITHOUT_RECORD, false)));
    assertThat(Content.readBlob(putter, Descriptor.of(digest))).isEqualTo(bytes);
    assertThat(repairer.fsck(false).findings()).isEmpty();
  }

  @Test
  void aTakenOverPurgeSparesAnObjectStoredAfterThePurgeBegan() throws Exception {
    ContentStore putter = intercepted(b -> b);
    ContentStore collector = store(b -> b.deletionGrace(Duration.ZERO));
    byte[] bytes = "re-pushed while a dead purger's record waited".getBytes(StandardCharsets.UTF_8);
    Digest digest = putter.putAndRef(bytes, null, Map.of()).digest();
    // A purger stamped the record 3 minutes ago (past the 2-minute timeout), deleted the blob
    // object and died before deleting the record.
    S3GcIT.setPurging(plain, bucket, keys.index(digest),
        System.currentTimeMillis() - Duration.ofMinutes(3).toMillis());
    plain.deleteObject(b -> b.bucket(bucket).key(keys.blob(digest)));

    // The put stores the bytes (creating the object), then gc takes the purge over before the
    // put creates its record: it must delete only the record.
    List<GcReport> collections = new ArrayList<>();
    beforeRecord.set(() -> {
      assertThat(exists(keys.blob(digest))).isTrue();
      collections.add(collector.gc(new GcOptions(Duration.ZERO, false)));
    });
    counter.take();
    Info info = putter.putAndRef(bytes, digest, Map.of());
    assertThat(counter.take()).as("the put's requests").isEqualTo(Map.of("PutObject", 2));

    assertThat(collections).singleElement()
        .satisfies(r -> assertThat(r.blobsPurged()).as("the record purged").isEqualTo(1));
    assertThat(info.refCount()).isEqualTo(1);
    assertThat(putter.info(digest).refCount()).isEqualTo(1);
    assertThat(Content.readBlob(putter, Descriptor.of(digest))).isEqualTo(bytes);
    assertThat(collector.fsck(false).findings()).isEmpty();
  }

  @ParameterizedTest(name = "time passed on the {0}")
  @ValueSource(strings = {"store's clock", "monotonic clock"})
  void aPutWhoseRecordCameLateLooksAndRestoresBytesDeletedMeanwhile(String how) {
    AdvancingClock clock = new AdvancingClock();
    Duration timeout = how.startsWith("store") ? Duration.ofMinutes(2) : Duration.ofMillis(200);
    ContentStore putter = intercepted(b -> b.clock(clock).purgeTimeout(timeout));
    byte[] bytes = ("deleted between the put's writes; " + how).getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(bytes);
    beforeRecord.set(() -> {
      // Half the purge timeout passes, and a deleter (a host whose clock runs ahead, say)
      // removes the object before the record exists.
      if (how.startsWith("store")) {
        clock.advance(timeout.dividedBy(2).plusMillis(1));
      } else {
        sleep(timeout.dividedBy(2).plusMillis(20));
      }
      plain.deleteObject(b -> b.bucket(bucket).key(keys.blob(digest)));
    });

    counter.take();
    assertThat(putter.putAndRef(bytes, digest, Map.of()).refCount()).isEqualTo(1);
    assertThat(counter.take()).as("blob, record, the look, the bytes restored")
        .isEqualTo(Map.of("PutObject", 3, "HeadObject", 1));
    assertThat(Content.readBlob(putter, Descriptor.of(digest))).isEqualTo(bytes);
  }

  // ---- helpers

  private ContentStore store(UnaryOperator<S3StoreConfig.Builder> config) {
    ContentStore store = S3Stores.open(config.apply(s3.config(bucket, prefix)).build());
    resources.add(store);
    return store;
  }

  /** A store whose requests are counted and which runs {@link #beforeRecord}. */
  private ContentStore intercepted(UnaryOperator<S3StoreConfig.Builder> config) {
    ExecutionInterceptor hook = new ExecutionInterceptor() {
      @Override
      public void beforeExecution(Context.BeforeExecution context,
          ExecutionAttributes attributes) {
        if (context.request() instanceof PutObjectRequest put
            && put.key().startsWith(prefix + "index/")) {
          Runnable step = beforeRecord.getAndSet(null);
          if (step != null) {
            step.run();
          }
        }
      }
    };
    var client = s3.client(counter, hook);
    var bulk = s3.asyncClient(counter, hook);
    resources.add(client);
    resources.add(bulk);
    ContentStore store = S3Stores.builder()
        .config(config.apply(s3.config(bucket, prefix)).build())
        .client(client).bulkClient(bulk).build();
    resources.add(store);
    return store;
  }

  private boolean exists(String key) {
    return s3.exists(bucket, key);
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The system clock plus an offset a test moves forward. */
  private static final class AdvancingClock extends Clock {
    private final AtomicLong offsetNanos = new AtomicLong();

    void advance(Duration duration) {
      offsetNanos.addAndGet(duration.toNanos());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant instant() {
      return Instant.now().plusNanos(offsetNanos.get());
    }
  }
}
