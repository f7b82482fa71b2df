package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Several hosts on one bucket: separate store instances and clients, and a separate process. */
class S3MultiHostIT {
  private static final int MIB = 1 << 20;
  private final List<ContentStore> stores = new ArrayList<>();
  private String bucket;
  private String prefix;

  @BeforeEach
  void setUp() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
  }

  @AfterEach
  void tearDown() {
    stores.forEach(ContentStore::close);
  }

  private ContentStore host(Duration lease) {
    ContentStore store = S3Stores.open(S3Mock.get().config(bucket, prefix)
        .partSize(5 * MIB).leaseDuration(lease).transfer(S3StoreConfig.Transfer.JAVA_ASYNC)
        .build());
    stores.add(store);
    return store;
  }

  /** A host reaching S3Mock through the proxy that serialises writes per key. */
  private ContentStore atomicHost() {
    ContentStore store = S3Stores.open(S3Endpoint.s3Mock().config(bucket, prefix)
        .partSize(5 * MIB).leaseDuration(Duration.ofSeconds(30))
        .transfer(S3StoreConfig.Transfer.JAVA_ASYNC).build());
    stores.add(store);
    return store;
  }

  @Test
  void aSecondHostGetsUnavailableWhileTheFirstHoldsTheLease() {
    ContentStore a = host(Duration.ofSeconds(30));
    ContentStore b = host(Duration.ofSeconds(30));
    Writer held = a.writer("contended", Descriptor.UNKNOWN);
    held.write(new byte[] {1, 2, 3});
    assertThatThrownBy(() -> b.writer("contended", Descriptor.UNKNOWN))
        .isInstanceOf(UnavailableException.class);
    assertThatThrownBy(() -> b.abort("contended")).isInstanceOf(UnavailableException.class);
    held.close();
    try (Writer resumed = b.writer("contended", Descriptor.UNKNOWN)) {
      assertThat(resumed.status().offset()).isEqualTo(3);
      assertThatThrownBy(() -> a.writer("contended", Descriptor.UNKNOWN))
          .isInstanceOf(UnavailableException.class);
    }
  }

  /**
   * Both hosts open the same new ref at the same instant. On S3 the create-only write of the
   * ingest record is atomic: exactly one open succeeds, the other fails with Unavailable, and the
   * winner holds the ref. S3Mock checks If-None-Match and then writes, non-atomically (measured: up
   * to 8 of 8 concurrent create-only PutObjects succeed); when both opens succeed there, a host
   * may even close after its record was overwritten by the other's slower create, so that both
   * hold the ref in turn. The hosts therefore reach S3Mock through the serialising proxy that
   * makes its conditional writes atomic ({@link S3Endpoint#endpoint()}), and the test asserts
   * S3's outcome exactly: one open fails, one host holds the ref. Reached directly, S3Mock fails
   * this test (both opens succeed in the first round).
   */
  @Test
  void twoHostsRacingForANewRefEndWithOneHolder() throws Exception {
    ContentStore a = atomicHost();
    ContentStore b = atomicHost();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 5; round++) {
        String ref = "race-" + round;
        CyclicBarrier start = new CyclicBarrier(2);
        List<Future<Writer>> opened = new ArrayList<>();
        for (ContentStore host : List.of(a, b)) {
          Callable<Writer> open = () -> {
            start.await();
            return host.writer(ref, Descriptor.UNKNOWN);
          };
          opened.add(threads.submit(open));
        }
        int holders = 0;
        int refusedAtOpen = 0;
        for (Future<Writer> f : opened) {
          Writer writer;
          try {
            writer = f.get(60, TimeUnit.SECONDS);
          } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(UnavailableException.class);
            refusedAtOpen++;
            continue;
          }
          writer.write(new byte[] {(byte) round});
          writer.close();
          holders++;
        }
        assertThat(refusedAtOpen).as("opens of ref %s refused", ref).isEqualTo(1);
        assertThat(holders).as("hosts that held ref %s", ref).isEqualTo(1);
        assertThat(a.status(ref).offset()).isEqualTo(1);
        assertThat(b.status(ref).offset()).isEqualTo(1);
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void writerKilledMidUploadIsResumedByAnotherHostAfterItsLeaseExpires() throws Exception {
    int parts = 3;
    int tail = 123_456;
    long seed = 77;
    byte[] bytes = S3StoreIT.random(5 * MIB * parts + tail, seed);
    Digest digest = Digest.of(bytes);
    Process child = ChildJvm.start(CrashingWriter.class, S3Mock.get().endpoint().toString(),
        bucket, prefix, "crash", Integer.toString(5 * MIB), Integer.toString(parts),
        Integer.toString(tail), Long.toString(seed));
    try {
      ChildJvm.awaitReady(child);
      ContentStore host = host(Duration.ofSeconds(2));
      assertThatThrownBy(() -> host.writer("crash", Descriptor.UNKNOWN))
          .as("the child's lease is live").isInstanceOf(UnavailableException.class);
      child.destroyForcibly().waitFor();

      Writer resumed = Content.openWriter(host, "crash", Descriptor.UNKNOWN,
          Duration.ofSeconds(60));
      Status status = resumed.status();
      // The three parts the child uploaded survive; its buffered tail died with it.
      assertThat(status.offset()).isEqualTo(5L * MIB * parts);
      assertThat(resumed.digest())
          .isEqualTo(Digest.of(Arrays.copyOf(bytes, 5 * MIB * parts)));
      resumed.write(bytes, 5 * MIB * parts, tail);
      resumed.commit(bytes.length, digest, null);
      assertThat(Content.readBlob(host, Descriptor.of(digest))).isEqualTo(bytes);
      assertThat(host.listStatuses()).isEmpty();
    } finally {
      child.destroyForcibly();
    }
  }
}
