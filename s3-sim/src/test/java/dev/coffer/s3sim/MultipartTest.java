package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.ListPartsResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.UploadPartCopyResponse;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/** The multipart upload lifecycle, its errors, part copies, checksums and listings. */
class MultipartTest extends SimTestBase {
  private static final int MIB5 = 5 << 20;

  /** Sends checksums only when asked, so each test chooses its own. */
  private S3Client plain;

  @BeforeEach
  void plainClient() {
    plain = Clients.plain(sim, "h2", 1);
  }

  @AfterEach
  void closePlain() {
    plain.close();
  }

  private String create(String key) {
    return plain.createMultipartUpload(b -> b.bucket(BUCKET).key(key)).uploadId();
  }

  private CompletedPart part(String key, String id, int n, byte[] content) {
    UploadPartResponse r = plain.uploadPart(b -> b.bucket(BUCKET).key(key).uploadId(id)
        .partNumber(n), RequestBody.fromBytes(content));
    return CompletedPart.builder().partNumber(n).eTag(r.eTag()).build();
  }

  private CompleteMultipartUploadResponse complete(String key, String id, CompletedPart... parts) {
    return plain.completeMultipartUpload(b -> b.bucket(BUCKET).key(key).uploadId(id)
        .multipartUpload(m -> m.parts(parts)));
  }

