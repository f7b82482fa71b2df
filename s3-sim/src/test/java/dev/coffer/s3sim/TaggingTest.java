package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.Tag;

/** Object tagging: set with PutObject, replaced whole, removed, and S3's limits. */
class TaggingTest extends SimTestBase {

  private static Tag tag(String k, String v) {
    return Tag.builder().key(k).value(v).build();
  }

  private List<Tag> tags(String key) {
    return s3.getObjectTagging(b -> b.bucket(BUCKET).key(key)).tagSet();
  }

  @Test
  void tagsSetOnPutAreReplacedWholeAndDeleted() {
    s3.putObject(b -> b.bucket(BUCKET).key("k").tagging("refs=1&state=live&sp ace=a%2Fb"),
        RequestBody.fromString("v"));
    assertThat(tags("k")).containsExactly(tag("refs", "1"), tag("state", "live"),
        tag("sp ace", "a/b"));
    assertThat(s3.headObject(b -> b.bucket(BUCKET).key("k")).sdkHttpResponse()
        .firstMatchingHeader("x-amz-tagging-count")).hasValue("3");
    s3.putObjectTagging(b -> b.bucket(BUCKET).key("k").tagging(t -> t.tagSet(tag("refs", "2"))));
    assertThat(tags("k")).containsExactly(tag("refs", "2"));
    s3.deleteObjectTagging(b -> b.bucket(BUCKET).key("k"));
    assertThat(tags("k")).isEmpty();
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String())
        .isEqualTo("v");
  }

  @Test
  void taggingAMissingObjectIs404() {
    assertS3Error(() -> s3.getObjectTagging(b -> b.bucket(BUCKET).key("nope")), 404, "NoSuchKey");
    assertS3Error(() -> s3.putObjectTagging(b -> b.bucket(BUCKET).key("nope")
        .tagging(t -> t.tagSet(tag("a", "b")))), 404, "NoSuchKey");
  }

  @Test
  void limitsAreEnforcedAndNothingChangesOnRefusal() {
    s3.putObject(b -> b.bucket(BUCKET).key("k").tagging("keep=1"), RequestBody.fromString("v"));
    List<Tag> eleven = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      eleven.add(tag("k" + i, "v"));
    }
    assertS3Error(() -> s3.putObjectTagging(b -> b.bucket(BUCKET).key("k")
        .tagging(t -> t.tagSet(eleven))), 400, "BadRequest");
    assertS3Error(() -> s3.putObjectTagging(b -> b.bucket(BUCKET).key("k")
        .tagging(t -> t.tagSet(tag("x".repeat(129), "v")))), 400, "InvalidTag");
    assertS3Error(() -> s3.putObjectTagging(b -> b.bucket(BUCKET).key("k")
        .tagging(t -> t.tagSet(tag("k", "v".repeat(257))))), 400, "InvalidTag");
    assertS3Error(() -> s3.putObjectTagging(b -> b.bucket(BUCKET).key("k")
        .tagging(t -> t.tagSet(tag("d", "1"), tag("d", "2")))), 400, "InvalidTag");
    assertS3Error(() -> s3.putObject(b -> b.bucket(BUCKET).key("other")
        .tagging("a=1&a=2"), RequestBody.fromString("v")), 400, "InvalidTag");
    assertS3Error(() -> s3.headObject(b -> b.bucket(BUCKET).key("other")), 404, null);
    assertThat(tags("k")).containsExactly(tag("keep", "1"));
    // At the limits: 10 tags, a 128-character key, a 256-character value.
    List<Tag> ten = new ArrayList<>(eleven.subList(0, 9));
    ten.add(tag("x".repeat(128), "v".repeat(256)));
    s3.putObjectTagging(b -> b.bucket(BUCKET).key("k").tagging(t -> t.tagSet(ten)));
    assertThat(tags("k")).containsExactlyElementsOf(ten);
  }
}
