package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.TaggingDirective;

/** CopyObject: bytes, ETag, time, directives, same-key rules, conditions, checksums. */
class CopyTest extends SimTestBase {

  private void source(byte[] content) {
    s3.putObject(b -> b.bucket(BUCKET).key("src").contentType("text/x-src")
        .metadata(Map.of("m", "1")).tagging("t=1"), RequestBody.fromBytes(content));
  }

  private CopyObjectResponse copy(String key,
      java.util.function.Consumer<software.amazon.awssdk.services.s3.model.CopyObjectRequest.Builder>
          more) {
    return s3.copyObject(b -> {
      b.sourceBucket(BUCKET).sourceKey("src").destinationBucket(BUCKET).destinationKey(key);
      more.accept(b);
    });
  }

  @Test
  void copyCarriesBytesMetadataAndTagsWithANewTimeAndTheMd5Etag() {
    byte[] content = random(50_000, 1);
    source(content);
    clock.advance(Duration.ofMinutes(5));
    CopyObjectResponse copied = copy("dst", b -> { });
    String etag = s3.headObject(b -> b.bucket(BUCKET).key("src")).eTag();
    assertThat(copied.copyObjectResult().eTag()).isEqualTo(etag);
    assertThat(copied.copyObjectResult().lastModified())
        .isEqualTo(SimClock.DEFAULT_START.plus(Duration.ofMinutes(5)));
    var got = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("dst"));
    assertThat(got.asByteArray()).isEqualTo(content);
    assertThat(got.response().contentType()).isEqualTo("text/x-src");
    assertThat(got.response().metadata()).isEqualTo(Map.of("m", "1"));
    assertThat(s3.getObjectTagging(b -> b.bucket(BUCKET).key("dst")).tagSet())
        .containsExactly(Tag.builder().key("t").value("1").build());
  }

  @Test
  void replaceDirectivesReplaceMetadataAndTags() {
    source(bytes("x"));
    copy("dst", b -> b.metadataDirective(MetadataDirective.REPLACE).metadata(Map.of("n", "2"))
        .contentType("text/x-new").taggingDirective(TaggingDirective.REPLACE).tagging("u=2"));
    var head = s3.headObject(b -> b.bucket(BUCKET).key("dst"));
    assertThat(head.metadata()).isEqualTo(Map.of("n", "2"));
    assertThat(head.contentType()).isEqualTo("text/x-new");
    assertThat(s3.getObjectTagging(b -> b.bucket(BUCKET).key("dst")).tagSet())
        .containsExactly(Tag.builder().key("u").value("2").build());
    copy("untagged", b -> b.taggingDirective(TaggingDirective.REPLACE));
    assertThat(s3.getObjectTagging(b -> b.bucket(BUCKET).key("untagged")).tagSet()).isEmpty();
  }

  @Test
  void copyToItselfNeedsAChange() {
    source(bytes("x"));
    assertS3Error(() -> s3.copyObject(b -> b.sourceBucket(BUCKET).sourceKey("src")
        .destinationBucket(BUCKET).destinationKey("src")), 400, "InvalidRequest");
    s3.copyObject(b -> b.sourceBucket(BUCKET).sourceKey("src").destinationBucket(BUCKET)
        .destinationKey("src").metadataDirective(MetadataDirective.REPLACE)
        .metadata(Map.of("v", "2")));
    assertThat(s3.headObject(b -> b.bucket(BUCKET).key("src")).metadata())
        .isEqualTo(Map.of("v", "2"));
  }

  @Test
  void missingSourceIs404AndNothingIsWritten() {
    assertS3Error(() -> copy("dst", b -> { }), 404, "NoSuchKey");
    assertS3Error(() -> s3.headObject(b -> b.bucket(BUCKET).key("dst")), 404, null);
  }

  @Test
  void destinationConditionsAreHonoured() {
    source(bytes("new"));
    String old = s3.putObject(b -> b.bucket(BUCKET).key("dst"), RequestBody.fromString("old"))
        .eTag();
    assertS3Error(() -> copy("dst", b -> b.ifNoneMatch("*")), 412, "PreconditionFailed");
    assertS3Error(() -> copy("dst", b -> b.ifMatch("\"other\"")), 412, "PreconditionFailed");
    assertS3Error(() -> copy("fresh", b -> b.ifMatch(old)), 404, "NoSuchKey");
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("dst")).asUtf8String())
        .isEqualTo("old");
    copy("dst", b -> b.ifMatch(old));
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("dst")).asUtf8String())
        .isEqualTo("new");
    copy("created", b -> b.ifNoneMatch("*"));
  }

  @Test
  void copySourceConditionsFailWith412() {
    source(bytes("x"));
    String etag = s3.headObject(b -> b.bucket(BUCKET).key("src")).eTag();
    assertS3Error(() -> copy("dst", b -> b.copySourceIfMatch("\"other\"")), 412,
        "PreconditionFailed");
    assertS3Error(() -> copy("dst", b -> b.copySourceIfNoneMatch(etag)), 412,
        "PreconditionFailed");
    copy("dst", b -> b.copySourceIfMatch(etag));
  }

  @Test
  void checksumsCarryOverOrAreComputedInTheAlgorithmAsked() {
    S3Client plain = Clients.plain(sim, "h2", 1);
    byte[] content = random(10_000, 2);
    plain.putObject(b -> b.bucket(BUCKET).key("src")
        .checksumSHA256(dev.coffer.s3sim.ChecksumAlgorithm.SHA256.of(content)),
        RequestBody.fromBytes(content));
    CopyObjectResponse carried = plain.copyObject(b -> b.sourceBucket(BUCKET).sourceKey("src")
        .destinationBucket(BUCKET).destinationKey("same"));
    assertThat(carried.copyObjectResult().checksumSHA256())
        .isEqualTo(dev.coffer.s3sim.ChecksumAlgorithm.SHA256.of(content));
    assertThat(carried.copyObjectResult().checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
    CopyObjectResponse changed = plain.copyObject(b -> b.sourceBucket(BUCKET).sourceKey("src")
        .destinationBucket(BUCKET).destinationKey("crc").checksumAlgorithm(
            ChecksumAlgorithm.CRC32_C));
    String crc = dev.coffer.s3sim.ChecksumAlgorithm.CRC32C.of(content);
    assertThat(changed.copyObjectResult().checksumCRC32C()).isEqualTo(crc);
    assertThat(plain.headObject(b -> b.bucket(BUCKET).key("crc")
        .checksumMode(ChecksumMode.ENABLED)).checksumCRC32C()).isEqualTo(crc);
    plain.close();
  }
}
