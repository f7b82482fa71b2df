package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import dev.coffer.s3sim.Storage.StoredObject;
import dev.coffer.s3sim.Storage.StoredUpload;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The scheduling hook: an interceptor that parks every request lets a controller choose which
 * goes next, and the server applies them in exactly that order (SIM-2).
 */
class InterceptorTest extends SimTestBase {

  @Test
  void parkedRequestsAreAppliedInTheOrderTheyAreResolved() throws Exception {
    sim.network().interceptor(e -> { }); // park everything
    ExecutorService hosts = Executors.newFixedThreadPool(3);
    List<S3Client> clients = new ArrayList<>();
    List<Future<?>> sent = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        S3Client client = Clients.plain(sim, "h" + i, 1);
        clients.add(client);
        String value = "from-h" + i;
        sent.add(hosts.submit(() -> client.putObject(b -> b.bucket(BUCKET).key("k"),
            RequestBody.fromString(value))));
      }
      assertThat(sim.network().awaitParked(3, Duration.ofSeconds(30))).isTrue();
      List<Exchange> parked = sim.network().parked();
      assertThat(parked).extracting(Exchange::operation).containsOnly(Operation.PUT_OBJECT);
      // Apply h2's, then h0's, then h1's: h1's write is the last.
      List<String> order = List.of("h2", "h0", "h1");
      for (String host : order) {
        parked.stream().filter(e -> e.host().equals(host)).findFirst().orElseThrow().apply();
      }
      for (Future<?> f : sent) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertThat(sim.network().parked()).isEmpty();
      sim.network().interceptor(null);
      assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String())
          .isEqualTo("from-h1");
      assertThat(sim.log().entries().subList(0, 3)).extracting(LoggedRequest::host)
          .containsExactlyElementsOf(order);
    } finally {
      hosts.shutdownNow();
      clients.forEach(S3Client::close);
    }
  }

  @Test
  void asyncRequestsParkWithoutBlockingTheCaller() throws Exception {
    sim.network().interceptor(e -> { });
    try (S3AsyncClient client = Clients.async(sim, "h1")) {
      CompletableFuture<?> put = client.putObject(b -> b.bucket(BUCKET).key("k"),
          AsyncRequestBody.fromString("v"));
      assertThat(sim.network().awaitParked(1, Duration.ofSeconds(30))).isTrue();
      assertThat(put).isNotDone();
      sim.network().parked().get(0).apply();
      put.get(30, TimeUnit.SECONDS);
    }
    sim.network().interceptor(null);
    assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String())
        .isEqualTo("v");
  }

  @Test
  void everyVerbDoesWhatItSays() {
    S3Client client = Clients.plain(sim, "h1", 1);
    List<String> verbs = new ArrayList<>(List.of("fail", "answer", "hold", "apply"));
    sim.network().interceptor(e -> {
      switch (verbs.remove(0)) {
        case "fail" -> e.fail();
        case "answer" -> e.answer(503, "SlowDown", "slow");
        case "hold" -> e.hold();
        default -> e.apply();
      }
    });
    assertThat(catchThrowable(() -> client.putObject(b -> b.bucket(BUCKET).key("a"),
        RequestBody.fromString("a")))).isInstanceOf(SdkClientException.class);
    assertS3Error(() -> client.putObject(b -> b.bucket(BUCKET).key("b"),
        RequestBody.fromString("b")), 503, "SlowDown");
    assertThat(catchThrowable(() -> client.putObject(b -> b.bucket(BUCKET).key("c"),
        RequestBody.fromString("c")))).isInstanceOf(SdkClientException.class);
    List<String> keys = new ArrayList<>();
    client.listObjectsV2(b -> b.bucket(BUCKET)).contents().forEach(o -> keys.add(o.key()));
    assertThat(keys).isEmpty();
    Exchange held = sim.network().held().get(0);
    assertThat(held.outcome()).isEqualTo(Outcome.HELD);
    assertThatThrownBy(held::apply).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("HELD");
    held.release();
    assertThat(held.outcome()).isEqualTo(Outcome.APPLIED_LATE);
    assertThatThrownBy(held::release).isInstanceOf(IllegalStateException.class);
    sim.network().interceptor(null);
    assertThat(client.getObjectAsBytes(b -> b.bucket(BUCKET).key("c")).asUtf8String())
        .isEqualTo("c");
    assertThat(sim.log().entries()).extracting(LoggedRequest::outcome).containsExactly(
        Outcome.FAILED, Outcome.INJECTED, Outcome.HELD, Outcome.ANSWERED, Outcome.APPLIED_LATE,
        Outcome.ANSWERED);
    client.close();
  }

  @Test
  void aFailingInterceptorFailsTheRequestNotTheServer() {
    sim.network().interceptor(e -> {
      throw new IllegalStateException("scheduler bug");
    });
    try (S3Client client = Clients.plain(sim, "h1", 1)) {
      Throwable failure = catchThrowable(() -> client.putObject(b -> b.bucket(BUCKET).key("k"),
          RequestBody.fromString("v")));
      assertThat(failure).isInstanceOf(SdkClientException.class);
      assertThat(failure).hasStackTraceContaining("scheduler bug");
    }
    assertThat(sim.log().entries()).extracting(LoggedRequest::outcome)
        .containsExactly(Outcome.FAILED);
  }

  @Test
  void aParkedRequestWhoseSenderGaveUpMayStillBeApplied() throws Exception {
    sim.network().interceptor(e -> { });
    S3Client client = Clients.plain(sim, "h1", 1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread sender = new Thread(() -> failure.set(catchThrowable(() -> client.putObject(
        b -> b.bucket(BUCKET).key("k"), RequestBody.fromString("late")))));
    sender.start();
    assertThat(sim.network().awaitParked(1, Duration.ofSeconds(30))).isTrue();
    sender.interrupt();
    sender.join(30_000);
    assertThat(sender.isAlive()).isFalse();
    assertThat(failure.get()).isInstanceOf(SdkClientException.class)
        .hasRootCauseInstanceOf(InterruptedException.class);
    Exchange abandoned = sim.network().parked().get(0);
    abandoned.apply();
    sim.network().interceptor(null);
    assertThat(client.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String())
        .isEqualTo("late");
    client.close();
  }

  @Test
  void awaitParkedTimesOut() throws Exception {
    assertThat(sim.network().awaitParked(1, Duration.ofMillis(1))).isFalse();
  }

  @Test
  void aDefectOfTheServerReachesTheCallerAndIsNotRetriedAsANetworkFault() {
    AtomicInteger reads = new AtomicInteger();
    Storage broken = new Storage() {
      private final Storage inner = Storage.inMemory();

      @Override
      public boolean createBucket(String bucket, java.time.Instant created) {
        return inner.createBucket(bucket, created);
      }

      @Override
      public java.time.Instant bucketCreated(String bucket) {
        return inner.bucketCreated(bucket);
      }

      @Override
      public boolean deleteBucket(String bucket) {
        return inner.deleteBucket(bucket);
      }

      @Override
      public List<String> buckets() {
        return inner.buckets();
      }

      @Override
      public StoredObject object(String bucket, String key) {
        reads.incrementAndGet();
        throw new IllegalStateException("the storage is broken");
      }

      @Override
      public void putObject(String bucket, StoredObject object) {
        inner.putObject(bucket, object);
      }

      @Override
      public boolean removeObject(String bucket, String key) {
        return inner.removeObject(bucket, key);
      }

      @Override
      public java.util.Iterator<StoredObject> objectsFrom(String bucket, String fromKey) {
        return inner.objectsFrom(bucket, fromKey);
      }

      @Override
      public StoredUpload upload(String bucket, String uploadId) {
        return inner.upload(bucket, uploadId);
      }

      @Override
      public void putUpload(String bucket, StoredUpload upload) {
        inner.putUpload(bucket, upload);
      }

      @Override
      public boolean removeUpload(String bucket, String uploadId) {
        return inner.removeUpload(bucket, uploadId);
      }

      @Override
      public List<StoredUpload> uploads(String bucket) {
        return inner.uploads(bucket);
      }
    };
    try (SimS3 defective = SimS3.builder().storage(broken).build();
        S3Client client = Clients.plain(defective, "h1", 3)) {
      defective.createBucket(BUCKET);
      Throwable failure = catchThrowable(() -> client.getObject(b -> b.bucket(BUCKET).key("k")));
      assertThat(failure).isInstanceOf(IllegalStateException.class)
          .hasMessage("the storage is broken");
      assertThat(reads).hasValue(1);
    }
  }
}
