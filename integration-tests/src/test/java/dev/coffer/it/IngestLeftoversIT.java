package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.GcOptions;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * An ingest is removed record first, so that its ref is free at once, and its bytes after; a
 * failed request or a crash in between leaves bytes under {@code P/ingest/} that no record names
 * (found by {@link BuildFarmIT} with faults). gc removes them once older than the lease, and
 * leaves alone the bytes of an ingest whose record exists.
 */
class IngestLeftoversIT {

  @Test
  void gcRemovesIngestBytesWhoseRecordIsGone() throws Exception {
    S3Endpoint endpoint = S3Endpoint.selected();
    String bucket = endpoint.newBucket();
    String prefix = endpoint.newPrefix();
    Duration lease = Duration.ofSeconds(1);
    try (ContentStore store = S3Stores.open(endpoint.config(bucket, prefix)
            .leaseDuration(lease).build());
        S3Client plain = endpoint.client()) {
      write(store, "orphaned");
      List<String> before = keys(plain, bucket, prefix + "ingest/");
      String orphanState = before.stream()
          .filter(k -> k.endsWith("/state")).findFirst().orElseThrow();
      String orphanDir = orphanState.substring(0, orphanState.length() - "state".length());
      assertThat(before).filteredOn(k -> k.startsWith(orphanDir + "data/")).hasSize(1);
      // What removing an ingest leaves when the request deleting its bytes after its record fails.
      plain.deleteObject(b -> b.bucket(bucket).key(orphanState));

      store.gc(new GcOptions(Duration.ofDays(1), false));
      assertThat(keys(plain, bucket, orphanDir)).as("bytes younger than the ingest age stay")
          .hasSize(1);
      Thread.sleep(lease.toMillis() + 2000); // ages the bytes past the lease: not a poll
      write(store, "kept");
      store.gc(new GcOptions(lease, false));

      assertThat(keys(plain, bucket, orphanDir)).as("orphaned ingest bytes after gc").isEmpty();
      assertThat(store.status("kept").offset()).as("a young ingest stays")
          .isEqualTo(bytes("kept").length);
    }
  }

  private static void write(ContentStore store, String ref) {
    try (Writer writer = store.writer(ref, Descriptor.UNKNOWN)) {
      writer.write(bytes(ref));
    }
  }

  private static byte[] bytes(String ref) {
    return ("partial bytes of " + ref).getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> keys(S3Client plain, String bucket, String under) {
    List<String> keys = new ArrayList<>();
    plain.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(under))
        .forEach(page -> page.contents().forEach(o -> keys.add(o.key())));
    return keys;
  }
}
