package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The network's fault knobs, one at a time, through the real SDK client (one attempt, or a few
 * without backoff), against what the server did; dead hosts; per-host faults; seeded replay
 * (SIM-3).
 */
class FaultsTest extends SimTestBase {
  /** The faulty host's client, one attempt. */
  private S3Client faulty;
  /** A host without faults, to look. */
  private S3Client observer;

  @BeforeEach
  void clients() {
    faulty = Clients.plain(sim, "faulty", 1);
    observer = Clients.plain(sim, "observer", 1);
  }

  @AfterEach
  void closeClients() {
    faulty.close();
    observer.close();
  }

  private boolean exists(String key) {
    try {
      observer.headObject(b -> b.bucket(BUCKET).key(key));
      return true;
    } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
      return false;
    }
  }

  private void putFrom(S3Client client, String key) {
    client.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromString(key));
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  private List<Outcome> outcomes(String host) {
    return sim.log().entries().stream().filter(e -> e.host().equals(host))
        .map(LoggedRequest::outcome).toList();
  }

  @Test
  void lostAnswerIsAppliedButTheClientSeesAReset() {
    sim.network().faults("faulty", Faults.builder().lostAnswer(1).build());
    Throwable failure = catchThrowable(() -> putFrom(faulty, "k"));
    assertThat(failure).isInstanceOf(SdkClientException.class);
    assertThat(rootCause(failure)).isInstanceOf(SocketException.class)
        .hasMessageContaining("lost the answer");
    assertThat(exists("k")).isTrue();
    assertThat(sim.log().entries().get(0)).extracting(LoggedRequest::outcome,
        LoggedRequest::status).containsExactly(Outcome.ANSWER_LOST, 200);
  }

  @Test
  void aLostAnswerRetriedByTheSdkMeetsItsOwnWrite() {
    // The hazard the store's operation ids guard against: the first attempt of a create-only
    // write was applied, so the retry fails on its own object.
    sim.network().faults("retrying", Faults.builder().lostAnswer(1).build());
    sim.network().interceptor(e -> {
      if (e.sequence() == 1) {
        e.proceed();
      } else {
        e.apply();
      }
    });
    try (S3Client retrying = Clients.plain(sim, "retrying", 3)) {
      assertS3Error(() -> retrying.putObject(b -> b.bucket(BUCKET).key("k").ifNoneMatch("*"),
          RequestBody.fromString("v")), 412, "PreconditionFailed");
    }
    assertThat(outcomes("retrying")).containsExactly(Outcome.ANSWER_LOST, Outcome.ANSWERED);
  }

  @Test
  void lateRequestTimesOutAtOnceAndIsAppliedWhenReleased() {
    sim.network().faults("faulty", Faults.builder().late(1, 0).build());
    Throwable failure = catchThrowable(() -> putFrom(faulty, "k"));
    assertThat(rootCause(failure)).isInstanceOf(SocketTimeoutException.class);
    assertThat(exists("k")).isFalse();
    assertThat(sim.network().held()).hasSize(1);
    assertThat(sim.network().held().get(0).operation()).isEqualTo(Operation.PUT_OBJECT);
    sim.network().releaseHeld();
    assertThat(exists("k")).isTrue();
    assertThat(sim.network().held()).isEmpty();
    assertThat(outcomes("faulty")).containsExactly(Outcome.HELD, Outcome.APPLIED_LATE);
  }

  @Test
  void lateRequestIsAppliedAfterTheGivenNumberOfFurtherRequests() {
    sim.network().faults("faulty", Faults.builder().late(1, 2).build());
    catchThrowable(() -> putFrom(faulty, "k"));
    assertThat(exists("k")).isFalse(); // the first further request
    assertThat(exists("k")).isFalse(); // the second, after which the put is applied
    assertThat(exists("k")).isTrue();
    assertThat(sim.network().held()).isEmpty();
  }

  @Test
  void droppedRequestIsNeverApplied() {
    sim.network().faults("faulty", Faults.builder().late(1, 0).build());
    catchThrowable(() -> putFrom(faulty, "k"));
    sim.network().held().get(0).drop();
    sim.network().releaseHeld();
    assertThat(exists("k")).isFalse();
    assertThat(outcomes("faulty")).containsExactly(Outcome.HELD, Outcome.DROPPED);
  }

  @Test
  void internalErrorsAndSlowDownsAreNotAppliedAndTheSdkRetriesThem() {
    sim.network().faults("faulty", Faults.builder().internalError(1).build());
    try (S3Client retrying = Clients.plain(sim, "faulty", 3)) {
      assertS3Error(() -> putFrom(retrying, "k"), 500, "InternalError");
    }
    assertThat(sim.log().count(Operation.PUT_OBJECT, Outcome.INJECTED)).isEqualTo(3);
    assertThat(exists("k")).isFalse();

    sim.network().faults("faulty", Faults.builder().slowDown(1).build());
    assertS3Error(() -> putFrom(faulty, "k"), 503, "SlowDown");
    assertThat(exists("k")).isFalse();

    // Half of them: with retries the SDK gets through, and exactly one attempt was applied.
    sim.network().faults("faulty", Faults.builder().seed(7).slowDown(0.5).build());
    try (S3Client retrying = Clients.plain(sim, "faulty", 20)) {
      for (int i = 0; i < 10; i++) {
        putFrom(retrying, "k" + i);
      }
    }
    assertThat(sim.log().count(Operation.PUT_OBJECT, Outcome.ANSWERED)).isEqualTo(10);
    assertThat(sim.log().count(Operation.PUT_OBJECT, Outcome.INJECTED)).isGreaterThan(4);
  }

  @Test
  void conflictsHitConditionalWritesOnly() {
    sim.network().faults("faulty", Faults.builder().conflict(1).build());
    putFrom(faulty, "plain");
    assertS3Error(() -> faulty.putObject(b -> b.bucket(BUCKET).key("k").ifNoneMatch("*"),
        RequestBody.fromString("v")), 409, "ConditionalRequestConflict");
    assertS3Error(() -> faulty.deleteObject(b -> b.bucket(BUCKET).key("plain").ifMatch("*")),
        409, "ConditionalRequestConflict");
    assertThat(exists("k")).isFalse();
    assertThat(exists("plain")).isTrue();
  }

  @Test
  void errorIn200FailsACompletionWithoutApplyingIt() {
    String id = faulty.createMultipartUpload(b -> b.bucket(BUCKET).key("k")).uploadId();
    String etag = faulty.uploadPart(b -> b.bucket(BUCKET).key("k").uploadId(id).partNumber(1),
        RequestBody.fromString("v")).eTag();
    CompletedPart part = CompletedPart.builder().partNumber(1).eTag(etag).build();
    sim.network().faults("faulty", Faults.builder().errorIn200(1).build());
    var failure = assertS3Error(() -> faulty.completeMultipartUpload(b -> b.bucket(BUCKET)
        .key("k").uploadId(id).multipartUpload(m -> m.parts(part))), 200, "InternalError");
    assertThat(failure.getMessage()).contains("internal error");
    assertThat(exists("k")).isFalse();
    sim.network().faults("faulty", Faults.none());
    faulty.completeMultipartUpload(b -> b.bucket(BUCKET).key("k").uploadId(id)
        .multipartUpload(m -> m.parts(part)));
    assertThat(exists("k")).isTrue();
  }

  @Test
  void aDeadHostsRequestsNeverReachTheServer() {
    sim.network().kill("faulty");
    assertThat(sim.network().isDead("faulty")).isTrue();
    Throwable failure = catchThrowable(() -> putFrom(faulty, "k"));
    assertThat(rootCause(failure)).isInstanceOf(ConnectException.class)
        .hasMessageContaining("dead");
    assertThat(exists("k")).isFalse();
    putFrom(observer, "other");
    assertThat(outcomes("faulty")).containsExactly(Outcome.REFUSED);
    sim.network().revive("faulty");
    putFrom(faulty, "k");
    assertThat(exists("k")).isTrue();
  }

  @Test
  void faultsPerHostAndPerOperation() {
    sim.network().faults(Faults.builder().internalError(1)
        .operations(EnumSet.of(Operation.PUT_OBJECT)).build());
    sim.network().faults("observer", Faults.none());
    assertS3Error(() -> putFrom(faulty, "k"), 500, "InternalError");
    assertS3Error(() -> faulty.getObject(b -> b.bucket(BUCKET).key("k")), 404, "NoSuchKey");
    putFrom(observer, "k");
    assertThat(faulty.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String())
        .isEqualTo("k");
    assertThat(sim.network().faultsOf("faulty").internalError()).isEqualTo(1);
    assertThat(sim.network().faultsOf("observer").isNone()).isTrue();
  }

  @Test
  void theSameSeedReplaysTheSameOutcomesAndAnotherDoesNot() {
    Faults faults = Faults.builder().seed(42).internalError(0.2).slowDown(0.2).lostAnswer(0.2)
        .late(0.2, 3).build();
    List<String> first = run(faults);
    assertThat(run(faults)).isEqualTo(first);
    assertThat(run(Faults.builder().seed(43).internalError(0.2).slowDown(0.2).lostAnswer(0.2)
        .late(0.2, 3).build())).isNotEqualTo(first);
    assertThat(first).contains("ANSWERED", "ANSWER_LOST", "HELD", "INJECTED", "APPLIED_LATE");
  }

  @Test
  void oneKnobsDecisionsDoNotDependOnAnother() {
    // Which requests lose their answer is the same with or without 503s in the mix, wherever
    // a 503 did not take the request first.
    List<String> alone = run(Faults.builder().seed(5).lostAnswer(0.3).build());
    List<String> mixed = run(Faults.builder().seed(5).lostAnswer(0.3).slowDown(0.3).build());
    for (int i = 0; i < alone.size(); i++) {
      if (!mixed.get(i).equals("INJECTED")) {
        assertThat(mixed.get(i)).as("request " + i).isEqualTo(alone.get(i));
      }
    }
    assertThat(mixed).contains("INJECTED");
  }

  /** 100 puts from one host of a fresh simulation under {@code faults}: each first outcome. */
  private static List<String> run(Faults faults) {
    try (SimS3 fresh = SimS3.create(); S3Client client = Clients.plain(fresh, "h", 1)) {
      fresh.createBucket(BUCKET);
      fresh.network().faults(faults);
      for (int i = 0; i < 100; i++) {
        String key = "k" + i;
        catchThrowable(() -> client.putObject(b -> b.bucket(BUCKET).key(key),
            RequestBody.fromString(key)));
      }
      List<String> out = new ArrayList<>();
      for (LoggedRequest e : fresh.log().entries()) {
        out.add(e.outcome().name());
      }
      return out;
    }
  }

  @Test
  void knobsAreCheckedWhenSet() {
    assertThatThrownBy(() -> Faults.builder().lostAnswer(1.5))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lostAnswer")
        .hasMessageContaining("1.5");
    assertThatThrownBy(() -> Faults.builder().slowDown(-0.1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slowDown");
    assertThatThrownBy(() -> Faults.builder().internalError(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("internalError");
    assertThatThrownBy(() -> Faults.builder().late(0.5, -1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    assertThatThrownBy(() -> Faults.builder().operations(Set.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operations");
    assertThat(Faults.none().isNone()).isTrue();
    assertThat(Faults.builder().conflict(0.1).build().isNone()).isFalse();
  }

  @Test
  void theFailureOfALostAnswerIsAnIoException() {
    sim.network().faults("faulty", Faults.builder().lostAnswer(1).build());
    SimRequest put = SimRequest.builder("PUT", "/" + BUCKET + "/raw").body(bytes("x")).build();
    assertThatThrownBy(() -> sim.network().send("faulty", put)).isInstanceOf(IOException.class);
    assertThat(exists("raw")).isTrue();
  }

  @Test
  void theAsyncClientMeetsTheSameFaults() {
    try (S3AsyncClient client = Clients.asyncPlain(sim, "faulty", 1)) {
      sim.network().faults("faulty", Faults.builder().lostAnswer(1).build());
      Throwable lost = catchThrowable(() -> client.putObject(b -> b.bucket(BUCKET).key("lost"),
          AsyncRequestBody.fromString("v")).join());
      assertThat(lost).isInstanceOf(CompletionException.class)
          .hasCauseInstanceOf(SdkClientException.class);
      assertThat(rootCause(lost)).isInstanceOf(SocketException.class);
      assertThat(exists("lost")).isTrue();

      sim.network().faults("faulty", Faults.builder().late(1, 0).build());
      Throwable late = catchThrowable(() -> client.putObject(b -> b.bucket(BUCKET).key("late"),
          AsyncRequestBody.fromString("v")).join());
      assertThat(rootCause(late)).isInstanceOf(SocketTimeoutException.class);
      assertThat(exists("late")).isFalse();
      sim.network().releaseHeld();
      assertThat(exists("late")).isTrue();

      sim.network().faults("faulty", Faults.builder().slowDown(1).build());
      assertS3Error(() -> client.getObject(b -> b.bucket(BUCKET).key("late"),
          AsyncResponseTransformer.toBytes()).join(), 503, "SlowDown");
    }
  }
}
