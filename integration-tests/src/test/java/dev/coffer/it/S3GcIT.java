package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3ContentStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/** The purge protocol and the upload sweep of gc, seen through the plain S3 API. */
class S3GcIT {
  private String bucket;
  private String prefix;
  private ContentStore store;
  private S3Client plain;

  @BeforeEach
  void setUp() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
    store = S3ContentStore.open(S3Mock.get().config(bucket, prefix)
        .deletionGrace(Duration.ZERO).leaseDuration(Duration.ofMillis(300)).build());
    plain = S3Mock.get().client();
  }

  @AfterEach
  void tearDown() {
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
}
