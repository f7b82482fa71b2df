package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.StoreException;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A commit refused with FailedPrecondition keeps the ingest, made durable as on close (Writer's
 * contract; docs/architecture.md, "Writers"). When making it durable fails too, the bytes written
 * are not kept, and the answer must not claim they are: the commit fails as the close would have
 * (here Unavailable), the FailedPrecondition suppressed beside it. Found by the protocol checker
 * at 10 % faults (seed 2, INV-6): the store answered FailedPrecondition, the next writer resumed
 * at offset 0 where the caller had every reason to expect the bytes it wrote.
 */
class FailedPreconditionKeepsTheIngestTest extends SimStoreTestBase {
  private static final String REF = "layer";

  @Test
  void aRefusedCommitWhoseBytesCannotBeKeptDoesNotAnswerFailedPrecondition() {
    ContentStore store = open("h");
    byte[] content = random(3_000, 1);
    Writer w = store.writer(REF, Descriptor.UNKNOWN);
    w.write(ByteBuffer.wrap(content, 0, 2_000));
    // Every attempt to put the ingest's data object fails: the pause cannot keep the bytes.
    String dataPrefix = PREFIX + "ingest/";
    sim().network().interceptor(e -> {
      if (e.operation() == Operation.PUT_OBJECT && e.request().key().startsWith(dataPrefix)
          && e.request().key().contains("/data/")) {
        e.answer(500, "InternalError", "We encountered an internal error.");
      } else {
        e.proceed();
      }
    });
    Throwable thrown = null;
    try {
      w.commit(content.length, Digest.of(content), Map.of());
    } catch (StoreException e) {
      thrown = e;
    }
    assertThat(thrown).isNotNull().isNotInstanceOf(FailedPreconditionException.class);
    assertThat(thrown.getSuppressed()).hasAtLeastOneElementOfType(
        FailedPreconditionException.class);
    sim().network().interceptor(null);

    // What the ingest holds is what a new writer resumes at, once the lease lapses: none of it.
    clock.advance(config().build().leaseDuration().plusSeconds(1));
    try (Writer again = store.writer(REF, Descriptor.UNKNOWN)) {
      assertThat(again.status().offset()).isZero();
      assertThat(again.digest()).isEqualTo(Digest.of(new byte[0]));
    }
  }
}
