package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import io.netty.handler.codec.http.HttpMethod;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Which requests ask {@code Expect: 100-continue}, seen on the wire by a proxy in front of
 * S3Mock: none of a record's writes and none of a small object's, each of which would otherwise
 * wait a round trip for the server's go-ahead before its body; S3's own rule still asks it of an
 * object body of 1 MiB or more, where a refusal before the body saves sending it.
 */
class ExpectContinueIT {
  private final S3Mock s3 = S3Mock.get();
  private final String bucket = s3.newBucket();
  private final String prefix = S3Mock.newPrefix();
  private final S3StoreConfig config = s3.config(bucket, prefix).build();

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  @Test
  void recordWritesAndSmallObjectsAreSentWithoutWaitingForContinue() {
    byte[] small = random(20_000, 3);
    try (FaultProxy proxy = FaultProxy.builder(s3.endpoint()).start();
        ContentStore store = S3Stores.open(config.toBuilder().endpoint(proxy.endpoint()).build())) {
      Digest digest = Digest.of(small);
      store.putAndRef(small, digest, Map.of("build", "7"));
      store.ref(digest);
      store.deref(digest);

      assertThat(proxy.requests()).as("requests through the proxy").isGreaterThanOrEqualTo(4);
      assertThat(proxy.requests(HttpMethod.PUT, bucket, prefix + "blobs/sha256/"
          + digest.hex())).as("the object's PUT and its tags'").isPositive();
      assertThat(proxy.expectContinues()).as("requests that waited for 100 Continue").isEmpty();
    }
  }

  @Test
  void anObjectOfOneMibOrMoreStillAsksForContinue() {
    byte[] large = random(3 << 20, 5);
    try (FaultProxy proxy = FaultProxy.builder(s3.endpoint()).start();
        ContentStore store = S3Stores.open(config.toBuilder().endpoint(proxy.endpoint()).build())) {
      Digest digest = Digest.of(large);
      store.putAndRef(large, digest, Map.of());

      assertThat(proxy.expectContinues()).as("requests that waited for 100 Continue")
          .containsOnlyKeys("PUT /" + bucket + "/" + prefix + "blobs/sha256/" + digest.hex());
    }
  }
}
