package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.Bucket;

/** CreateBucket, HeadBucket, DeleteBucket, ListBuckets. */
class BucketsTest extends SimTestBase {

  @Test
  void createHeadListAndDelete() {
    s3.createBucket(b -> b.bucket("second"));
    s3.headBucket(b -> b.bucket("second"));
    assertThat(s3.listBuckets().buckets()).extracting(Bucket::name)
        .containsExactly(BUCKET, "second");
    assertS3Error(() -> s3.createBucket(b -> b.bucket("second")), 409, "BucketAlreadyOwnedByYou");
    s3.putObject(b -> b.bucket("second").key("k"), RequestBody.fromString("v"));
    assertS3Error(() -> s3.deleteBucket(b -> b.bucket("second")), 409, "BucketNotEmpty");
    s3.deleteObject(b -> b.bucket("second").key("k"));
    s3.deleteBucket(b -> b.bucket("second"));
    assertS3Error(() -> s3.headBucket(b -> b.bucket("second")), 404, null);
    assertS3Error(() -> s3.deleteBucket(b -> b.bucket("second")), 404, "NoSuchBucket");
  }

  @Test
  void invalidNamesAreRefused() {
    // The SDK refuses such a name itself, so ask the server directly.
    SimResponse upper = sim.server().handle(SimRequest.builder("PUT", "/Upper").build());
    assertThat(upper.status()).isEqualTo(400);
    assertThat(upper.bodyText()).contains("<Code>InvalidBucketName</Code>")
        .contains("<BucketName>Upper</BucketName>");
    assertThatThrownBy(() -> sim.createBucket("a")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"a\"");
    assertThatThrownBy(() -> sim.createBucket(BUCKET)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(BUCKET);
  }
}
