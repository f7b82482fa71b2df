package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.BadInputProperties;
import dev.coffer.store.ContentStore;
import dev.coffer.store.s3.S3Stores;
import java.util.List;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 store on S3Mock against the bad-input properties, with fewer tries than the in-memory
 * store (each try is a few requests). Each property gets its own bucket; after it, every object
 * and multipart upload in the whole bucket lies under the store's prefix, whatever refs, labels
 * and digests were thrown at it.
 */
class S3BadInputPropertiesIT extends BadInputProperties {
  private String bucket;
  private String prefix;

  @Override
  protected int tries() {
    return 100;
  }

  @Override
  protected ContentStore createStore() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
    return S3Stores.open(S3Mock.get().config(bucket, prefix).build());
  }

  @Override
  protected void afterRun(ContentStore store) {
    try (S3Client s3 = S3Mock.get().client()) {
      List<String> keys = s3.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream()
          .map(S3Object::key).toList();
      assertThat(keys).as("keys in the bucket").isNotEmpty()
          .allSatisfy(k -> assertThat(k).startsWith(prefix));
      assertThat(s3.listMultipartUploads(b -> b.bucket(bucket)).uploads())
          .extracting(MultipartUpload::key).allSatisfy(k -> assertThat(k).startsWith(prefix));
    }
  }
}
