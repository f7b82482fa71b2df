package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport.Finding;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.UnavailableException;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A purger's DeleteObject of the blob object is sent once: the SDK does not retry it (it would
 * delete an object a put stored again between an applied attempt whose answer was lost and the
 * retry), and a failure leaves the record {@code purging} for a takeover past the purge timeout.
 * Faults come from a {@link FaultProxy} aimed at the blob key's DELETE, which also counts the
 * requests that reached the server.
 */
class PurgeDeleteOnceIT {
  /** Short enough for a takeover within the test; the blob is stored well before the stamp. */
  private static final Duration PURGE_TIMEOUT = Duration.ofSeconds(1);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ProxiedBucket fixture = new ProxiedBucket();
  private final S3Mock s3 = fixture.s3;
  private final String bucket = fixture.bucket;
  private final ObjectKeys keys = fixture.keys;
  private final FaultProxy proxy = fixture.proxy;
  private final S3Client plain = fixture.own(s3.client());

  @AfterEach
  void tearDown() throws Exception {
    fixture.close();
  }

  @ParameterizedTest(name = "{0} on a DeleteObject through {1}")
  @CsvSource({
      "INTERNAL_ERROR, store-built clients",
      "INTERNAL_ERROR, clients the caller built",
      "RESPONSE_LOST, store-built clients",
      "RESPONSE_LOST, clients the caller built"})
  void aFailedBlobDeleteIsSentOnceAndLeavesThePurgeToATakeover(FaultProxy.Fault fault,
      String clients) throws Exception {
    ContentStore host = host(clients.startsWith("store"));
    byte[] bytes = ("purged; its DeleteObject met " + fault).getBytes(StandardCharsets.UTF_8);
    Digest digest = host.put(bytes, null, Map.of()).digest();
    host.delete(digest);
    awaitOlderThanATakeoverMargin();

    proxy.aim(HttpMethod.DELETE, bucket, keys.blob(digest), fault, 1);
    assertThatThrownBy(() -> host.gc(new GcOptions(Duration.ZERO, false)))
        .isInstanceOf(UnavailableException.class)
        .hasMessageContaining(keys.blob(digest));
    assertThat(deletes(digest)).as("DeleteObject requests of the blob key").isEqualTo(1);
    assertThat(state(digest)).isEqualTo("purging");
    // A lost answer follows a delete the server applied; a 500 from the proxy, one it never saw.
    assertThat(exists(keys.blob(digest))).isEqualTo(fault == FaultProxy.Fault.INTERNAL_ERROR);

    GcReport within = host.gc(new GcOptions(Duration.ZERO, false));
    assertThat(within.blobsPurged()).isZero();
    assertThat(within.skipped()).singleElement()
        .satisfies(s -> assertThat(s.reason()).startsWith("being purged by another host"));
    assertThat(deletes(digest)).as("no second DeleteObject within the timeout").isEqualTo(1);

    Thread.sleep(PURGE_TIMEOUT.plusMillis(200).toMillis()); // the claim times out: not a poll
    assertThat(host.gc(new GcOptions(Duration.ZERO, false)).blobsPurged())
        .as("the takeover finishes the purge").isEqualTo(1);
    assertThat(exists(keys.index(digest))).isFalse();
    assertThat(exists(keys.blob(digest))).isFalse();
    assertThat(deletes(digest)).as("the takeover's delete, once")
        .isEqualTo(fault == FaultProxy.Fault.INTERNAL_ERROR ? 2 : 1);
    assertThat(host.fsck(false).findings()).isEmpty();
  }

