package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3Stores;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The multipart server-side copy that moves blobs above 5 GiB to their digest key, exercised with
 * the threshold lowered to 5 MiB; and the committed blob read through the plain S3 API by its
 * documented key, as other tools would.
 */
class S3CopyPathIT {
  private static final int MIB = 1 << 20;

  @Test
  void blobAboveTheThresholdIsCopiedInPartsAndReadableByItsKey() {
    S3Mock s3 = S3Mock.get();
    String bucket = s3.newBucket();
    String prefix = S3Mock.newPrefix();
    RequestCounter counter = new RequestCounter();
    byte[] bytes = S3StoreIT.random(17 * MIB + 4321, 5);
    Digest digest = Digest.of(bytes);
    try (S3Client client = s3.client(counter);
        S3AsyncClient bulk = s3.asyncClient(counter);
        ContentStore store = S3Stores.builder()
            .config(s3.config(bucket, prefix).partSize(5 * MIB).multipartCopyThreshold(5 * MIB)
                .copyPartSize(5 * MIB).copyConcurrency(3).build())
            .client(client).bulkClient(bulk).build()) {
      try (Writer writer = store.writer("big", Descriptor.of(digest, bytes.length))) {
        writer.write(bytes);
        counter.take();
        writer.commit(bytes.length, digest, Map.of("origin", "copy-path"));
      }
      Map<String, Integer> commit = counter.take();
      // 17 MiB in ranges of at least 5 MiB: three ranges, copied in parallel; no CopyObject.
      assertThat(commit).containsEntry("UploadPartCopy", 3).doesNotContainKey("CopyObject");
      assertThat(commit).containsEntry("CreateMultipartUpload", 1)
          .containsEntry("CompleteMultipartUpload", 2);
      assertThat(store.info(digest).labels()).containsEntry("origin", "copy-path");
    }
    try (S3Client plain = s3.client()) {
      String key = prefix + "blobs/sha256/" + digest.hex();
      byte[] stored = plain.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
      assertThat(stored.length).isEqualTo(bytes.length);
      assertThat(Digest.of(stored)).isEqualTo(digest);
      assertThat(plain.getObjectTagging(b -> b.bucket(bucket).key(key)).tagSet())
          .extracting(t -> t.key() + "=" + t.value())
          .containsExactlyInAnyOrder("refs=0", "state=live");
      assertThat(plain.listObjectsV2(b -> b.bucket(bucket).prefix(prefix + "ingest/"))
          .contents()).isEmpty();
    }
  }
}
