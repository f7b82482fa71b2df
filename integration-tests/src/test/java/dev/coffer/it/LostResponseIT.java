package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Conditional writes that S3 applied but whose answer the client never got (the connection reset
 * after the write): the SDK retries, meets its own write as a 412, and the store must count the
 * change once. Counted twice, a deref could delete a blob another host still holds.
 */
class LostResponseIT {

  @Test
  void referenceChangesWhoseAnswersAreLostCountOnce() {
    S3Endpoint endpoint = S3Endpoint.selected();
    assumeTrue(endpoint.proxyable(),
        "needs a fault proxy in front of the server");
    String bucket = endpoint.newBucket();
    String prefix = endpoint.newPrefix();
    byte[] bytes = "held by two hosts".getBytes(StandardCharsets.UTF_8);
    Digest digest;
    try (ContentStore setup = S3Stores.open(endpoint.config(bucket, prefix).build())) {
      digest = RefCountHosts.commitAndRef(setup, "setup", bytes, null).digest();
    }
    try (FaultProxy proxy = endpoint.proxy().rate(FaultProxy.Fault.RESPONSE_LOST, 0.5).start();
        ContentStore host = S3Stores.open(endpoint.config(proxy.endpoint(), bucket, prefix)
            .deletionGrace(Duration.ZERO).sdkAttempts(3).build())) {
      for (int i = 0; i < 6; i++) {
        host.ref(digest);
      }
      assertThat(host.info(digest).refCount()).isEqualTo(7);
      for (int i = 0; i < 6; i++) {
        host.deref(digest);
      }
      long lost = proxy.injected().get(FaultProxy.Fault.RESPONSE_LOST);
      System.out.println("LostResponseIT: " + lost + " answers to applied conditional writes"
          + " dropped over 12 reference changes");
      assertThat(lost).as("answers dropped after the server applied the write").isGreaterThan(0);
      assertThat(host.info(digest).refCount()).isEqualTo(1);
      assertThat(Content.readBlob(host, Descriptor.of(digest))).isEqualTo(bytes);

      host.deref(digest);
      assertThatThrownBy(() -> host.info(digest))
          .isInstanceOf(NotFoundException.class);
    }
  }
}
