package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Operation;
import dev.coffer.s3sim.Outcome;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An ingest continued by another store instance: one paused cleanly on host a and resumed on host
 * b (server-side copies of the partial), and one whose host died mid-upload, taken over once its
 * lease expired on the simulated clock (the uploaded parts are kept); and a writer whose ingest
 * record write lost its answer, which must still own its ref.
 */
class IngestResumeTest extends SimStoreTestBase {

  private static void write(Writer w, byte[] content, int from, int to) {
    w.write(ByteBuffer.wrap(content, from, to - from));
  }

  @Test
  void anIngestPausedOnOneHostIsResumedOnAnother() {
    ContentStore a = open("a");
    ContentStore b = open("b");
    byte[] content = random(7 * MIB + 123, 1);
    Digest digest = Digest.of(content);
    try (Writer w = a.writer("layer", Descriptor.UNKNOWN)) {
      write(w, content, 0, 6 * MIB);
    }
    assertThat(b.status("layer").offset()).isEqualTo(6L * MIB);
    try (Writer w = b.writer("layer", Descriptor.UNKNOWN)) {
      assertThat(w.status().offset()).isEqualTo(6L * MIB);
      assertThat(w.digest()).isEqualTo(Digest.of(Arrays.copyOf(content, 6 * MIB)));
      write(w, content, 6 * MIB, content.length);
      w.commit(content.length, digest, Map.of());
    }
    assertThat(read(b, digest)).isEqualTo(content);
    assertThat(read(a, digest)).isEqualTo(content);
    // Host b continued from the partial object server-side, without uploading its bytes again.
    assertThat(sim().log().count("b", Operation.UPLOAD_PART_COPY)).isPositive();
    assertThat(stores.keys(PREFIX)).containsExactlyInAnyOrder(keys.blob(digest),
        keys.index(digest));
    assertThat(stores.uploads(PREFIX)).isEmpty();
  }

  @Test
  void anIngestWhoseHostDiedIsTakenOverOnceItsLeaseExpires() throws Exception {
    S3StoreConfig config = config().leaseDuration(Duration.ofSeconds(30)).build();
    CountDownLatch firstPart = new CountDownLatch(1);
    sim().network().interceptor(e -> {
      e.proceed();
      if (e.host().equals("a") && e.operation() == Operation.UPLOAD_PART
          && e.outcome() == Outcome.ANSWERED) {
        firstPart.countDown();
      }
    });
    ContentStore a = open("a", config);
    byte[] content = random(8 * MIB, 2);
    Digest digest = Digest.of(content);
    Writer dying = a.writer("layer", Descriptor.UNKNOWN);
    write(dying, content, 0, 6 * MIB); // one 5 MiB part goes up; 1 MiB stays in memory
    assertThat(firstPart.await(30, TimeUnit.SECONDS)).isTrue();
    sim().network().kill("a");

    ContentStore b = open("b", config);
    assertThatThrownBy(() -> b.writer("layer", Descriptor.UNKNOWN))
        .isInstanceOf(UnavailableException.class).hasMessageContaining("layer");
    clock.advance(Duration.ofSeconds(31));
    try (Writer w = b.writer("layer", Descriptor.UNKNOWN)) {
      // The bytes that reached S3 are kept: the part, not what died in host a's memory.
      assertThat(w.status().offset()).isEqualTo(5L * MIB);
      assertThat(w.digest()).isEqualTo(Digest.of(Arrays.copyOf(content, 5 * MIB)));
      write(w, content, 5 * MIB, content.length);
      w.commit(content.length, digest, Map.of());
    }
    assertThat(read(b, digest)).isEqualTo(content);
    assertThat(stores.keys(PREFIX)).containsExactlyInAnyOrder(keys.blob(digest),
        keys.index(digest));
    assertThat(stores.uploads(PREFIX)).isEmpty();
  }

  /**
   * PROTO-6: the SDK's retry of the create-only write meets the record its first attempt created;
   * the writer recognises its own record (its lease in it) instead of reading it as another
   * writer's, which locked the ref until the lease expired (UnavailableException "locked by
   * another writer (<its own id>)") before issue 17.
   */
  @Test
  void aWriterWhoseIngestRecordCreationLostItsAnswerOwnsTheRef() {
    ContentStore store = open("h");
    AtomicInteger seen = new AtomicInteger();
    sim().network().interceptor(e -> {
      if (e.operation() == Operation.PUT_OBJECT && keys.ingestState("layer").equals(
          e.request().key()) && seen.getAndIncrement() == 0) {
        e.applyAndLoseAnswer(); // the SDK's retry then meets the record as 412
      } else {
        e.proceed();
      }
    });
    byte[] content = random(1000, 3);
    try (Writer w = store.writer("layer", Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(content));
      w.commit(content.length, Digest.of(content), Map.of());
    }
    assertThat(read(store, Digest.of(content))).isEqualTo(content);
  }

  /**
   * PROTO-6: the writer changes its ingest record by If-Match against the ETag it last wrote;
   * when S3 applied the change but the answer was lost, the SDK's retry gets 412, and the writer
   * reads the record back and finds its own change, where before issue 17 it took it for another
   * writer's takeover and failed with UnavailableException "the lease on ref "layer" was lost".
   */
  @Test
  void aWriterWhoseIngestRecordUpdateLostItsAnswerKeepsItsLease() {
    ContentStore store = open("h");
    AtomicInteger seen = new AtomicInteger();
    sim().network().interceptor(e -> {
      if (e.operation() == Operation.PUT_OBJECT && keys.ingestState("layer").equals(
          e.request().key()) && e.request().header("If-Match") != null
          && seen.getAndIncrement() == 0) {
        e.applyAndLoseAnswer(); // the SDK's retry then meets the record as 412
      } else {
        e.proceed();
      }
    });
    byte[] content = random(6 * MIB, 4);
    try (Writer w = store.writer("layer", Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(content)); // a full part starts the upload and records it
      w.commit(content.length, Digest.of(content), Map.of());
    }
    assertThat(read(store, Digest.of(content))).isEqualTo(content);
  }
}
