package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * OBS-1 on the clients a store builds for itself (Apache for records, Netty for bulk bytes), on
 * S3Mock: a small commit is counted as the request figures S3RequestCountIT documents, and a read
 * as its GetObject with the blob's bytes.
 */
class S3StoreMetricsIT {

  @Test
  void theStoresOwnClientsCountEachRequest() {
    S3Mock s3 = S3Mock.get();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    S3StoreConfig config = s3.config(s3.newBucket(), S3Mock.newPrefix()).partSize(5 << 20)
        .transfer(S3StoreConfig.Transfer.JAVA_ASYNC).build();
    byte[] bytes = "a small blob, counted".getBytes();
    Digest digest = Digest.of(bytes);
    try (ContentStore store = S3Stores.builder().config(config).meterRegistry(registry)
        .build()) {
      try (Writer writer = store.writer("small", Descriptor.UNKNOWN)) {
        writer.write(bytes);
        writer.commit(bytes.length, digest, null);
      }
      assertThat(requests(registry)).isEqualTo(Map.of("PutObject 200", 3L, "DeleteObject 204", 1L));
      double before = received(registry);
      assertThat(Content.readBlob(store, new Descriptor(digest, bytes.length))).isEqualTo(bytes);
      // The blob's bytes, and any record the read looked up on the way.
      assertThat(received(registry) - before).isGreaterThanOrEqualTo(bytes.length);
    }
    assertThat(registry.get("coffer.store.operations").tag("operation", "commit")
        .tag("outcome", "ok").timer().count()).isEqualTo(1);
  }

  private static double received(SimpleMeterRegistry registry) {
    Counter c = registry.find("coffer.s3.bytes").tag("operation", "GetObject")
        .tag("direction", "in").counter();
    return c == null ? 0 : c.count();
  }

  private static Map<String, Long> requests(SimpleMeterRegistry registry) {
    Map<String, Long> counts = new TreeMap<>();
    for (Counter c : registry.find("coffer.s3.requests").counters()) {
      counts.merge(c.getId().getTag("operation") + " " + c.getId().getTag("status"),
          (long) c.count(), Long::sum);
    }
    return counts;
  }
}
