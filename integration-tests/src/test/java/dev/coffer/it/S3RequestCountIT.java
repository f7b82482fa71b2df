package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3Stores;
import java.io.ByteArrayInputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The requests each operation costs, counted by an interceptor on both clients. The figures are
 * the ones docs/s3-store.md documents; a change in them is a change in the protocol.
 */
class S3RequestCountIT {
  private static final int MIB = 1 << 20;
  private final RequestCounter counter = new RequestCounter();
  private S3Client client;
  private S3AsyncClient bulk;
  private ContentStore store;
  private final Map<String, Map<String, Integer>> report = new LinkedHashMap<>();

  @BeforeEach
  void setUp() {
    S3Mock s3 = S3Mock.get();
    client = s3.client(counter);
    bulk = s3.asyncClient(counter);
    store = S3Stores.builder()
        // A lease long enough that no renewal (a PutObject) falls inside a measured step, even
        // when a loaded machine makes a 12 MiB commit take longer than a third of the default.
        .config(s3.config(s3.newBucket(), S3Mock.newPrefix()).partSize(5 * MIB)
            .leaseDuration(java.time.Duration.ofMinutes(10)).build())
        .client(client).bulkClient(bulk).build();
  }

  @AfterEach
  void tearDown() {
    store.close();
    client.close();
    bulk.close();
    report.forEach((op, counts) -> System.out.println("requests " + op + ": " + counts));
  }

  private Map<String, Integer> measure(String operation, Runnable action) {
    counter.take();
    action.run();
    Map<String, Integer> counts = counter.take();
    report.put(operation, counts);
    return counts;
  }

  @Test
  void smallBlobCommitCostsFourRequestsAndNoCopy() {
    byte[] bytes = "a small blob".getBytes();
    Digest digest = Digest.of(bytes);
    Writer[] writer = new Writer[1];
    // Open: the create-only ingest record that is also the ref's lease.
    assertThat(measure("open (new ref, no digest)",
        () -> writer[0] = store.writer("small", Descriptor.UNKNOWN)))
        .isEqualTo(Map.of("PutObject", 1));
    assertThat(measure("write below one part", () -> writer[0].write(bytes))).isEmpty();
    // Commit: the blob (If-None-Match), the index record (create-only), the ingest record
    // removed. No look for the blob: this commit's PutObject created it, moments before the
    // record, and nothing deletes an object that young.
    assertThat(measure("commit small blob", () -> writer[0].commit(bytes.length, digest, null)))
        .isEqualTo(Map.of("PutObject", 2, "DeleteObject", 1));

    byte[] other = "another small blob".getBytes();
    Digest otherDigest = Digest.of(other);
    // writeBlob with a known digest adds the AlreadyExists check at open (one GET).
    assertThat(measure("writeBlob small with digest", () -> Content.writeBlob(store, "other",
        new ByteArrayInputStream(other), Descriptor.of(otherDigest, other.length), Map.of())))
        .isEqualTo(Map.of("GetObject", 1, "PutObject", 3, "DeleteObject", 1));
    // Existing content: the record, and the look that its bytes are there (INT-3: a blob whose
    // corrupt bytes fsck removed takes them again).
    assertThat(measure("writeBlob of existing content", () -> Content.writeBlob(store, "again",
        new ByteArrayInputStream(other), Descriptor.of(otherDigest, other.length), Map.of())))
        .isEqualTo(Map.of("GetObject", 1, "HeadObject", 1));

    assertThat(measure("info", () -> store.info(digest))).isEqualTo(Map.of("GetObject", 1));
    assertThat(measure("update labels",
        () -> store.update(Info.forUpdate(digest, Map.of("k", "v")))))
        .isEqualTo(Map.of("GetObject", 1, "PutObject", 1));
    // The record as this store just wrote it is where ref starts: no read (PROTO-14).
    assertThat(measure("ref of a record this store wrote last", () -> store.ref(digest)))
        .isEqualTo(Map.of("PutObject", 1, "PutObjectTagging", 1));
    store.ref(digest);
    assertThat(measure("deref (not to zero)", () -> store.deref(digest)))
        .isEqualTo(Map.of("GetObject", 1, "PutObject", 1, "PutObjectTagging", 1));
    assertThat(measure("readerAt + one read", () -> Content.readBlob(store,
        Descriptor.of(digest)))).isEqualTo(Map.of("GetObject", 2));
    assertThat(measure("walk over 2 blobs", () -> store.walk(i -> { })))
        .isEqualTo(Map.of("ListObjectsV2", 1, "GetObject", 2));
    assertThat(measure("delete", () -> store.delete(digest)))
        .isEqualTo(Map.of("GetObject", 1, "PutObject", 1, "PutObjectTagging", 1));
  }

