package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.StoreException;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A large commit that fails after its bytes became durable, then is retried on the same ref in
 * the same process, as containerd retries a failed commit (invariant INT-1 of
 * docs/architecture.md): the retry publishes exactly the bytes written, or nothing.
 */
class FailedCommitRetryTest extends SimStoreTestBase {
  private static final String REF = "layer";

  /**
   * Answers 500 to every attempt the SDK makes of the first request of {@code operation} on
   * {@code key} sent once {@code after} was applied (so the request fails past the SDK's retries);
   * everything else proceeds.
   */
  private void failOnceAfter(Operation after, Operation operation, String key) {
    AtomicBoolean armed = new AtomicBoolean();
    AtomicInteger failed = new AtomicInteger();
    int attempts = config().build().sdkAttempts();
    sim().network().interceptor(e -> {
      if (armed.get() && e.operation() == operation && key.equals(e.request().key())
          && failed.get() < attempts) {
        failed.incrementAndGet();
        e.answer(500, "InternalError", "We encountered an internal error.");
        return;
      }
      e.proceed();
      if (e.operation() == after) {
        armed.set(true);
      }
    });
  }

  private void failCommit(ContentStore store, byte[] content, int from, Digest digest) {
    Writer w = store.writer(REF, Descriptor.UNKNOWN);
    w.write(ByteBuffer.wrap(content, from, content.length - from));
    assertThatThrownBy(() -> w.commit(content.length, digest, Map.of()))
        .isInstanceOf(StoreException.class);
    w.close();
  }

  /** Reopens the ref, commits what it holds, and checks that exactly the content was stored. */
  private void retryAndCheck(ContentStore store, byte[] content, Digest digest) {
    sim().network().interceptor(e -> e.proceed());
    try (Writer w = store.writer(REF, Descriptor.UNKNOWN)) {
      assertThat(w.status().offset()).isEqualTo(content.length);
      w.commit(content.length, digest, Map.of());
    }
    byte[] blob = stores.read(keys.blob(digest));
    assertThat(blob.length).isEqualTo(content.length);
    assertThat(Digest.of(blob)).isEqualTo(digest);
    assertThat(Digest.of(read(store, digest))).isEqualTo(digest);
    assertThat(store.info(digest).size()).isEqualTo(content.length);
    assertThat(stores.keys(PREFIX)).containsExactlyInAnyOrder(keys.blob(digest),
        keys.index(digest));
    assertThat(stores.uploads(PREFIX)).isEmpty();
  }

  @Test
  void aFreshWritersRecordUpdateFailingAfterCompletionThenARetryStoresTheContent() {
    ContentStore store = open("h");
    byte[] content = random(12 * MIB + 7, 1);
    Digest digest = Digest.of(content);
    failOnceAfter(Operation.COMPLETE_MULTIPART_UPLOAD, Operation.PUT_OBJECT,
        keys.ingestState(REF));
    failCommit(store, content, 0, digest);
    retryAndCheck(store, content, digest);
  }

  @Test
  void aResumedWritersRecordUpdateFailingAfterCompletionThenARetryStoresTheContent() {
    ContentStore store = open("h");
    byte[] content = random(13 * MIB + 5, 2);
    Digest digest = Digest.of(content);
    try (Writer w = store.writer(REF, Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(content, 0, 6 * MIB));
    }
    failOnceAfter(Operation.COMPLETE_MULTIPART_UPLOAD, Operation.PUT_OBJECT,
        keys.ingestState(REF));
    failCommit(store, content, 6 * MIB, digest);
    retryAndCheck(store, content, digest);
  }

  @Test
  void aFailedCompletionDoesNotSendTheTailTwice() {
    // 8 MiB parts: the tail (6 MiB) is a valid non-last part, so a second copy of it would be
    // accepted by S3 and make a 20 MiB object under a 14 MiB ingest.
    S3StoreConfig config = config().partSize(8 * MIB).build();
    ContentStore store = open("h", config);
    byte[] content = random(14 * MIB, 3);
    Digest digest = Digest.of(content);
    AtomicInteger seen = new AtomicInteger();
    int attempts = config.sdkAttempts();
    sim().network().interceptor(e -> {
      if (e.operation() == Operation.COMPLETE_MULTIPART_UPLOAD
          && seen.getAndIncrement() < attempts) {
        e.answer(500, "InternalError", "We encountered an internal error.");
      } else {
        e.proceed();
      }
    });
    failCommit(store, content, 0, digest);
    retryAndCheck(store, content, digest);
  }
}
