package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Conditional PutObject and DeleteObject as S3 documents them, and their atomicity: concurrent
 * create-only writes have one winner, and compare-and-swap increments are never lost (SIM-1).
 */
class ConditionalWritesTest extends SimTestBase {

  private String put(String key, String value) {
    return s3.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromString(value)).eTag();
  }

  private String read(String key) {
    return s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asUtf8String();
  }

  @Test
  void createOnlyPutFailsWith412WhenTheKeyHoldsAnObject() {
    s3.putObject(b -> b.bucket(BUCKET).key("k").ifNoneMatch("*"), RequestBody.fromString("first"));
    assertS3Error(() -> s3.putObject(b -> b.bucket(BUCKET).key("k").ifNoneMatch("*"),
        RequestBody.fromString("second")), 412, "PreconditionFailed");
    assertThat(read("k")).isEqualTo("first");
  }

  @Test
  void ifNoneMatchWithAnEtagOnAWriteIsNotImplemented() {
    String etag = put("k", "v");
    assertS3Error(() -> s3.putObject(b -> b.bucket(BUCKET).key("k").ifNoneMatch(etag),
        RequestBody.fromString("w")), 501, "NotImplemented");
  }

  @Test
  void ifMatchPutReplacesOnlyTheMatchingVersionAndIs404ForAMissingKey() {
    String etag = put("k", "v1");
    String next = s3.putObject(b -> b.bucket(BUCKET).key("k").ifMatch(etag),
        RequestBody.fromString("v2")).eTag();
    assertThat(read("k")).isEqualTo("v2");
    assertS3Error(() -> s3.putObject(b -> b.bucket(BUCKET).key("k").ifMatch(etag),
        RequestBody.fromString("v3")), 412, "PreconditionFailed");
    assertThat(read("k")).isEqualTo("v2");
    assertS3Error(() -> s3.putObject(b -> b.bucket(BUCKET).key("missing").ifMatch(next),
        RequestBody.fromString("v")), 404, "NoSuchKey");
    assertS3Error(() -> s3.headObject(b -> b.bucket(BUCKET).key("missing")), 404, null);
  }

  @Test
  void conditionalDeleteIs204OnMatch412OnMismatchAnd404WhenMissing() {
    String etag = put("k", "v");
    assertS3Error(() -> s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch("\"0000\"")), 412,
        "PreconditionFailed");
    assertThat(read("k")).isEqualTo("v");
    assertThat(s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch(etag)).sdkHttpResponse()
        .statusCode()).isEqualTo(204);
    assertS3Error(() -> s3.headObject(b -> b.bucket(BUCKET).key("k")), 404, null);
    assertS3Error(() -> s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch(etag)), 404,
        "NoSuchKey");
    // If-Match: * deletes whatever is there, and is 404 for nothing.
    put("k", "again");
    s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch("*"));
    assertS3Error(() -> s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch("*")), 404,
        "NoSuchKey");
  }

  @Test
  void concurrentCreateOnlyWritesHaveExactlyOneWinner() throws Exception {
    int writers = 8;
    CyclicBarrier start = new CyclicBarrier(writers);
    List<Callable<String>> tasks = new ArrayList<>();
    for (int i = 0; i < writers; i++) {
      String host = "h" + i;
      tasks.add(() -> {
        try (S3Client client = Clients.plain(sim, host, 1)) {
          start.await(10, TimeUnit.SECONDS);
          client.putObject(b -> b.bucket(BUCKET).key("race").ifNoneMatch("*"),
              RequestBody.fromString(host));
          return host;
        } catch (S3Exception e) {
          assertThat(e.statusCode()).isEqualTo(412);
          return null;
        }
      });
    }
    List<String> winners = runAll(tasks);
    assertThat(winners).hasSize(1);
    assertThat(read("race")).isEqualTo(winners.get(0));
  }

  @Test
  void concurrentCompareAndSwapIncrementsAreNeverLost() throws Exception {
    put("counter", "0");
    int threads = 4;
    int increments = 50;
    List<Callable<String>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      String host = "h" + t;
      tasks.add(() -> {
        try (S3Client client = Clients.plain(sim, host, 1)) {
          for (int done = 0; done < increments; ) {
            var got = client.getObjectAsBytes(b -> b.bucket(BUCKET).key("counter"));
            int n = Integer.parseInt(got.asUtf8String());
            try {
              client.putObject(b -> b.bucket(BUCKET).key("counter")
                  .ifMatch(got.response().eTag()), RequestBody.fromString(Integer.toString(n + 1)));
              done++;
            } catch (S3Exception e) {
              assertThat(e.statusCode()).isEqualTo(412);
            }
          }
          return host;
        }
      });
    }
    assertThat(runAll(tasks)).hasSize(threads);
    assertThat(read("counter")).isEqualTo(Integer.toString(threads * increments));
  }

  /** Runs the tasks at once; their non-null results. */
  static List<String> runAll(List<Callable<String>> tasks) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
    try {
      List<String> results = new ArrayList<>();
      for (Future<String> f : pool.invokeAll(tasks, 60, TimeUnit.SECONDS)) {
        String r = f.get();
        if (r != null) {
          results.add(r);
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }
}