  private static byte[] concat(byte[]... all) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] b : all) {
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  private static String multipartEtag(byte[]... parts) throws Exception {
    ByteArrayOutputStream md5s = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      md5s.writeBytes(MessageDigest.getInstance("MD5").digest(p));
    }
    return "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
        .digest(md5s.toByteArray())) + "-" + parts.length + "\"";
  }

  @Test
  void uploadListCompleteThenTheUploadIsGone() throws Exception {
    byte[] one = random(MIB5, 1);
    byte[] two = random(1000, 2);
    clock.advance(Duration.ofSeconds(30));
    String id = create("obj");
    CompletedPart p1 = part("obj", id, 1, one);
    CompletedPart p2 = part("obj", id, 2, two);
    ListPartsResponse parts = plain.listParts(b -> b.bucket(BUCKET).key("obj").uploadId(id));
    assertThat(parts.parts()).extracting(Part::partNumber).containsExactly(1, 2);
    assertThat(parts.parts()).extracting(Part::size).containsExactly((long) MIB5, 1000L);
    assertThat(parts.parts()).extracting(Part::eTag).containsExactly(p1.eTag(), p2.eTag());
    assertThat(parts.isTruncated()).isFalse();

    CompleteMultipartUploadResponse done = complete("obj", id, p1, p2);
    assertThat(done.eTag()).isEqualTo(multipartEtag(one, two));
    var got = plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj"));
    assertThat(got.asByteArray()).isEqualTo(concat(one, two));
    assertThat(got.response().eTag()).isEqualTo(multipartEtag(one, two));
    assertThat(got.response().lastModified())
        .isEqualTo(SimClock.DEFAULT_START.plusSeconds(30));

    assertS3Error(() -> complete("obj", id, p1, p2), 404, "NoSuchUpload");
    assertS3Error(() -> plain.listParts(b -> b.bucket(BUCKET).key("obj").uploadId(id)), 404,
        "NoSuchUpload");
    assertS3Error(() -> part("obj", id, 3, two), 404, "NoSuchUpload");
    assertS3Error(() -> plain.abortMultipartUpload(b -> b.bucket(BUCKET).key("obj")
        .uploadId(id)), 404, "NoSuchUpload");
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asByteArray())
        .isEqualTo(concat(one, two));
  }

  @Test
  void abortNeverDeletesTheObjectAtTheKey() {
    plain.putObject(b -> b.bucket(BUCKET).key("obj"), RequestBody.fromString("kept"));
    String id = create("obj");
    part("obj", id, 1, random(100, 3));
    plain.abortMultipartUpload(b -> b.bucket(BUCKET).key("obj").uploadId(id));
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asUtf8String())
        .isEqualTo("kept");
    assertS3Error(() -> plain.listParts(b -> b.bucket(BUCKET).key("obj").uploadId(id)), 404,
        "NoSuchUpload");
    assertThat(plain.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
  }

  @Test
  void anUploadIdOfAnotherKeyIsNoSuchUpload() {
    String id = create("a");
    assertS3Error(() -> part("b", id, 1, random(10, 4)), 404, "NoSuchUpload");
  }

  @Test
  void completionChecksOrderPartsEtagsAndSizes() {
    String id = create("obj");
    byte[] small = random(1000, 5);
    CompletedPart p1 = part("obj", id, 1, small);
    CompletedPart p2 = part("obj", id, 2, small);
    assertS3Error(() -> complete("obj", id, p2, p1), 400, "InvalidPartOrder");
    assertS3Error(() -> complete("obj", id, p1, p1), 400, "InvalidPartOrder");
    assertS3Error(() -> complete("obj", id, p1, CompletedPart.builder().partNumber(3)
        .eTag(p2.eTag()).build()), 400, "InvalidPart");
    assertS3Error(() -> complete("obj", id, p1, CompletedPart.builder().partNumber(2)
        .eTag("\"00000000000000000000000000000000\"").build()), 400, "InvalidPart");
    var tooSmall = assertS3Error(() -> complete("obj", id, p1, p2), 400, "EntityTooSmall");
    assertThat(tooSmall.getMessage()).contains("smaller than the minimum allowed object size");
    assertS3Error(() -> plain.completeMultipartUpload(b -> b.bucket(BUCKET).key("obj")
        .uploadId(id).multipartUpload(m -> m.parts(List.of()))), 400, "MalformedXML");
    // Failed completions leave the upload as it was: the last part may be small.
    complete("obj", id, p2);
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asByteArray())
        .isEqualTo(small);
  }

  @Test
  void partsLeftOutOfTheCompletionAreDropped() {
    String id = create("obj");
    byte[] a = random(MIB5, 6);
    byte[] c = random(7, 7);
    CompletedPart p1 = part("obj", id, 1, a);
    part("obj", id, 2, random(MIB5, 8));
    CompletedPart p3 = part("obj", id, 3, c);
    complete("obj", id, p1, p3);
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asByteArray())
        .isEqualTo(concat(a, c));
  }

  @Test
  void aPartUploadedAgainReplacesTheFirst() {
    String id = create("obj");
    part("obj", id, 1, random(10, 9));
    byte[] second = random(20, 10);
    CompletedPart p = part("obj", id, 1, second);
    complete("obj", id, p);
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asByteArray())
        .isEqualTo(second);
  }

  @Test
  void partNumbersOutsideOneTo10000AreInvalid() {
    String id = create("obj");
    assertS3Error(() -> part("obj", id, 0, random(1, 1)), 400, "InvalidArgument");
    assertS3Error(() -> part("obj", id, 10_001, random(1, 1)), 400, "InvalidArgument");
  }

  @Test
  void completionConditionsOnTheKey() {
    String existing = plain.putObject(b -> b.bucket(BUCKET).key("obj"),
        RequestBody.fromString("old")).eTag();
    String id = create("obj");
    CompletedPart p = part("obj", id, 1, bytes("new"));
    assertS3Error(() -> plain.completeMultipartUpload(b -> b.bucket(BUCKET).key("obj")
        .uploadId(id).ifNoneMatch("*").multipartUpload(m -> m.parts(p))), 412,
        "PreconditionFailed");
    assertS3Error(() -> plain.completeMultipartUpload(b -> b.bucket(BUCKET).key("obj")
        .uploadId(id).ifMatch("\"other\"").multipartUpload(m -> m.parts(p))), 412,
        "PreconditionFailed");
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asUtf8String())
        .isEqualTo("old");
    plain.completeMultipartUpload(b -> b.bucket(BUCKET).key("obj").uploadId(id)
        .ifMatch(existing).multipartUpload(m -> m.parts(p)));
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asUtf8String())
        .isEqualTo("new");
    String other = create("fresh");
    CompletedPart q = part("fresh", other, 1, bytes("x"));
    assertS3Error(() -> plain.completeMultipartUpload(b -> b.bucket(BUCKET).key("fresh")
        .uploadId(other).ifMatch(existing).multipartUpload(m -> m.parts(q))), 404, "NoSuchKey");
    plain.completeMultipartUpload(b -> b.bucket(BUCKET).key("fresh").uploadId(other)
        .ifNoneMatch("*").multipartUpload(m -> m.parts(q)));
  }

  @Test
  void uploadPartCopyCopiesRangesAndRefusesOnesOutsideTheSource() {
    byte[] source = random(MIB5 + 100, 11);
    plain.putObject(b -> b.bucket(BUCKET).key("src"), RequestBody.fromBytes(source));
    String id = create("dst");
    UploadPartCopyResponse first = plain.uploadPartCopy(b -> b.sourceBucket(BUCKET)
        .sourceKey("src").destinationBucket(BUCKET).destinationKey("dst").uploadId(id)
        .partNumber(1).copySourceRange("bytes=0-" + (MIB5 - 1)));
    UploadPartCopyResponse rest = plain.uploadPartCopy(b -> b.sourceBucket(BUCKET)
        .sourceKey("src").destinationBucket(BUCKET).destinationKey("dst").uploadId(id)
        .partNumber(2).copySourceRange("bytes=" + MIB5 + "-" + (MIB5 + 99)));
    assertS3Error(() -> plain.uploadPartCopy(b -> b.sourceBucket(BUCKET).sourceKey("src")
        .destinationBucket(BUCKET).destinationKey("dst").uploadId(id).partNumber(3)
        .copySourceRange("bytes=0-" + (MIB5 + 100))), 400, "InvalidArgument");
    assertS3Error(() -> plain.uploadPartCopy(b -> b.sourceBucket(BUCKET).sourceKey("nope")
        .destinationBucket(BUCKET).destinationKey("dst").uploadId(id).partNumber(3)), 404,
        "NoSuchKey");
    complete("dst", id,
        CompletedPart.builder().partNumber(1).eTag(first.copyPartResult().eTag()).build(),
        CompletedPart.builder().partNumber(2).eTag(rest.copyPartResult().eTag()).build());
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("dst")).asByteArray())
        .isEqualTo(source);
  }

  @Test
  void compositeChecksumsArePerPartAndCheckedAtCompletion() {
    byte[] one = random(MIB5, 12);
    byte[] two = random(333, 13);
    String id = plain.createMultipartUpload(b -> b.bucket(BUCKET).key("obj")
        .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.CRC32_C))
        .uploadId();
    List<String> sums = List.of(ChecksumAlgorithm.CRC32C.of(one), ChecksumAlgorithm.CRC32C.of(two));
    List<CompletedPart> parts = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      int n = i + 1;
      byte[] content = i == 0 ? one : two;
      UploadPartResponse r = plain.uploadPart(b -> b.bucket(BUCKET).key("obj").uploadId(id)
          .partNumber(n).checksumCRC32C(sums.get(n - 1)), RequestBody.fromBytes(content));
      assertThat(r.checksumCRC32C()).isEqualTo(sums.get(i));
      parts.add(CompletedPart.builder().partNumber(n).eTag(r.eTag()).checksumCRC32C(sums.get(i))
          .build());
    }
    ListPartsResponse listed = plain.listParts(b -> b.bucket(BUCKET).key("obj").uploadId(id));
    assertThat(listed.parts()).extracting(Part::checksumCRC32C).containsExactlyElementsOf(sums);
    assertThat(listed.checksumTypeAsString()).isEqualTo("COMPOSITE");

    CompletedPart bare = CompletedPart.builder().partNumber(1).eTag(parts.get(0).eTag()).build();
    assertS3Error(() -> complete("obj", id, bare, parts.get(1)), 400, "InvalidRequest");
    CompletedPart wrong = parts.get(0).toBuilder().checksumCRC32C(sums.get(1)).build();
    assertS3Error(() -> complete("obj", id, wrong, parts.get(1)), 400, "InvalidPart");
    // A part of another algorithm than the upload's is refused.
    assertS3Error(() -> plain.uploadPart(b -> b.bucket(BUCKET).key("obj").uploadId(id)
        .partNumber(3).checksumSHA256(ChecksumAlgorithm.SHA256.of(two)),
        RequestBody.fromBytes(two)), 400, "InvalidRequest");

    CompleteMultipartUploadResponse done = complete("obj", id, parts.get(0), parts.get(1));
    String composite = ChecksumAlgorithm.CRC32C.composite(sums);
    assertThat(composite).endsWith("-2");
    assertThat(done.checksumCRC32C()).isEqualTo(composite);
    assertThat(done.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
    var head = plain.headObject(b -> b.bucket(BUCKET).key("obj").checksumMode(
        ChecksumMode.ENABLED));
    assertThat(head.checksumCRC32C()).isEqualTo(composite);
    assertThat(head.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
  }

  @Test
  void fullObjectCrc64NvmeCoversTheWholeObject() {
    byte[] one = random(MIB5, 14);
    byte[] two = random(4321, 15);
    String id = plain.createMultipartUpload(b -> b.bucket(BUCKET).key("obj")
        .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.CRC64_NVME))
        .uploadId();
    CompletedPart p1 = part("obj", id, 1, one);
    CompletedPart p2 = part("obj", id, 2, two);
    String whole = ChecksumAlgorithm.CRC64NVME.of(concat(one, two));
    String wrong = ChecksumAlgorithm.CRC64NVME.of(one);
    assertS3Error(() -> plain.completeMultipartUpload(b -> b.bucket(BUCKET).key("obj")
        .uploadId(id).checksumCRC64NVME(wrong).multipartUpload(m -> m.parts(p1, p2))), 400,
        "BadDigest");
    CompleteMultipartUploadResponse done = plain.completeMultipartUpload(b -> b.bucket(BUCKET)
        .key("obj").uploadId(id).checksumCRC64NVME(whole).checksumType(ChecksumType.FULL_OBJECT)
        .multipartUpload(m -> m.parts(p1, p2)));
    assertThat(done.checksumCRC64NVME()).isEqualTo(whole);
    assertThat(done.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
    assertThat(plain.headObject(b -> b.bucket(BUCKET).key("obj").checksumMode(
        ChecksumMode.ENABLED)).checksumCRC64NVME()).isEqualTo(whole);
  }

  @Test
  void checksumAlgorithmAndTypeMustAgree() {
    assertS3Error(() -> plain.createMultipartUpload(b -> b.bucket(BUCKET).key("o")
        .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.SHA256)
        .checksumType(ChecksumType.FULL_OBJECT)), 400, "InvalidRequest");
    assertS3Error(() -> plain.createMultipartUpload(b -> b.bucket(BUCKET).key("o")
        .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.CRC64_NVME)
        .checksumType(ChecksumType.COMPOSITE)), 400, "InvalidRequest");
    assertS3Error(() -> plain.createMultipartUpload(b -> b.bucket(BUCKET).key("o")
        .checksumType(ChecksumType.FULL_OBJECT)), 400, "InvalidRequest");
    var full = plain.createMultipartUpload(b -> b.bucket(BUCKET).key("o")
        .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.CRC32)
        .checksumType(ChecksumType.FULL_OBJECT));
    assertThat(full.checksumTypeAsString()).isEqualTo("FULL_OBJECT");
    assertThat(full.checksumAlgorithmAsString()).isEqualTo("CRC32");
  }

  @Test
  void listMultipartUploadsByKeyThenCreationWithPrefixAndPages() {
    String b2 = create("p/b");
    String a1 = create("p/a");
    clock.advance(Duration.ofMinutes(1));
    String a2 = create("p/a");
    create("q/c");
    var first = plain.listMultipartUploads(b -> b.bucket(BUCKET).prefix("p/").maxUploads(2));
    assertThat(first.uploads()).extracting(MultipartUpload::uploadId).containsExactly(a1, a2);
    assertThat(first.isTruncated()).isTrue();
    assertThat(first.uploads().get(1).initiated())
        .isEqualTo(SimClock.DEFAULT_START.plus(Duration.ofMinutes(1)));
    List<String> all = new ArrayList<>();
    plain.listMultipartUploadsPaginator(b -> b.bucket(BUCKET).prefix("p/").maxUploads(1))
        .uploads().forEach(u -> all.add(u.key() + "@" + u.uploadId()));
    assertThat(all).containsExactly("p/a@" + a1, "p/a@" + a2, "p/b@" + b2);
  }

  /**
   * Pages start at their markers in the index of uploads by key and creation: every upload under
   * the prefix once, in order, whatever the page size, with uploads under other prefixes around
   * it and one aborted in the middle; a key marker with an upload-id marker resumes within a key.
   */
  @Test
  void listMultipartUploadsPagesFromTheirMarkersAcrossManyUploads() {
    List<String> expected = new ArrayList<>();
    String aborted = null;
    for (int k = 0; k < 7; k++) {
      create("o/" + k);
      for (int n = 0; n < 3; n++) {
        String key = "p/" + k;
        String id = create(key);
        if (k == 3 && n == 1) {
          aborted = id;
        } else {
          expected.add(key + "@" + id);
        }
      }
      create("q/" + k);
    }
    String gone = aborted;
    plain.abortMultipartUpload(b -> b.bucket(BUCKET).key("p/3").uploadId(gone));
    for (int size : new int[] {1, 2, 5, 1000}) {
      List<String> all = new ArrayList<>();
      plain.listMultipartUploadsPaginator(b -> b.bucket(BUCKET).prefix("p/").maxUploads(size))
          .uploads().forEach(u -> all.add(u.key() + "@" + u.uploadId()));
      assertThat(all).as("pages of %d", size).isEqualTo(expected);
    }
    String within = expected.get(9).substring("p/3@".length()); // p/3's first upload
    var rest = plain.listMultipartUploads(b -> b.bucket(BUCKET).prefix("p/").keyMarker("p/3")
        .uploadIdMarker(within).maxUploads(2));
    assertThat(rest.uploads()).extracting(u -> u.key() + "@" + u.uploadId())
        .containsExactlyElementsOf(expected.subList(10, 12));
    assertThat(rest.isTruncated()).isTrue();
    var afterKey = plain.listMultipartUploads(b -> b.bucket(BUCKET).keyMarker("p/6"));
    assertThat(afterKey.uploads()).extracting(MultipartUpload::key)
        .containsExactly("q/0", "q/1", "q/2", "q/3", "q/4", "q/5", "q/6");
    assertThat(afterKey.isTruncated()).isFalse();
  }

  @Test
  void asyncClientUploadsAndCopiesParts() throws Exception {
    byte[] one = random(MIB5, 16);
    byte[] two = random(10, 17);
    String id = async.createMultipartUpload(b -> b.bucket(BUCKET).key("obj")).join().uploadId();
    String e1 = async.uploadPart(b -> b.bucket(BUCKET).key("obj").uploadId(id).partNumber(1),
        AsyncRequestBody.fromBytes(one)).join().eTag();
    plain.putObject(b -> b.bucket(BUCKET).key("src"), RequestBody.fromBytes(two));
    String e2 = async.uploadPartCopy(b -> b.sourceBucket(BUCKET).sourceKey("src")
        .destinationBucket(BUCKET).destinationKey("obj").uploadId(id).partNumber(2)).join()
        .copyPartResult().eTag();
    async.completeMultipartUpload(b -> b.bucket(BUCKET).key("obj").uploadId(id)
        .multipartUpload(m -> m.parts(CompletedPart.builder().partNumber(1).eTag(e1).build(),
            CompletedPart.builder().partNumber(2).eTag(e2).build()))).join();
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("obj")).asByteArray())
        .isEqualTo(concat(one, two));
    assertThat(plain.headObject(b -> b.bucket(BUCKET).key("obj")).eTag())
        .isEqualTo(multipartEtag(one, two));
  }
}
