package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;

/** The record's checks of single values and of their combination (see its class comment). */
class S3StoreConfigTest {
  private static final long MIB = 1L << 20;

  @Test
  void aPurgeTimeoutShorterThanTheClockAgreementIsRefusedOnAwsWithTheSystemClock() {
    S3StoreConfig.Builder builder =
        S3StoreConfig.builder().bucket("b").purgeTimeout(Duration.ofSeconds(1));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("purgeTimeout PT1S")
        .hasMessageContaining("AWS (no endpoint)")
        .hasMessageContaining("agree within PT0.5S")
        .hasMessageContaining("at least PT10S");
  }

  @Test
  void aPurgeTimeoutShorterThanTheClockAgreementIsRefusedWithAnEndpointOtherHostsReach() {
    S3StoreConfig.Builder builder = S3StoreConfig.builder().bucket("b")
        .endpoint(URI.create("https://s3.internal.example:9000"))
        .purgeTimeout(Duration.ofMillis(9_999));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("purgeTimeout PT9.999S")
        .hasMessageContaining("endpoint https://s3.internal.example:9000");
  }

  @Test
  void aShortPurgeTimeoutIsAcceptedOnLoopbackWithItsOwnClockOrFromTheSharedMinimum() {
    Duration shortTimeout = S3StoreConfig.PURGE_TIMEOUT_MIN;
    for (String local : new String[] {"http://127.0.0.1:9090", "http://localhost:1",
        "http://[::1]:2"}) {
      assertThat(S3StoreConfig.builder().bucket("b").endpoint(URI.create(local))
          .purgeTimeout(shortTimeout).build().purgeTimeout()).isEqualTo(shortTimeout);
    }
    Clock own = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
    assertThat(S3StoreConfig.builder().bucket("b").clock(own).purgeTimeout(shortTimeout).build()
        .purgeTimeout()).isEqualTo(shortTimeout);
    assertThat(S3StoreConfig.builder().bucket("b")
        .purgeTimeout(S3StoreConfig.PURGE_TIMEOUT_SHARED_MIN).build().purgeTimeout())
        .isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void aSystemClockInAnotherZoneIsStillTheSystemClock() {
    S3StoreConfig.Builder builder = S3StoreConfig.builder().bucket("b")
        .clock(Clock.system(ZoneOffset.ofHours(2))).purgeTimeout(Duration.ofSeconds(2));

    assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("purgeTimeout PT2S");
  }

  @Test
  void noBucketIsRefusedByBuild() {
    assertThatThrownBy(() -> S3StoreConfig.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessage("bucket is required");
  }

  @Test
  void theConstructorChecksEachValueAsTheBuilderDoes() {
    S3StoreConfig valid = S3StoreConfig.builder().bucket("b").build();

    assertThatThrownBy(() -> new S3StoreConfig(valid.bucket(), valid.prefix(), valid.region(),
        valid.endpoint(), valid.pathStyle(), valid.credentials(), 4 * MIB,
        valid.uploadConcurrency(), valid.copyConcurrency(), valid.copyPartSize(),
        valid.multipartCopyThreshold(), valid.readChunkSize(), valid.readConcurrency(),
        valid.checksumMode(), valid.signPayloads(), valid.transfer(), valid.leaseDuration(),
        valid.deletionGrace(), valid.purgeTimeout(), valid.casAttempts(), valid.sdkAttempts(),
        valid.trustConditionalRequests(), valid.clock(), valid.touchInterval(),
        valid.unusedFor(), valid.objectTags()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partSize 4194304 is outside [5242880, 536870912]");
    assertThatThrownBy(() -> new S3StoreConfig(valid.bucket(), "no-slash", valid.region(),
        valid.endpoint(), valid.pathStyle(), valid.credentials(), valid.partSize(),
        valid.uploadConcurrency(), valid.copyConcurrency(), valid.copyPartSize(),
        valid.multipartCopyThreshold(), valid.readChunkSize(), valid.readConcurrency(),
        valid.checksumMode(), valid.signPayloads(), valid.transfer(), valid.leaseDuration(),
        valid.deletionGrace(), valid.purgeTimeout(), valid.casAttempts(), valid.sdkAttempts(),
        valid.trustConditionalRequests(), valid.clock(), valid.touchInterval(),
        valid.unusedFor(), valid.objectTags()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid prefix \"no-slash\"");
  }

  @Test
  void theBuilderRefusesAValueOutOfBoundsNamingKeyAndValue() {
    assertThatThrownBy(() -> S3StoreConfig.builder().uploadConcurrency(65))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("uploadConcurrency 65 is outside [1, 64]");
    assertThatThrownBy(() -> S3StoreConfig.builder().leaseDuration(Duration.ofMillis(299)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("leaseDuration PT0.299S is outside [PT0.3S, PT1H]");
  }

  @Test
  void toBuilderKeepsEveryValue() {
    Clock own = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
    S3StoreConfig config = S3StoreConfig.builder().bucket("builds").prefix("cas/x")
        .region("eu-west-1").endpoint(URI.create("http://127.0.0.1:9090")).pathStyle(true)
        .credentials(AnonymousCredentialsProvider.create()).partSize(8 * MIB)
        .uploadConcurrency(3).copyConcurrency(5).copyPartSize(6 * MIB)
        .multipartCopyThreshold(7 * MIB).readChunkSize(MIB).readConcurrency(2)
        .checksumMode(S3StoreConfig.ChecksumMode.SHA256).transfer(S3StoreConfig.Transfer.CRT)
        .leaseDuration(Duration.ofSeconds(3)).deletionGrace(Duration.ofMinutes(4))
        .purgeTimeout(Duration.ofSeconds(5)).casAttempts(6).sdkAttempts(7)
        .trustConditionalRequests(true).clock(own).build();

    S3StoreConfig copy = config.toBuilder().build();

    assertThat(copy).isEqualTo(config);
    assertThat(copy.prefix()).isEqualTo("cas/x/");
    assertThat(copy.endpoint()).contains(URI.create("http://127.0.0.1:9090"));
    assertThat(copy.credentials()).isPresent();
    assertThat(S3StoreConfig.builder().bucket("b").build().credentials())
        .isEqualTo(Optional.empty());
  }

  @Test
  void toStringLeavesOutCredentials() {
    S3StoreConfig config = S3StoreConfig.builder().bucket("b")
        .credentials(AnonymousCredentialsProvider.create()).build();

    assertThat(config.toString()).startsWith("S3StoreConfig{bucket=b, prefix=, region=us-east-1")
        .doesNotContain("Anonymous");
  }
}
