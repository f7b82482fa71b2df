package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * Two hosts collecting garbage at once: one host's gc lists a deleted blob's record, and before
 * its deleting-to-purging compare-and-swap reaches the server the other host's gc purges the
 * blob and deletes the record. S3 answers an If-Match write of a missing key with 404; the first
 * gc must skip the record, not fail (found by {@link BuildFarmIT}, where it failed with
 * NotFoundException).
 */
class ConcurrentGcIT {

  @Test
  void gcSkipsARecordAnotherGcPurgedMeanwhile() {
    S3Endpoint endpoint = S3Endpoint.selected();
    S3StoreConfig config = endpoint.config(endpoint.newBucket(), endpoint.newPrefix())
        .deletionGrace(Duration.ZERO).build();
    GcOptions options = new GcOptions(Duration.ofDays(1), false);
    AtomicBoolean armed = new AtomicBoolean();
    try (ContentStore other = S3Stores.open(config);
        S3Client control = endpoint.clientWithHook(request -> {
          if (request instanceof PutObjectRequest put && put.ifMatch() != null
              && put.key().contains("/index/") && armed.getAndSet(false)) {
            assertThat(other.gc(options).blobsPurged()).isEqualTo(1);
          }
        });
        ContentStore host = S3Stores.builder().config(config).client(control).build()) {
      byte[] bytes = "collected twice".getBytes(StandardCharsets.UTF_8);
      Digest digest = RefCountHosts.commitAndRef(host, "ref", bytes, null).digest();
      host.deref(digest);
      armed.set(true);

      GcReport report = host.gc(options);

      assertThat(armed).as("the other gc ran in between").isFalse();
      assertThat(report.blobsPurged()).isZero();
      assertThat(report.skipped()).extracting(GcReport.Skip::subject)
          .containsExactly(digest.toString());
      assertThatThrownBy(() -> other.info(digest)).isInstanceOf(NotFoundException.class);
    }
  }
}
