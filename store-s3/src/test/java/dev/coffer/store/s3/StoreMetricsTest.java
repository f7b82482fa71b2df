package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.NotFoundException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/** OBS-1 and OBS-2: the meters count exactly what reached the (simulated) S3 endpoint. */
class StoreMetricsTest extends SimStoreTestBase {
  private static final String HOST = "metered";
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AutoCloseable> clients = new ArrayList<>();

  private ContentStore meteredStore() {
    S3StoreConfig config = config().build();
    var credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create("sim", "sim"));
    S3Client client = S3Client.builder()
        .httpClient(sim().httpClient(HOST))
        .endpointOverride(config.endpoint().orElseThrow()).forcePathStyle(true)
        .region(Region.US_EAST_1).credentialsProvider(credentials)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(SimStores.retries(config))
            .addExecutionInterceptor(S3Stores.requestMeter(registry)))
        .build();
    S3AsyncClient bulk = S3AsyncClient.builder()
        .httpClient(sim().asyncHttpClient(HOST))
        .endpointOverride(config.endpoint().orElseThrow()).forcePathStyle(true)
        .region(Region.US_EAST_1).credentialsProvider(credentials)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(SimStores.retries(config))
            .addExecutionInterceptor(S3Stores.requestMeter(registry)))
        .build();
    clients.add(client);
    clients.add(bulk);
    return S3Stores.builder().config(config).client(client)
        .bulkClient(bulk).meterRegistry(registry).build();
  }

  @AfterEach
  void closeClients() {
    clients.forEach(c -> {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /**
   * OBS-7: a counter of rare events that first appeared at its first increment would start at 1,
   * and Prometheus's rate() and increase() see no increase in a series' first sample: the first
   * lease takeover or purge of a process would never show on a dashboard.
   */
  @Test
  void eventCountersExistAtZeroBeforeTheirFirstEvent() {
    meteredStore();

    for (String event : List.of("retry", "recovered", "aborted", "unknown")) {
      assertThat(registry.get("coffer.store.cas").tag("event", event).counter().count())
          .as("cas %s", event).isZero();
    }
    for (String event : List.of("renewed", "renewal_failed", "lost", "taken_over")) {
      assertThat(registry.get("coffer.store.leases").tag("event", event).counter().count())
          .as("lease %s", event).isZero();
    }
    for (String name : List.of("coffer.gc.takeovers", "coffer.gc.purged", "coffer.gc.freed",
        "coffer.gc.ingests.removed", "coffer.gc.uploads.aborted", "coffer.gc.skipped",
        "coffer.fsck.checked")) {
      assertThat(registry.get(name).counter().count()).as(name).isZero();
    }
  }

  @Test
  void requestCountersEqualTheEndpointsLogByOperationAndStatus() {
    try (ContentStore store = meteredStore()) {
      byte[] small = random(1000, 1);
      byte[] large = random(6 * MIB, 2);
      Digest a = store.put(small, null, Map.of("team", "x")).digest();
      Digest b = store.put(large, null, Map.of()).digest();
      assertThatThrownBy(() -> store.put(small, null, Map.of()))
          .isInstanceOf(AlreadyExistsException.class);
      store.ref(a);
      assertThat(Content.readBlob(store, store.info(b).descriptor())).isEqualTo(large);
      assertThatThrownBy(() -> store.info(Digest.of(new byte[] {9})))
          .isInstanceOf(NotFoundException.class);
      store.deref(a);
      store.delete(b);
      clock.advance(Duration.ofDays(30));
      store.gc(new GcOptions(Duration.ofDays(1), false));
      store.fsck(false);
    }

    Map<String, Long> logged = new TreeMap<>();
    for (LoggedRequest r : sim().log().entries()) {
      if (r.host().equals(HOST)) {
        logged.merge(r.operation().apiName() + " " + r.status(), 1L, Long::sum);
      }
    }
    Map<String, Long> counted = new TreeMap<>();
    for (Meter m : registry.find(S3RequestMeter.REQUESTS).meters()) {
      counted.merge(m.getId().getTag("operation") + " " + m.getId().getTag("status"),
          (long) ((Counter) m).count(), Long::sum);
    }
    assertThat(registry.get("coffer.gc.purged").counter().count()).isEqualTo(2);
    assertThat(registry.get("coffer.gc.freed").counter().count()).isEqualTo(1000 + 6 * MIB);
    assertThat(registry.get(MeteredStore.OPERATIONS).tag("operation", "put")
        .tag("outcome", "already_exists").timer().count()).isEqualTo(1);
    assertThat(logged).isNotEmpty().containsKeys("PutObject 200", "GetObject 200");
    assertThat(counted).isEqualTo(logged);
  }

  @Test
  void bytesSentAndReceivedAreTheBlobsForBodiesOfPutAndGet() {
    byte[] content = random(300_000, 3);
    try (ContentStore store = meteredStore()) {
      Digest d = store.put(content, null, Map.of()).digest();
      double outBefore = bytes("PutObject", "out") + bytes("UploadPart", "out");
      assertThat(outBefore).isGreaterThanOrEqualTo(content.length);
      double inBefore = bytes("GetObject", "in");
      assertThat(Content.readBlob(store, store.info(d).descriptor())).isEqualTo(content);
      assertThat(bytes("GetObject", "in") - inBefore).isGreaterThanOrEqualTo(content.length);
    }
  }

  @Test
  void storeOperationsAreTimedByOutcome() {
    try (ContentStore store = meteredStore()) {
      Digest d = store.put(new byte[] {1, 2, 3}, null, Map.of()).digest();
      store.info(d);
      store.info(d);
      assertThatThrownBy(() -> store.ref(Digest.of(new byte[] {4})))
          .isInstanceOf(NotFoundException.class);
    }
    assertThat(operations("put", "ok")).isEqualTo(1);
    assertThat(registry.find(MeteredStore.OPERATIONS).tag("operation", "put").timers())
        .hasSize(1);
    assertThat(operations("info", "ok")).isGreaterThanOrEqualTo(2);
    assertThat(operations("ref", "not_found")).isEqualTo(1);
    assertThat(operations("ref", "ok")).isZero();
  }

  @Test
  void writersCommitsAreTimedAndOperationNamesAreSnakeCase() {
    try (ContentStore store = meteredStore()) {
      byte[] content = {5, 6, 7};
      try (var writer = store.writer("w", new dev.coffer.store.Descriptor(null, 3))) {
        writer.write(content);
        writer.commit(3, null, Map.of());
      }
    }
    assertThat(operations("writer", "ok")).isEqualTo(1);
    assertThat(operations("commit", "ok")).isEqualTo(1);
    assertThat(MeteredStore.operation("readerAt")).isEqualTo("read");
    assertThat(MeteredStore.operation("commitAndRef")).isEqualTo("commit_and_ref");
    assertThat(MeteredStore.operation("listStatuses")).isEqualTo("list_statuses");
  }

  @Test
  void aLostAnswerIsCountedAsAnIoErrorARetryAndARecovery() {
    try (ContentStore store = meteredStore()) {
      Digest digest = store.putAndRef(random(100, 4), null, Map.of()).digest();
      AtomicInteger seen = new AtomicInteger();
      sim().network().interceptor(e -> {
        if (e.operation() == Operation.PUT_OBJECT
            && keys.index(digest).equals(e.request().key())
            && e.request().header("If-Match") != null && seen.getAndIncrement() == 0) {
          e.applyAndLoseAnswer();
        } else {
          e.proceed();
        }
      });
      assertThat(store.ref(digest).refCount()).isEqualTo(2);
    }
    assertThat(registry.get("coffer.store.cas").tag("event", "retry").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("coffer.store.cas").tag("event", "recovered").counter().count())
        .isEqualTo(1);
    assertThat(registry.get("coffer.store.cas").tag("event", "aborted").counter().count())
        .isZero();
    assertThat(registry.get(S3RequestMeter.REQUESTS).tag("operation", "PutObject")
        .tag("status", "io_error").counter().count()).isEqualTo(1);
  }

  private double bytes(String operation, String direction) {
    Counter c = registry.find(S3RequestMeter.BYTES).tag("operation", operation)
        .tag("direction", direction).counter();
    return c == null ? 0 : c.count();
  }

  private long operations(String operation, String outcome) {
    var t = registry.find(MeteredStore.OPERATIONS).tag("operation", operation)
        .tag("outcome", outcome).timer();
    return t == null ? 0 : t.count();
  }
}