  @Test
  void aPutAfterADeleteWhoseAnswerWasLostKeepsItsBytes() throws Exception {
    ContentStore purger = host(true);
    ContentStore putter = fixture.host(true, config -> config.purgeTimeout(PURGE_TIMEOUT));
    byte[] bytes = "re-pushed after an applied delete lost its answer"
        .getBytes(StandardCharsets.UTF_8);
    Digest digest = purger.put(bytes, null, Map.of()).digest();
    purger.delete(digest);
    awaitOlderThanATakeoverMargin();

    proxy.aim(HttpMethod.DELETE, bucket, keys.blob(digest), FaultProxy.Fault.RESPONSE_LOST, 1);
    assertThatThrownBy(() -> purger.gc(new GcOptions(Duration.ZERO, false)))
        .isInstanceOf(UnavailableException.class);
    assertThat(exists(keys.blob(digest))).as("the delete was applied").isFalse();

    // The put's PutObject creates the object in the window a retried delete would have hit;
    // the put then waits for the purging record, takes the purge over once it is stale (sparing
    // the object stored after the stamp) and creates its record.
    Info info = putter.putAndRef(bytes, digest, Map.of());
    assertThat(info.refCount()).isEqualTo(1);
    assertThat(deletes(digest)).as("DeleteObject requests of the blob key").isEqualTo(1);
    assertThat(state(digest)).isEqualTo("live");
    assertThat(Content.readBlob(putter, Descriptor.of(digest))).isEqualTo(bytes);
    assertThat(purger.fsck(false).findings()).isEmpty();
  }

  @Test
  void aRepairWhoseDeleteFailsLeavesItsClaimToATakeover() throws Exception {
    ContentStore host = host(true);
    byte[] bytes = "stored without a record".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(bytes);
    plain.putObject(b -> b.bucket(bucket).key(keys.blob(digest)), RequestBody.fromBytes(bytes));
    Thread.sleep(PURGE_TIMEOUT.plusMillis(1_500).toMillis()); // older than fsck's cutoff

    proxy.aim(HttpMethod.DELETE, bucket, keys.blob(digest), FaultProxy.Fault.INTERNAL_ERROR, 1);
    assertThatThrownBy(() -> host.fsck(true)).isInstanceOf(UnavailableException.class);
    assertThat(deletes(digest)).isEqualTo(1);
    assertThat(state(digest)).as("the repair's claim").isEqualTo("purging");
    assertThat(exists(keys.blob(digest))).isTrue();

    Thread.sleep(PURGE_TIMEOUT.plusMillis(200).toMillis()); // the claim times out: not a poll
    FsckReport repaired = host.fsck(true);
    assertThat(repaired.findings()).extracting(Finding::kind, Finding::repaired)
        .containsExactly(tuple(FsckReport.Kind.STALE_DELETION, true));
    assertThat(deletes(digest)).isEqualTo(2);
    assertThat(exists(keys.blob(digest))).isFalse();
    assertThat(exists(keys.index(digest))).isFalse();
    assertThat(host.fsck(false).findings()).isEmpty();
  }

  // ---- helpers

  /**
   * A store through the proxy, with no deletion grace and a short purge timeout; its S3 clients
   * built by the store (8 attempts per request) or by the caller (the SDK's default retries).
   */
  private ContentStore host(boolean storeBuilt) {
    return fixture.host(storeBuilt,
        config -> config.deletionGrace(Duration.ZERO).purgeTimeout(PURGE_TIMEOUT));
  }

  /**
   * Waits until the blob objects stored so far are older than a takeover's margin (half the
   * purge timeout and a second) before a purge stamped now.
   */
  private static void awaitOlderThanATakeoverMargin() throws InterruptedException {
    Thread.sleep(PURGE_TIMEOUT.dividedBy(2).plusMillis(1_600).toMillis());
  }

  private long deletes(Digest digest) {
    return proxy.requests(HttpMethod.DELETE, bucket, keys.blob(digest));
  }

  /** The index record's state as stored, or "none". */
  private String state(Digest digest) throws Exception {
    if (!exists(keys.index(digest))) {
      return "none";
    }
    return JSON.readTree(plain.getObjectAsBytes(b -> b.bucket(bucket)
        .key(keys.index(digest))).asByteArray()).path("state").asText();
  }

  private boolean exists(String key) {
    return s3.exists(bucket, key);
  }
}
