package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PutObject on {@link Storage#onDisk} while another PUT's durable write is held part-way (SEC-9,
 * SIM-1 of docs/architecture.md): the slow write of one object holds up no request on another,
 * the held object is invisible until it is published whole, conditional PUTs racing on one key are
 * decided exactly once, a refused PUT leaves no file behind, and a crash mid-write leaves exactly
 * the objects published before it.
 */
class DiskStorageConcurrencyTest {
  /** How long a request that should not wait may take; far longer than any of these needs. */
  private static final long PATIENCE_SECONDS = 30;

  @TempDir
  Path dir;

  private DiskStorage storage;
  private S3Server server;
  private ExecutorService pool;
  private final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void open() {
    storage = DiskStorage.open(dir.resolve("data"));
    server = S3Server.builder().storage(storage).clock(Clock.systemUTC()).build();
    server.createBucket("bkt");
    pool = Executors.newCachedThreadPool();
  }

  @AfterEach
  void close() {
    release.countDown();
    pool.shutdownNow();
  }

  /** Holds the write of {@code key} once its bytes are forced; counts down {@code held} there. */
  private void holdWritesOf(String key, CountDownLatch held) {
    holdWrites(key::equals, held);
  }

  /** Holds the writes of the keys {@code which} accepts, as {@link #holdWritesOf}. */
  private void holdWrites(Predicate<String> which, CountDownLatch held) {
    storage.objectForced = k -> {
      if (which.test(k)) {
        held.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    };
  }

  private Future<SimResponse> putLater(String key, String body, String... headers) {
    return pool.submit(() -> put(key, body, headers));
  }

  private SimResponse put(String key, String body, String... headers) {
    SimRequest.Builder request = SimRequest.builder("PUT", "/bkt/" + key)
        .body(body.getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return server.handle(request.build());
  }

  private SimResponse get(S3Server on, String key) {
    return on.handle(SimRequest.builder("GET", "/bkt/" + key).build());
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    assertThat(latch.await(PATIENCE_SECONDS, TimeUnit.SECONDS)).as("reached in time").isTrue();
  }

  private List<Path> temporaryFiles(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(f -> f.getFileName().toString().startsWith(DurableFiles.TEMP_PREFIX))
          .toList();
    }
  }

  @Test
  void aHeldWriteHoldsUpNoRequestOnAnotherKeyAndStaysInvisible() throws Exception {
    CountDownLatch held = new CountDownLatch(1);
    holdWritesOf("slow", held);
    Future<SimResponse> slow = putLater("slow", "slow bytes");
    await(held);

    // Each on its own thread: were the write held under the server's lock, these would wait.
    assertThat(pool.submit(() -> put("fast", "fast bytes")).get(PATIENCE_SECONDS,
        TimeUnit.SECONDS).status()).isEqualTo(200);
    assertThat(pool.submit(() -> get(server, "fast")).get(PATIENCE_SECONDS, TimeUnit.SECONDS)
        .bodyText()).isEqualTo("fast bytes");
    assertThat(pool.submit(() -> get(server, "slow")).get(PATIENCE_SECONDS, TimeUnit.SECONDS)
        .status()).isEqualTo(404);
    assertThat(slow.isDone()).isFalse();

    release.countDown();
    assertThat(slow.get(PATIENCE_SECONDS, TimeUnit.SECONDS).status()).isEqualTo(200);
    assertThat(get(server, "slow").bodyText()).isEqualTo("slow bytes");
  }

  @Test
  void conditionalPutsWrittenAtOnceAreDecidedExactlyOnce() throws Exception {
    int racers = 6;
    CountDownLatch held = new CountDownLatch(racers);
    holdWritesOf("contested", held);
    List<Future<SimResponse>> puts = new ArrayList<>();
    for (int i = 0; i < racers; i++) {
      puts.add(putLater("contested", "racer " + i, "If-None-Match", "*"));
    }
    // Every racer's bytes are written and forced before any is decided.
    await(held);
    release.countDown();
    List<Integer> statuses = new ArrayList<>();
    String winner = null;
    for (int i = 0; i < racers; i++) {
      SimResponse response = puts.get(i).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
      statuses.add(response.status());
      if (response.status() == 200) {
        winner = "racer " + i;
      }
    }
    assertThat(statuses).containsOnly(200, 412).filteredOn(s -> s == 200).hasSize(1);
    assertThat(get(server, "contested").bodyText()).isEqualTo(winner);
    assertThat(temporaryFiles(dir)).isEmpty();
  }

  @Test
  void conditionalReplacementsWrittenAtOnceAreDecidedExactlyOnce() throws Exception {
    String etag = put("contested", "first").header("ETag");
    int racers = 4;
    CountDownLatch held = new CountDownLatch(racers);
    holdWritesOf("contested", held);
    List<Future<SimResponse>> puts = new ArrayList<>();
    for (int i = 0; i < racers; i++) {
      puts.add(putLater("contested", "replacement " + i, "If-Match", etag));
    }
    await(held);
    release.countDown();
    List<String> winners = new ArrayList<>();
    for (int i = 0; i < racers; i++) {
      SimResponse response = puts.get(i).get(PATIENCE_SECONDS, TimeUnit.SECONDS);
      assertThat(response.status()).isIn(200, 412);
      if (response.status() == 200) {
        winners.add("replacement " + i);
      }
    }
    assertThat(winners).hasSize(1);
    assertThat(get(server, "contested").bodyText()).isEqualTo(winners.get(0));
    assertThat(temporaryFiles(dir)).isEmpty();
  }

  @Test
  void aRefusedPutLeavesNoFileBehind() throws Exception {
    put("taken", "first");
    List<Path> before;
    try (Stream<Path> files = Files.walk(dir)) {
      before = files.sorted().toList();
    }
    assertThat(put("taken", "second", "If-None-Match", "*").status()).isEqualTo(412);
    assertThat(put("taken", "second", "If-Match", "\"0123456789abcdef0123456789abcdef\"")
        .status()).isEqualTo(412);
    assertThat(server.handle(SimRequest.builder("PUT", "/nobucket/k")
        .body("x".getBytes(StandardCharsets.UTF_8)).build()).status()).isEqualTo(404);
    try (Stream<Path> files = Files.walk(dir)) {
      assertThat(files.sorted().toList()).isEqualTo(before);
    }
    assertThat(get(server, "taken").bodyText()).isEqualTo("first");
  }

  @Test
  void aCrashDuringAWriteLeavesExactlyThePublishedObjects() throws Exception {
    put("kept", "kept bytes");
    put("replaced", "old bytes");
    CountDownLatch held = new CountDownLatch(2);
    holdWrites(k -> true, held);
    Future<SimResponse> added = putLater("added", "new bytes");
    Future<SimResponse> replacement = putLater("replaced", "new bytes");
    await(held);

    // What a crash now would leave: a copy of the directory as it stands.
    Path crashed = dir.resolve("crashed");
    copyTree(dir.resolve("data"), crashed);
    S3Server restarted = S3Server.builder().storage(Storage.onDisk(crashed))
        .clock(Clock.systemUTC()).build();
    assertThat(get(restarted, "kept").bodyText()).isEqualTo("kept bytes");
    assertThat(get(restarted, "replaced").bodyText()).isEqualTo("old bytes");
    assertThat(get(restarted, "added").status()).isEqualTo(404);
    assertThat(temporaryFiles(crashed)).isEmpty();

    release.countDown();
    assertThat(added.get(PATIENCE_SECONDS, TimeUnit.SECONDS).status()).isEqualTo(200);
    assertThat(replacement.get(PATIENCE_SECONDS, TimeUnit.SECONDS).status()).isEqualTo(200);
    S3Server again = S3Server.builder().storage(Storage.onDisk(dir.resolve("data")))
        .clock(Clock.systemUTC()).build();
    assertThat(get(again, "added").bodyText()).isEqualTo("new bytes");
    assertThat(get(again, "replaced").bodyText()).isEqualTo("new bytes");
    assertThat(get(again, "kept").bodyText()).isEqualTo("kept bytes");
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      paths.forEach(p -> {
        try {
          Files.copy(p, to.resolve(from.relativize(p).toString()));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
