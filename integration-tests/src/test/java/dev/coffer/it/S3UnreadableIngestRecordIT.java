package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * SEC-5: any writer of the bucket can write an ingest record; one that does not parse (or parses into
 * nonsense) must not fail ListStatuses for every host: it is skipped, and the others are listed.
 */
class S3UnreadableIngestRecordIT {

  @Test
  void listStatusesSkipsRecordsThatDoNotParse() {
    String bucket = S3Mock.get().newBucket();
    String prefix = S3Mock.newPrefix();
    try (ContentStore store = S3Stores.open(S3Mock.get().config(bucket, prefix).build());
        S3Client s3 = S3Mock.get().client()) {
      try (Writer writer = store.writer("good-ref", Descriptor.UNKNOWN)) {
        writer.write(java.nio.ByteBuffer.wrap("partial".getBytes(StandardCharsets.UTF_8)));
      }
      // Garbage, a JSON value of the wrong shape, and a record without a ref.
      put(s3, bucket, prefix + "ingest/" + "0".repeat(64) + "/state", "{not json");
      put(s3, bucket, prefix + "ingest/" + "1".repeat(64) + "/state", "[1, 2, 3]");
      put(s3, bucket, prefix + "ingest/" + "2".repeat(64) + "/state", "{\"total\": 5}");

      List<Status> statuses = store.listStatuses();
      assertThat(statuses).extracting(Status::ref).containsExactly("good-ref");
      assertThat(statuses.get(0).offset()).isEqualTo(7);
      assertThat(store.listStatuses("ref==good-ref")).extracting(Status::ref)
          .containsExactly("good-ref");
      // The records stay where they are, for gc and fsck to judge.
      assertThat(S3Mock.get().exists(bucket, prefix + "ingest/" + "0".repeat(64) + "/state"))
          .isTrue();
    }
  }

  private static void put(S3Client s3, String bucket, String key, String content) {
    s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(content));
  }
}
