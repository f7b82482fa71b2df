package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.it.FaultProxy.Fault;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The fault-injecting proxy on the selected endpoint: serialised conditional writes are
 * linearizable (even on S3Mock, whose own are not), each fault does what it says and is counted,
 * and large bodies stream through.
 */
class FaultProxyIT {
  private static final int MIB = 1 << 20;
  private final List<AutoCloseable> opened = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private S3Endpoint endpoint;
  private String bucket;
  private S3Client direct;

  @BeforeEach
  void setUp() {
    endpoint = S3Endpoint.selected();
    Assumptions.assumeTrue(endpoint.proxyable(), "no proxy in front of " + endpoint.name());
    bucket = endpoint.newBucket();
    direct = own(endpoint.client());
  }

  @AfterEach
  void tearDown() throws Exception {
    threads.shutdownNow();
    for (int i = opened.size() - 1; i >= 0; i--) {
      opened.get(i).close();
    }
  }

  private <T extends AutoCloseable> T own(T closeable) {
    opened.add(closeable);
    return closeable;
  }

  private FaultProxy serializing() {
    return own(FaultProxy.builder(endpoint.server()).serializeWrites(true).start());
  }

  /** A client through {@code proxy} that makes each request once. */
  private S3Client once(URI proxy) {
    return own(endpoint.clientBuilder(proxy)
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())).build());
  }

  private boolean exists(String key) {
    try {
      direct.headObject(b -> b.bucket(bucket).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void concurrentCreateOnlyPutsOfOneKeyHaveExactlyOneWinner() throws Exception {
    FaultProxy proxy = serializing();
    List<S3Client> clients = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      clients.add(once(proxy.endpoint()));
    }
    String prefix = endpoint.newPrefix();
    for (int round = 0; round < 5; round++) {
      String key = prefix + "create-" + round;
      CyclicBarrier start = new CyclicBarrier(clients.size());
      List<Future<Integer>> puts = new ArrayList<>();
      for (int i = 0; i < clients.size(); i++) {
        S3Client client = clients.get(i);
        byte[] body = bytes("writer " + i);
        puts.add(threads.submit(() -> {
          start.await();
          try {
            client.putObject(b -> b.bucket(bucket).key(key).ifNoneMatch("*"),
                RequestBody.fromBytes(body));
            return 200;
          } catch (S3Exception e) {
            return e.statusCode();
          }
        }));
      }
      List<Integer> statuses = new ArrayList<>();
      for (Future<Integer> put : puts) {
        statuses.add(put.get(60, TimeUnit.SECONDS));
      }
      assertThat(statuses).as("round %d", round).containsOnly(200, 412)
          .filteredOn(s -> s == 200).hasSize(1);
    }
  }

  @Test
  void concurrentCompareAndSwapIncrementsAreNotLost() throws Exception {
    FaultProxy proxy = serializing();
    String key = endpoint.newPrefix() + "counter";
    direct.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(bytes("0")));
    AtomicInteger conflicts = new AtomicInteger();
    CyclicBarrier start = new CyclicBarrier(4);
    List<Future<?>> workers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      S3Client client = once(proxy.endpoint());
      workers.add(threads.submit(() -> {
        start.await();
        for (int done = 0; done < 25; ) {
          ResponseBytes<GetObjectResponse> read =
              client.getObjectAsBytes(b -> b.bucket(bucket).key(key));
          int value = Integer.parseInt(read.asUtf8String());
          try {
            client.putObject(b -> b.bucket(bucket).key(key).ifMatch(read.response().eTag()),
                RequestBody.fromBytes(bytes(Integer.toString(value + 1))));
            done++;
          } catch (S3Exception e) {
            assertThat(e.statusCode()).isEqualTo(412);
            conflicts.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (Future<?> w : workers) {
      w.get(120, TimeUnit.SECONDS);
    }
    assertThat(direct.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asUtf8String())
        .as("after 100 successful increments and %d conflicts", conflicts.get())
        .isEqualTo("100");
  }

  @Test
  void errorFaultsAreAnsweredByTheProxyAndCounted() {
    String key = endpoint.newPrefix() + "object";
    direct.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(bytes("v1")));
    try (FaultProxy slowDown = FaultProxy.builder(endpoint.server())
        .rate(Fault.SLOW_DOWN, 1).start()) {
      S3Client client = once(slowDown.endpoint());
      assertThatThrownBy(() -> client.getObjectAsBytes(b -> b.bucket(bucket).key(key)))
          .isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(503);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SlowDown");
          });
      assertThatThrownBy(() -> client.putObject(b -> b.bucket(bucket).key(key),
          RequestBody.fromBytes(bytes("v2"))))
          .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(503));
      assertThat(slowDown.injected().get(Fault.SLOW_DOWN)).isEqualTo(2);
    }
    try (FaultProxy internal = FaultProxy.builder(endpoint.server())
        .rate(Fault.INTERNAL_ERROR, 1).start()) {
      S3Client client = once(internal.endpoint());
      assertThatThrownBy(() -> client.headObject(b -> b.bucket(bucket).key(key)))
          .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(500));
      assertThat(internal.injected().get(Fault.INTERNAL_ERROR)).isEqualTo(1);
    }
    try (FaultProxy conflict = FaultProxy.builder(endpoint.server())
        .rate(Fault.CONDITIONAL_CONFLICT, 1).start()) {
      S3Client client = once(conflict.endpoint());
      // Only conditional writes conflict: a read and an unconditional write go through.
      assertThat(client.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asUtf8String())
          .isEqualTo("v1");
      String etag = client.putObject(b -> b.bucket(bucket).key(key),
          RequestBody.fromBytes(bytes("v3"))).eTag();
      assertThatThrownBy(() -> client.putObject(b -> b.bucket(bucket).key(key).ifMatch(etag),
          RequestBody.fromBytes(bytes("v4"))))
          .isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(409);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ConditionalRequestConflict");
          });
      assertThat(conflict.injected().get(Fault.CONDITIONAL_CONFLICT)).isEqualTo(1);
      assertThat(conflict.requests()).isEqualTo(3);
    }
    assertThat(direct.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asUtf8String())
        .as("no faulted request reached the server").isEqualTo("v3");
  }

  @Test
  void resetsCutResponsesAndUploadsMidBody() {
    String key = endpoint.newPrefix() + "large";
    byte[] large = new byte[3 * MIB];
    new Random(7).nextBytes(large);
    direct.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(large));
    try (FaultProxy cut = FaultProxy.builder(endpoint.server())
        .rate(Fault.RESPONSE_CUT, 1).start()) {
      S3Client client = once(cut.endpoint());
      assertThatThrownBy(() -> client.getObjectAsBytes(b -> b.bucket(bucket).key(key)))
          .isInstanceOf(SdkClientException.class);
      assertThat(cut.injected().get(Fault.RESPONSE_CUT)).isEqualTo(1);
    }
    try (FaultProxy abort = FaultProxy.builder(endpoint.server())
        .rate(Fault.UPLOAD_ABORT, 1).start()) {
      S3Client client = once(abort.endpoint());
      String other = key + "-upload";
      assertThatThrownBy(() -> client.putObject(b -> b.bucket(bucket).key(other),
          RequestBody.fromBytes(large))).isInstanceOf(SdkClientException.class);
      assertThat(abort.injected().get(Fault.UPLOAD_ABORT)).isEqualTo(1);
      assertThat(exists(other)).as("a cut upload stores nothing").isFalse();
    }
    assertThat(direct.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray())
        .isEqualTo(large);
  }

  @Test
  void slowResponsesArriveWholeAndLargeBodiesStream() throws Exception {
    String key = endpoint.newPrefix() + "part-sized";
    byte[] large = new byte[17 * MIB];
    new Random(11).nextBytes(large);
    try (FaultProxy slow = FaultProxy.builder(endpoint.server()).serializeWrites(true)
        .rate(Fault.SLOW_RESPONSE, 1).start()) {
      S3Client client = once(slow.endpoint());
      client.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(large));
      byte[] read = client.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      assertThat(sha.digest(read)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(large));
      assertThat(slow.injected().get(Fault.SLOW_RESPONSE)).isEqualTo(2);
    }
  }
}
