package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** The multipart copy threshold: by endpoint unless set (docs/s3-store.md, "The commit's copy"). */
class MultipartCopyThresholdTest {
  private static final long MIB = 1L << 20;
  private static final URI LOCAL = URI.create("http://127.0.0.1:9090");

  @Test
  void awsCopiesFrom128MibInPartsAndAnEndpointOverrideInOneCopyObject() {
    S3StoreConfig aws = S3StoreConfig.builder().bucket("b").build();
    S3StoreConfig local = S3StoreConfig.builder().bucket("b").endpoint(LOCAL).build();
    assertThat(aws.multipartCopyThreshold()).isEqualTo(128 * MIB);
    assertThat(local.multipartCopyThreshold()).isEqualTo(5L << 30);
    // Unset stays unset through toBuilder: the endpoint given later decides.
    assertThat(aws.toBuilder().endpoint(LOCAL).build().multipartCopyThreshold())
        .isEqualTo(5L << 30);
  }

  @Test
  void aThresholdSetIsKeptWhateverTheEndpoint() {
    S3StoreConfig set = S3StoreConfig.builder().bucket("b").multipartCopyThreshold(64 * MIB)
        .build();
    assertThat(set.multipartCopyThreshold()).isEqualTo(64 * MIB);
    assertThat(set.toBuilder().endpoint(LOCAL).build().multipartCopyThreshold())
        .isEqualTo(64 * MIB);
  }
}
