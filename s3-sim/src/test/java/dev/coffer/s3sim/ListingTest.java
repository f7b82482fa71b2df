package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/** ListObjectsV2: lexicographic order, prefix, delimiter, pages, start-after, odd keys. */
class ListingTest extends SimTestBase {

  private void put(String... keys) {
    for (String k : keys) {
      s3.putObject(b -> b.bucket(BUCKET).key(k), RequestBody.fromString(k));
    }
  }

  private List<String> all(String prefix, int pageSize) {
    List<String> keys = new ArrayList<>();
    s3.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(prefix).maxKeys(pageSize)).contents()
        .forEach(o -> keys.add(o.key()));
    return keys;
  }

  @Test
  void keysComeInLexicographicOrderAcrossPages() {
    put("b", "a/2", "a/10", "a/1", "A", "a b", "a+b", "ü", "a/1/x");
    assertThat(all("", 2)).containsExactly("A", "a b", "a+b", "a/1", "a/1/x", "a/10", "a/2",
        "b", "ü");
    assertThat(all("a/", 1)).containsExactly("a/1", "a/1/x", "a/10", "a/2");
    assertThat(all("zzz", 5)).isEmpty();
  }

  @Test
  void pagesCarryContinuationTokensAndKeyCounts() {
    put("k1", "k2", "k3");
    ListObjectsV2Response first = s3.listObjectsV2(b -> b.bucket(BUCKET).maxKeys(2));
    assertThat(first.contents()).extracting(S3Object::key).containsExactly("k1", "k2");
    assertThat(first.isTruncated()).isTrue();
    assertThat(first.keyCount()).isEqualTo(2);
    ListObjectsV2Response second = s3.listObjectsV2(b -> b.bucket(BUCKET).maxKeys(2)
        .continuationToken(first.nextContinuationToken()));
    assertThat(second.contents()).extracting(S3Object::key).containsExactly("k3");
    assertThat(second.isTruncated()).isFalse();
    assertThat(second.nextContinuationToken()).isNull();
    assertThat(second.contents().get(0).size()).isEqualTo(2L);
    assertS3Error(() -> s3.listObjectsV2(b -> b.bucket(BUCKET).continuationToken("garbage!")),
        400, "InvalidArgument");
  }

  @Test
  void startAfterSkipsKeys() {
    put("a", "b", "c");
    assertThat(s3.listObjectsV2(b -> b.bucket(BUCKET).startAfter("a")).contents())
        .extracting(S3Object::key).containsExactly("b", "c");
  }

  @Test
  void delimiterRollsUpCommonPrefixesThatCountTowardsPages() {
    put("p/a/1", "p/a/2", "p/b/1", "p/c", "p/d/1", "q");
    ListObjectsV2Response all = s3.listObjectsV2(b -> b.bucket(BUCKET).prefix("p/")
        .delimiter("/"));
    assertThat(all.commonPrefixes()).extracting(CommonPrefix::prefix)
        .containsExactly("p/a/", "p/b/", "p/d/");
    assertThat(all.contents()).extracting(S3Object::key).containsExactly("p/c");
    List<String> paged = new ArrayList<>();
    s3.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix("p/").delimiter("/").maxKeys(1))
        .forEach(page -> {
          assertThat(page.keyCount()).isEqualTo(1);
          page.commonPrefixes().forEach(c -> paged.add(c.prefix()));
          page.contents().forEach(c -> paged.add(c.key()));
        });
    assertThat(paged).containsExactly("p/a/", "p/b/", "p/c", "p/d/");
  }

  @Test
  void listingAMissingBucketIs404() {
    assertS3Error(() -> s3.listObjectsV2(b -> b.bucket("nope")), 404, "NoSuchBucket");
  }
}