  @Test
  void putOfSmallContentSkipsTheIngest() {
    byte[] bytes = "a small blob put in one step".getBytes();
    Digest digest = Digest.of(bytes);
    // The blob (If-None-Match), then the index record (create-only): the put's own PutObject
    // created the blob moments before, and fsck and purge takeovers spare objects that young.
    assertThat(measure("put new small content", () -> store.put(bytes, digest, Map.of())))
        .isEqualTo(Map.of("PutObject", 2));
    assertThat(store.listStatuses()).isEmpty();
    // The blob's create-only write answers 412, so the record is read rather than refused
    // first: AlreadyExists (a create-only write of the record before took one request more).
    assertThat(measure("put of existing content", () -> assertThat(
        catchThrowable(() -> store.put(bytes, null, null)))
        .isInstanceOf(AlreadyExistsException.class)))
        .isEqualTo(Map.of("PutObject", 1, "GetObject", 1));
    // The 412, then the compare-and-swap of the record and the tags mirroring it: what a lookup
    // and a reference take (a tree's put of a small file sends it without a lookup).
    assertThat(measure("putAndRef of existing content",
        () -> assertThat(store.putAndRef(bytes, null, null).refCount()).isEqualTo(1)))
        .isEqualTo(Map.of("PutObject", 2, "GetObject", 1, "PutObjectTagging", 1));
    byte[] other = "another small blob put in one step".getBytes();
    assertThat(measure("putAndRef new small content",
        () -> assertThat(store.putAndRef(other, null, null).refCount()).isEqualTo(1)))
        .isEqualTo(Map.of("PutObject", 2));
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(bytes);
    assertThat(store.info(digest).refCount()).isEqualTo(1);
  }

  @Test
  void multipartCommitCountsPartsOneCopyAndTheRecords() {
    byte[] bytes = S3StoreIT.random(12 * MIB + 5, 9);
    Digest digest = Digest.of(bytes);
    Writer writer = store.writer("large", Descriptor.UNKNOWN);
    // Parts go out in the background while the writer fills the next buffer, so writing and
    // committing are counted together: the upload is started and named in the ingest record
    // (PutObject), three parts, the completion and its record update (PutObject), the index
    // lookup (GetObject), the look that the ingest's object has the ingest's length (HeadObject,
    // INT-1), one server-side copy and the check of its length and CRC32C (HeadObject, INT-5),
    // the index record, the look that no purge took the copy meanwhile (HeadObject), the tags,
    // and the ingest's record and data removed.
    Map<String, Integer> commit = measure("write + commit 12 MiB (3 parts)", () -> {
      writer.write(bytes);
      writer.commit(bytes.length, digest, null);
    });
    assertThat(commit).isEqualTo(Map.of("CreateMultipartUpload", 1, "UploadPart", 3,
        "CompleteMultipartUpload", 1, "PutObject", 3, "GetObject", 1, "CopyObject", 1,
        "HeadObject", 3, "PutObjectTagging", 1, "DeleteObject", 2));

    Writer paused = store.writer("paused", Descriptor.UNKNOWN);
    assertThat(measure("write 6 MiB + close without commit (upload completed)", () -> {
      paused.write(bytes, 0, 6 * MIB);
      paused.close();
    })).isEqualTo(Map.of("CreateMultipartUpload", 1, "UploadPart", 2,
        "CompleteMultipartUpload", 1, "PutObject", 3));
    assertThat(measure("abort", () -> store.abort("paused")))
        .isEqualTo(Map.of("GetObject", 1, "DeleteObject", 2));
  }
}
