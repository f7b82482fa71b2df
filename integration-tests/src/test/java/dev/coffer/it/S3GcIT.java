package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport.Finding;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Tag;

/**
 * The purge protocol, the upload sweep of gc, the tag mirror and fsck's repairs, seen through the
 * plain S3 API.
 */
class S3GcIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private String bucket;
  private String prefix;
  private ContentStore store;
  private S3Client plain;
  private final List<ContentStore> others = new ArrayList<>();

  @BeforeEach
  void setUp() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
    store = S3Stores.open(S3Mock.get().config(bucket, prefix)
        .deletionGrace(Duration.ZERO).leaseDuration(Duration.ofMillis(300)).build());
    plain = S3Mock.get().client();
  }

  @AfterEach
  void tearDown() {
    others.forEach(ContentStore::close);
    store.close();
    plain.close();
  }

  private boolean exists(String key) {
    return S3Mock.get().exists(bucket, key);
  }

  private Info commitAndRef(String ref, byte[] bytes) {
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      w.write(bytes);
      return w.commitAndRef(0, null, null);
    }
  }

  @Test
  void aDerefedBlobIsPurgedAfterItsGraceAndCanBeCommittedAgain() {
    byte[] bytes = "purge me".getBytes(StandardCharsets.UTF_8);
    Digest digest = commitAndRef("p", bytes).digest();
    String blobKey = prefix + "blobs/sha256/" + digest.hex();
    store.deref(digest);
    assertThat(exists(blobKey)).as("kept while deleting").isTrue();

    GcReport report = store.gc(new GcOptions(Duration.ofDays(1), false));
    assertThat(report.blobsPurged()).isEqualTo(1);
    assertThat(report.bytesFreed()).isEqualTo(bytes.length);
    assertThat(exists(blobKey)).isFalse();
    assertThat(exists(prefix + "index/sha256/" + digest.hex())).isFalse();

    assertThat(commitAndRef("p2", bytes).refCount()).isEqualTo(1);
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(bytes);
  }

  @Test
  void aCommitWaitsForAPurgeInProgressAndStoresTheBytesAnew() throws Exception {
    byte[] bytes = "being purged".getBytes(StandardCharsets.UTF_8);
    Digest digest = commitAndRef("a", bytes).digest();
    String indexKey = prefix + "index/sha256/" + digest.hex();
    String blobKey = prefix + "blobs/sha256/" + digest.hex();
    String json = plain.getObjectAsBytes(b -> b.bucket(bucket).key(indexKey)).asUtf8String();
    plain.putObject(b -> b.bucket(bucket).key(indexKey),
        RequestBody.fromString(json.replace("\"live\"", "\"purging\"")));
    // A purger finishing a little later: the blob object first, then the record.
    CompletableFuture<Void> purger = CompletableFuture.runAsync(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      plain.deleteObject(b -> b.bucket(bucket).key(blobKey));
      plain.deleteObject(b -> b.bucket(bucket).key(indexKey));
    });
    Info again = commitAndRef("b", bytes);
    purger.get();
    assertThat(again.refCount()).isEqualTo(1);
    assertThat(exists(blobKey)).isTrue();
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(bytes);
  }

  @Test
  void gcAbortsUploadsNoIngestRecordNames() throws Exception {
    String key = prefix + "ingest/" + "0".repeat(64) + "/data/1-dead";
    String uploadId = plain.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
    Thread.sleep(600); // older than the lease, so no writer can be about to record it
    GcReport report = store.gc(new GcOptions(Duration.ZERO, false));
    assertThat(report.uploadsAborted()).isEqualTo(1);
    assertThat(plain.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix)).uploads())
        .noneMatch(u -> u.uploadId().equals(uploadId));
    assertThatThrownBy(() -> store.status("anything"))
        .isInstanceOf(dev.coffer.store.NotFoundException.class);
  }

  @Test
  void blobTagsMirrorTheRecordThroughRefDerefAndDeletion() {
    Digest digest = commitAndRef("t", "tagged".getBytes(StandardCharsets.UTF_8)).digest();
    assertThat(tags(digest)).isEqualTo(Map.of("refs", "1", "state", "live"));
    store.ref(digest);
    assertThat(tags(digest)).isEqualTo(Map.of("refs", "2", "state", "live"));
    store.deref(digest);
    assertThat(tags(digest)).isEqualTo(Map.of("refs", "1", "state", "live"));
    store.deref(digest);
    assertThat(tags(digest)).isEqualTo(Map.of("refs", "0", "state", "deleting"));
  }

  @Test
  void fsckReportsTagDriftAndARepairWritesTheRecordsTags() {
    Digest digest = commitAndRef("d", "drifted".getBytes(StandardCharsets.UTF_8)).digest();
    store.ref(digest);
    plain.putObjectTagging(b -> b.bucket(bucket).key(blobKey(digest))
        .tagging(t -> t.tagSet(Tag.builder().key("refs").value("9").build())));

    FsckReport report = store.fsck(false);
    assertThat(report.findings()).extracting(Finding::kind, Finding::subject, Finding::repaired)
        .containsExactly(tuple(FsckReport.Kind.TAG_DRIFT, digest.toString(), false));
    assertThat(report.findings().get(0).detail()).contains("refs=9").contains("refs=2");
    assertThat(tags(digest)).as("a check changes nothing").isEqualTo(Map.of("refs", "9"));

    assertThat(store.fsck(true).clean()).isTrue();
    assertThat(tags(digest)).isEqualTo(Map.of("refs", "2", "state", "live"));
    assertThat(store.fsck(false).findings()).isEmpty();
  }

  @Test
  void fsckRemovesContentStoredWithoutARecordAndItCanBeCommittedAgain() throws Exception {
    byte[] bytes = "stored by a host that died before recording it"
        .getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(bytes);
    plain.putObject(b -> b.bucket(bucket).key(blobKey(digest)), RequestBody.fromBytes(bytes));
    Digest kept = commitAndRef("kept", "referenced".getBytes(StandardCharsets.UTF_8)).digest();

    assertThat(store.fsck(false).findings()).extracting(Finding::kind, Finding::subject)
        .containsExactly(tuple(FsckReport.Kind.BLOB_WITHOUT_RECORD, digest.toString()));
    assertThat(exists(blobKey(digest))).isTrue();
    assertThat(store.fsck(true).clean()).as("too young to remove").isFalse();
    assertThat(exists(blobKey(digest))).isTrue();
    ContentStore later = shortTimeoutAfterAgeing();
    assertThat(later.fsck(true).clean()).isTrue();
    assertThat(exists(blobKey(digest))).isFalse();
    assertThat(exists(indexKey(digest))).isFalse();
    assertThat(store.fsck(false).findings()).isEmpty();
    assertThat(store.info(kept).refCount()).isEqualTo(1);

    assertThat(commitAndRef("again", bytes).refCount()).isEqualTo(1);
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(bytes);
  }

  /**
   * S3Mock deletes the object at an upload's key when the upload is aborted, where S3 keeps it:
   * gc's probe finds that, so an old upload to a stored blob is left and reported, and the blob
   * stays readable. (On S3, and on the simulated S3, gc aborts it: {@code DirectPutTest}.)
   */
  @Test
  void onAServerWhoseAbortDeletesTheObjectGcLeavesUploadsToStoredBlobs() {
    byte[] bytes = "stored, with a stray upload at its key".getBytes(StandardCharsets.UTF_8);
    Digest digest = commitAndRef("stray", bytes).digest();
    String uploadId = plain.createMultipartUpload(b -> b.bucket(bucket).key(blobKey(digest)))
        .uploadId();
    ContentStore later = S3Stores.open(S3Mock.get().config(bucket, prefix)
        .deletionGrace(Duration.ZERO)
        .clock(Clock.offset(Clock.systemUTC(), Duration.ofDays(2))).build());
    others.add(later);

    GcReport report = later.gc(new GcOptions(Duration.ofHours(1), false));
    assertThat(report.uploadsAborted()).isZero();
    assertThat(report.skipped()).singleElement().satisfies(skip -> {
      assertThat(skip.subject()).isEqualTo(blobKey(digest));
      assertThat(skip.reason()).contains("deletes the object with an abort");
    });
    assertThat(plain.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix)).uploads())
        .extracting(u -> u.uploadId()).containsExactly(uploadId);
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(bytes);
  }

  /**
   * The same server: a gc that purges the blob aborts the stray upload at its key in the same run
   * (the blob is no longer stored), so that one gc after every deref leaves no upload behind.
   */
  @Test
  void onAServerWhoseAbortDeletesTheObjectGcAbortsTheUploadOfABlobItPurges() {
    byte[] bytes = "purged, with a stray upload at its key".getBytes(StandardCharsets.UTF_8);
    Digest digest = commitAndRef("stray-purged", bytes).digest();
    plain.createMultipartUpload(b -> b.bucket(bucket).key(blobKey(digest)));
    store.deref(digest);
    ContentStore later = S3Stores.open(S3Mock.get().config(bucket, prefix)
        .deletionGrace(Duration.ZERO)
        .clock(Clock.offset(Clock.systemUTC(), Duration.ofDays(2))).build());
    others.add(later);

    GcReport report = later.gc(new GcOptions(Duration.ZERO, false));
    assertThat(report.blobsPurged()).isEqualTo(1);
    assertThat(report.uploadsAborted()).isEqualTo(1);
    assertThat(plain.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix)).uploads())
        .isEmpty();
    assertThat(exists(blobKey(digest))).isFalse();
  }

  @Test
  void aPurgeWhosePurgerDiedIsLeftAloneUntilItsTimeoutThenGcFinishesIt() throws Exception {
    byte[] bytes = "half purged".getBytes(StandardCharsets.UTF_8);
    Digest digest = commitAndRef("h", bytes).digest();
    setPurging(digest, System.currentTimeMillis());

    GcReport report = store.gc(new GcOptions(Duration.ZERO, false));
    assertThat(report.blobsPurged()).isZero();
    assertThat(report.skipped()).singleElement().satisfies(skip -> {
      assertThat(skip.subject()).isEqualTo(digest.toString());
      assertThat(skip.reason()).startsWith("being purged by another host");
    });
    assertThat(store.fsck(false).findings()).as("a purge within its timeout is not stale")
        .isEmpty();
    assertThat(exists(blobKey(digest))).isTrue();

    ContentStore later = shortTimeoutAfterAgeing();
    setPurging(digest, System.currentTimeMillis() - STALE_STAMP.toMillis());
    assertThat(later.fsck(false).findings()).extracting(Finding::kind, Finding::repaired)
        .containsExactly(tuple(FsckReport.Kind.STALE_DELETION, false));
    report = later.gc(new GcOptions(Duration.ZERO, false));
    assertThat(report.blobsPurged()).isEqualTo(1);
    assertThat(exists(blobKey(digest))).isFalse();
    assertThat(exists(indexKey(digest))).isFalse();
  }

  @Test
  void fsckRepairFinishesAPurgeWhosePurgerDied() throws Exception {
    Digest digest = commitAndRef("r", "stuck".getBytes(StandardCharsets.UTF_8)).digest();
    ContentStore later = shortTimeoutAfterAgeing();
    setPurging(digest, System.currentTimeMillis() - STALE_STAMP.toMillis());
    assertThat(later.fsck(true).findings()).extracting(Finding::kind, Finding::repaired)
        .containsExactly(tuple(FsckReport.Kind.STALE_DELETION, true));
    assertThat(exists(blobKey(digest))).isFalse();
    assertThat(exists(indexKey(digest))).isFalse();
    assertThat(store.fsck(false).findings()).isEmpty();
  }

  @ParameterizedTest(name = "blob object {0} by the dead purger")
  @ValueSource(strings = {"kept", "deleted"})
  void aCommitFinishesAPurgeWhosePurgerDiedAndStoresTheBytesAnew(String blob) throws Exception {
    byte[] bytes = ("purger died; blob " + blob).getBytes(StandardCharsets.UTF_8);
    Digest digest = commitAndRef("c", bytes).digest();
    setPurging(digest, System.currentTimeMillis() - Duration.ofMinutes(3).toMillis());
    if (blob.equals("deleted")) {
      plain.deleteObject(b -> b.bucket(bucket).key(blobKey(digest)));
    }
    Info again = commitAndRef("c2", bytes);
    assertThat(again.refCount()).isEqualTo(1);
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(bytes);
    assertThat(tags(digest)).isEqualTo(Map.of("refs", "1", "state", "live"));
    assertThat(store.fsck(false).findings()).isEmpty();
  }

  private String blobKey(Digest digest) {
    return prefix + "blobs/sha256/" + digest.hex();
  }

  private String indexKey(Digest digest) {
    return prefix + "index/sha256/" + digest.hex();
  }

  private Map<String, String> tags(Digest digest) {
    return plain.getObjectTagging(b -> b.bucket(bucket).key(blobKey(digest))).tagSet().stream()
        .collect(Collectors.toMap(Tag::key, Tag::value));
  }

  private void setPurging(Digest digest, long stampMillis) throws Exception {
    setPurging(plain, bucket, indexKey(digest), stampMillis);
  }

  /** Rewrites the record as a purger that stopped at {@code purging}, stamped at that time. */
  static void setPurging(S3Client plain, String bucket, String indexKey, long stampMillis)
      throws Exception {
    ObjectNode record = (ObjectNode) JSON.readTree(plain.getObjectAsBytes(b -> b.bucket(bucket)
        .key(indexKey)).asByteArray());
    record.put("state", "purging").put("refCount", 0)
        .put("stateChangedAt", TimeUnit.MILLISECONDS.toNanos(stampMillis));
    plain.putObject(b -> b.bucket(bucket).key(indexKey),
        RequestBody.fromBytes(JSON.writeValueAsBytes(record)));
  }

  /**
   * A store on the same bucket and prefix with a purge timeout of 1 s, opened once the blob
   * objects stored so far are 3 s old: more than the takeover's margin (half the timeout and a
   * second) before a purge stamp set {@link #STALE_STAMP} ago, so a takeover deletes them, and
   * older than the 2 s after which a repair removes content without a record.
   */
  private ContentStore shortTimeoutAfterAgeing() throws InterruptedException {
    Thread.sleep(3_000);
    ContentStore shortTimeout = S3Stores.open(S3Mock.get().config(bucket, prefix)
        .deletionGrace(Duration.ZERO).purgeTimeout(Duration.ofSeconds(1)).build());
    others.add(shortTimeout);
    return shortTimeout;
  }

  /** How long ago a dead purger stamped its record, for {@link #shortTimeoutAfterAgeing}. */
  private static final Duration STALE_STAMP = Duration.ofMillis(1_200);
}
