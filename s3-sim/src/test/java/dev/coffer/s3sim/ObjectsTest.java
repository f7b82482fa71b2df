package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/** PutObject, GetObject, HeadObject, DeleteObject: bytes, ETags, ranges, conditions, checksums. */
class ObjectsTest extends SimTestBase {

  private static String md5Etag(byte[] b) throws Exception {
    return "\"" + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b)) + "\"";
  }

  @Test
  void putThenGetReturnsTheBytesWithQuotedMd5EtagAndTime() throws Exception {
    byte[] content = random(100_000, 1);
    clock.set(Instant.parse("2025-03-04T05:06:07.890Z"));
    PutObjectResponse put = s3.putObject(b -> b.bucket(BUCKET).key("dir/a b+c%ü")
        .contentType("application/x-test").metadata(Map.of("Owner", "ci")),
        RequestBody.fromBytes(content));
    assertThat(put.eTag()).isEqualTo(md5Etag(content));

    ResponseBytes<GetObjectResponse> got =
        s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("dir/a b+c%ü"));
    assertThat(got.asByteArray()).isEqualTo(content);
    assertThat(got.response().eTag()).isEqualTo(md5Etag(content));
    assertThat(got.response().contentLength()).isEqualTo(100_000L);
    assertThat(got.response().contentType()).isEqualTo("application/x-test");
    assertThat(got.response().metadata()).isEqualTo(Map.of("owner", "ci"));
    // S3's LastModified has whole seconds.
    assertThat(got.response().lastModified()).isEqualTo(Instant.parse("2025-03-04T05:06:07Z"));

    HeadObjectResponse head = s3.headObject(b -> b.bucket(BUCKET).key("dir/a b+c%ü"));
    assertThat(head.contentLength()).isEqualTo(100_000L);
    assertThat(head.eTag()).isEqualTo(md5Etag(content));
  }

  @Test
  void asyncClientPutsAndGets() throws Exception {
    byte[] content = random(3 << 20, 2);
    PutObjectResponse put = async.putObject(b -> b.bucket(BUCKET).key("k"),
        AsyncRequestBody.fromBytes(content)).join();
    assertThat(put.eTag()).isEqualTo(md5Etag(content));
    byte[] got = async.getObject(b -> b.bucket(BUCKET).key("k"),
        AsyncResponseTransformer.toBytes()).join().asByteArray();
    assertThat(got).isEqualTo(content);
    assertS3Error(() -> async.getObject(b -> b.bucket(BUCKET).key("missing"),
        AsyncResponseTransformer.toBytes()).join(), 404, "NoSuchKey");
  }

  @Test
  void overwriteReplacesAndReadSeesTheLatest() {
    s3.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromString("one"));
    s3.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromString("two"));
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String())
        .isEqualTo("two");
  }

  @Test
  void missingKeyAndBucketAre404() {
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("nope")), 404, "NoSuchKey");
    // HEAD answers carry no body: the SDK names the 404 by its status.
    assertS3Error(() -> s3.headObject(b -> b.bucket(BUCKET).key("nope")), 404, null);
    assertThat(catchNoSuchKey(() -> s3.headObject(b -> b.bucket(BUCKET).key("nope")))).isTrue();
    assertS3Error(() -> s3.getObject(b -> b.bucket("other").key("k")), 404, "NoSuchBucket");
    assertS3Error(() -> s3.putObject(b -> b.bucket("other").key("k"), RequestBody.empty()), 404,
        "NoSuchBucket");
  }

  private static boolean catchNoSuchKey(Runnable r) {
    try {
      r.run();
      return false;
    } catch (NoSuchKeyException e) {
      return true;
    }
  }

  @Test
  void rangesIncludingOpenAndSuffixAnswer206WithContentRange() {
    s3.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromString("0123456789"));
    assertRange("bytes=2-5", "2345", "bytes 2-5/10");
    assertRange("bytes=7-", "789", "bytes 7-9/10");
    assertRange("bytes=-3", "789", "bytes 7-9/10");
    assertRange("bytes=8-100", "89", "bytes 8-9/10");
    assertRange("bytes=-100", "0123456789", "bytes 0-9/10");
    assertRange("bytes=0-0", "0", "bytes 0-0/10");
  }

  private void assertRange(String range, String expected, String contentRange) {
    ResponseBytes<GetObjectResponse> got =
        s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k").range(range));
    assertThat(got.asUtf8String()).as(range).isEqualTo(expected);
    assertThat(got.response().contentRange()).as(range).isEqualTo(contentRange);
    assertThat(got.response().contentLength()).isEqualTo(expected.length());
    assertThat(got.response().sdkHttpResponse().statusCode()).isEqualTo(206);
  }

  @Test
  void unsatisfiableRangesAre416AndIgnoredOnesServeTheWholeObject() {
    s3.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromString("0123456789"));
    s3.putObject(b -> b.bucket(BUCKET).key("empty"), RequestBody.empty());
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("k").range("bytes=10-")), 416,
        "InvalidRange");
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("k").range("bytes=-0")), 416,
        "InvalidRange");
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("empty").range("bytes=0-")),
        416, "InvalidRange");
    for (String ignored : new String[] {"bytes=5-2", "items=0-1", "bytes=0-1,3-4", "bytes=x-"}) {
      ResponseBytes<GetObjectResponse> got =
          s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k").range(ignored));
      assertThat(got.asUtf8String()).as(ignored).isEqualTo("0123456789");
      assertThat(got.response().sdkHttpResponse().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void getConditionsAnswer412And304() throws Exception {
    s3.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromString("v"));
    String etag = md5Etag(bytes("v"));
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k").ifMatch(etag)).asUtf8String())
        .isEqualTo("v");
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("k").ifMatch("\"other\"")), 412,
        "PreconditionFailed");
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("k").ifNoneMatch(etag)), 304,
        null);
    assertS3Error(() -> s3.headObject(b -> b.bucket(BUCKET).key("k").ifMatch("\"other\"")), 412,
        null);
    Instant stored = clock.instant();
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("k").ifModifiedSince(stored)), 304,
        null);
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("k")
        .ifUnmodifiedSince(stored.minusSeconds(1))), 412, "PreconditionFailed");
    // If-Match that holds wins over a failing If-Unmodified-Since (RFC 7232, S3's docs).
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k").ifMatch(etag)
        .ifUnmodifiedSince(stored.minusSeconds(1))).asUtf8String()).isEqualTo("v");
  }

  @Test
  void deleteRemovesAndAMissingKeyIs204() {
    s3.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromString("v"));
    assertThat(s3.deleteObject(b -> b.bucket(BUCKET).key("k")).sdkHttpResponse().statusCode())
        .isEqualTo(204);
    assertS3Error(() -> s3.getObject(b -> b.bucket(BUCKET).key("k")), 404, "NoSuchKey");
    assertThat(s3.deleteObject(b -> b.bucket(BUCKET).key("k")).sdkHttpResponse().statusCode())
        .isEqualTo(204);
  }

  @Test
  void defaultClientSendsAndGetsBackItsCrc32ThroughAwsChunkedTrailer() {
    // The SDK's defaults send a CRC32 as a trailer of an aws-chunked body.
    byte[] content = bytes("hello, checksums");
    CRC32 crc = new CRC32();
    crc.update(content);
    String expected = Base64.getEncoder().encodeToString(
        java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    PutObjectResponse put = s3.putObject(b -> b.bucket(BUCKET).key("k"),
        RequestBody.fromBytes(content));
    assertThat(put.checksumCRC32()).isEqualTo(expected);
    assertThat(put.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
    GetObjectResponse got = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")
        .checksumMode(ChecksumMode.ENABLED)).response();
    assertThat(got.checksumCRC32()).isEqualTo(expected);
    assertThat(got.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
    HeadObjectResponse head = s3.headObject(b -> b.bucket(BUCKET).key("k")
        .checksumMode(ChecksumMode.ENABLED));
    assertThat(head.checksumCRC32()).isEqualTo(expected);
    // Without checksum mode, no checksum; a ranged GET never has one.
    assertThat(s3.headObject(b -> b.bucket(BUCKET).key("k")).checksumCRC32()).isNull();
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k").range("bytes=0-1")
        .checksumMode(ChecksumMode.ENABLED)).response().checksumCRC32()).isNull();
  }

  @Test
  void everyAlgorithmIsVerifiedStoredAndReturned() {
    S3Client plain = Clients.plain(sim, "h2", 1);
    byte[] content = random(70_000, 3);
    for (ChecksumAlgorithm a : ChecksumAlgorithm.values()) {
      String value = a.of(content);
      String key = "k-" + a;
      plain.putObject(b -> {
        b.bucket(BUCKET).key(key);
        switch (a) {
          case CRC32 -> b.checksumCRC32(value);
          case CRC32C -> b.checksumCRC32C(value);
          case CRC64NVME -> b.checksumCRC64NVME(value);
          case SHA1 -> b.checksumSHA1(value);
          case SHA256 -> b.checksumSHA256(value);
        }
      }, RequestBody.fromBytes(content));
      HeadObjectResponse head = plain.headObject(b -> b.bucket(BUCKET).key(key)
          .checksumMode(ChecksumMode.ENABLED));
      String returned = switch (a) {
        case CRC32 -> head.checksumCRC32();
        case CRC32C -> head.checksumCRC32C();
        case CRC64NVME -> head.checksumCRC64NVME();
        case SHA1 -> head.checksumSHA1();
        case SHA256 -> head.checksumSHA256();
      };
      assertThat(returned).as(a.toString()).isEqualTo(value);
      // A wrong value of the right length is BadDigest; nothing is stored.
      String wrong = a.of(bytes("something else"));
      assertS3Error(() -> plain.putObject(b -> {
        b.bucket(BUCKET).key(key + "-bad");
        switch (a) {
          case CRC32 -> b.checksumCRC32(wrong);
          case CRC32C -> b.checksumCRC32C(wrong);
          case CRC64NVME -> b.checksumCRC64NVME(wrong);
          case SHA1 -> b.checksumSHA1(wrong);
          case SHA256 -> b.checksumSHA256(wrong);
        }
      }, RequestBody.fromBytes(content)), 400, "BadDigest");
      assertS3Error(() -> plain.headObject(b -> b.bucket(BUCKET).key(key + "-bad")), 404, null);
    }
    plain.close();
  }

  @Test
  void objectsStoredWithoutAChecksumGetS3sDefaultCrc64Nvme() {
    S3Client plain = Clients.plain(sim, "h2", 1);
    byte[] content = random(1000, 4);
    plain.putObject(b -> b.bucket(BUCKET).key("k"), RequestBody.fromBytes(content));
    HeadObjectResponse head = plain.headObject(b -> b.bucket(BUCKET).key("k")
        .checksumMode(ChecksumMode.ENABLED));
    assertThat(head.checksumCRC64NVME()).isEqualTo(ChecksumAlgorithm.CRC64NVME.of(content));
    assertThat(head.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
    plain.close();
  }

  @Test
  void malformedAndMultipleChecksumsAreInvalidRequests() {
    S3Client plain = Clients.plain(sim, "h2", 1);
    assertS3Error(() -> plain.putObject(b -> b.bucket(BUCKET).key("k").checksumCRC32C("AAA="),
        RequestBody.fromString("x")), 400, "InvalidRequest");
    byte[] x = bytes("x");
    assertS3Error(() -> plain.putObject(b -> b.bucket(BUCKET).key("k")
        .checksumCRC32C(ChecksumAlgorithm.CRC32C.of(x)).checksumSHA256(ChecksumAlgorithm.SHA256
            .of(x)), RequestBody.fromBytes(x)), 400, "InvalidRequest");
    plain.close();
  }

  @Test
  void contentMd5IsVerified() throws Exception {
    S3Client plain = Clients.plain(sim, "h2", 1);
    byte[] x = bytes("content");
    String md5 = Base64.getEncoder().encodeToString(MessageDigest.getInstance("MD5").digest(x));
    plain.putObject(b -> b.bucket(BUCKET).key("ok").contentMD5(md5), RequestBody.fromBytes(x));
    String other = Base64.getEncoder().encodeToString(
        MessageDigest.getInstance("MD5").digest(bytes("other")));
    assertS3Error(() -> plain.putObject(b -> b.bucket(BUCKET).key("bad").contentMD5(other),
        RequestBody.fromBytes(x)), 400, "BadDigest");
    assertS3Error(() -> plain.putObject(b -> b.bucket(BUCKET).key("bad").contentMD5("nope"),
        RequestBody.fromBytes(x)), 400, "InvalidDigest");
    assertThat(plain.getObjectAsBytes(b -> b.bucket(BUCKET).key("ok")).asByteArray())
        .isEqualTo(x);
    plain.close();
  }

  @Test
  void lastModifiedFollowsTheSimulatedClock() {
    s3.putObject(b -> b.bucket(BUCKET).key("a"), RequestBody.fromString("a"));
    clock.advance(Duration.ofHours(2));
    s3.putObject(b -> b.bucket(BUCKET).key("b"), RequestBody.fromString("b"));
    assertThat(s3.headObject(b -> b.bucket(BUCKET).key("a")).lastModified())
        .isEqualTo(SimClock.DEFAULT_START);
    assertThat(s3.headObject(b -> b.bucket(BUCKET).key("b")).lastModified())
        .isEqualTo(SimClock.DEFAULT_START.plus(Duration.ofHours(2)));
  }

  @Test
  void emptyObjectRoundTrips() throws Exception {
    PutObjectResponse put = s3.putObject(b -> b.bucket(BUCKET).key("e"), RequestBody.empty());
    assertThat(put.eTag()).isEqualTo(md5Etag(new byte[0]));
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("e")).asByteArray()).isEmpty();
    assertThat(new String(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("e")).asByteArray(),
        StandardCharsets.UTF_8)).isEmpty();
  }
}
