package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A fresh simulation per test with bucket {@value #BUCKET}, a synchronous client with the SDK's
 * defaults ({@link #s3}) and an asynchronous one ({@link #async}), both of host {@code h1}.
 */
abstract class SimTestBase {
  static final String BUCKET = "bkt";

  SimS3 sim;
  SimClock clock;
  S3Client s3;
  S3AsyncClient async;

  /** The simulation under test; override to change capabilities. */
  SimS3.Builder simulation() {
    return SimS3.builder();
  }

  @BeforeEach
  void startSimulation() {
    clock = new SimClock();
    sim = simulation().clock(clock).build();
    sim.createBucket(BUCKET);
    s3 = Clients.sync(sim, "h1");
    async = Clients.async(sim, "h1");
  }

  @AfterEach
  void stopSimulation() {
    s3.close();
    async.close();
    sim.close();
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** The S3 error {@code call} fails with (unwrapping an async failure), checked for status and code. */
  static S3Exception assertS3Error(ThrowingCallable call, int status, String code) {
    Throwable thrown = catchThrowableOfType(Throwable.class, call);
    assertThat(thrown).as("the call's failure").isNotNull();
    while (thrown instanceof CompletionException && thrown.getCause() != null) {
      thrown = thrown.getCause();
    }
    assertThat(thrown).isInstanceOf(S3Exception.class);
    S3Exception e = (S3Exception) thrown;
    assertThat(e.statusCode()).as("status of " + e.getMessage()).isEqualTo(status);
    if (code != null) {
      assertThat(e.awsErrorDetails().errorCode()).as("code of " + e.getMessage()).isEqualTo(code);
    }
    return e;
  }
}
