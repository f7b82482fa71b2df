package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.Capabilities;
import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Operation;
import dev.coffer.s3sim.SimS3;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.ChecksumMode;

/**
 * Committing content of several parts: the multipart upload, the server-side copy to the digest
 * key (one CopyObject, or a multipart copy above the threshold), what is left in the bucket, and
 * a completion whose answer is lost or arrives as 200 with an error.
 */
class LargeCommitTest extends SimStoreTestBase {
  private static final int SIZE = 12 * MIB + 7;

  private Digest commit(ContentStore store, byte[] content) {
    Digest digest = Digest.of(content);
    try (Writer w = store.writer("big", new Descriptor(digest, content.length))) {
      w.write(ByteBuffer.wrap(content));
      w.commit(content.length, digest, Map.of("k", "v"));
    }
    return digest;
  }

  private void assertOnlyTheBlobIsLeft(Digest digest) {
    assertThat(stores.keys(PREFIX)).containsExactlyInAnyOrder(keys.blob(digest),
        keys.index(digest));
    assertThat(stores.uploads(PREFIX)).isEmpty();
  }

  @Test
  void aLargeBlobIsUploadedInPartsAndCopiedToItsDigestKey() {
    ContentStore store = open("h");
    byte[] content = random(SIZE, 1);
    Digest digest = commit(store, content);
    assertThat(read(store, digest)).isEqualTo(content);
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(sim().log().count(Operation.UPLOAD_PART)).isEqualTo(3);
    assertThat(sim().log().count(Operation.COMPLETE_MULTIPART_UPLOAD)).isEqualTo(1);
    assertThat(sim().log().count(Operation.COPY_OBJECT)).isEqualTo(1);
    assertOnlyTheBlobIsLeft(digest);
    // The parts' CRC32C became the copy's whole-object CRC32C (S3 copies the algorithm).
    var head = stores.client(SimStores.INSPECTOR, config().build()).headObject(b -> b
        .bucket(SimStores.BUCKET).key(keys.blob(digest)).checksumMode(ChecksumMode.ENABLED));
    assertThat(head.checksumCRC32C()).isEqualTo(BodyChecksums.crc32c(content, 0, content.length));
  }

  @Test
  void aBlobAboveTheThresholdIsCopiedInParts() {
    ContentStore store = open("h", config().multipartCopyThreshold(5 * MIB)
        .copyPartSize(5 * MIB).build());
    byte[] content = random(SIZE, 2);
    Digest digest = commit(store, content);
    assertThat(read(store, digest)).isEqualTo(content);
    assertThat(sim().log().count(Operation.UPLOAD_PART_COPY)).isEqualTo(2);
    assertThat(sim().log().count(Operation.COPY_OBJECT)).isZero();
    assertOnlyTheBlobIsLeft(digest);
  }

  /** Does {@code fault} to the first request of {@code operation}; proceeds with the rest. */
  private void onFirst(Operation operation, Consumer<Exchange> fault) {
    AtomicInteger seen = new AtomicInteger();
    sim().network().interceptor(e -> {
      if (e.operation() == operation && seen.getAndIncrement() == 0) {
        fault.accept(e);
      } else {
        e.proceed();
      }
    });
  }

  @Test
  void aCompletionAnsweredWithAnErrorIn200IsRetried() {
    ContentStore store = open("h");
    onFirst(Operation.COMPLETE_MULTIPART_UPLOAD,
        e -> e.answer(200, "InternalError", "We encountered an internal error."));
    byte[] content = random(SIZE, 3);
    Digest digest = commit(store, content);
    assertThat(read(store, digest)).isEqualTo(content);
    assertThat(sim().log().count(Operation.COMPLETE_MULTIPART_UPLOAD)).isEqualTo(2);
    assertOnlyTheBlobIsLeft(digest);
  }

  /**
   * The SDK retries the completion S3 applied and gets 404 NoSuchUpload (S3's answer to an upload
   * completed already, as on MinIO and S3Mock); the writer then finds the completed object at its
   * own upload key, of the ingest's length, and commits it (INT-1).
   */
  @Test
  void aCompletionWhoseAnswerIsLostStillCommits() {
    ContentStore store = open("h");
    onFirst(Operation.COMPLETE_MULTIPART_UPLOAD, Exchange::applyAndLoseAnswer);
    byte[] content = random(SIZE, 4);
    Digest digest = commit(store, content);
    assertThat(read(store, digest)).isEqualTo(content);
    assertOnlyTheBlobIsLeft(digest);
  }

  @Test
  void onAServerWithIdempotentCompletionALostCompletionAnswerCommits() {
    // AWS answers a repeated completion as the first (see Capabilities#idempotentCompletion):
    // there the SDK's retry succeeds, and so does the commit.
    SimStores aws = new SimStores(SimS3.builder().clock(clock)
        .capabilities(Capabilities.s3().withIdempotentCompletion()).build());
    try {
      AtomicInteger seen = new AtomicInteger();
      aws.sim.network().interceptor(e -> {
        if (e.operation() == Operation.COMPLETE_MULTIPART_UPLOAD && seen.getAndIncrement() == 0) {
          e.applyAndLoseAnswer();
        } else {
          e.proceed();
        }
      });
      ContentStore store = aws.open("h", config().build());
      byte[] content = random(SIZE, 5);
      Digest digest = commit(store, content);
      assertThat(read(store, digest)).isEqualTo(content);
      assertThat(aws.keys(PREFIX)).containsExactlyInAnyOrder(keys.blob(digest),
          keys.index(digest));
      store.close();
    } finally {
      aws.close();
    }
  }
}
