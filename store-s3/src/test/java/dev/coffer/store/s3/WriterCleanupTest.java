package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 17, item 4: a writer whose lease lapsed during its commit, and whose ingest another writer
 * took over meanwhile, leaves the ingest's bytes to that writer when its commit ends
 * (docs/architecture.md, PROTO-4).
 */
class WriterCleanupTest extends SimStoreTestBase {

  @Test
  void aCommitWhoseIngestWasTakenOverLeavesTheBytesToTheNewWriter() {
    ContentStore a = open("a");
    ContentStore b = open("b");
    byte[] content = random(6 * MIB, 1);
    Digest digest = Digest.of(content);
    AtomicBoolean tookOver = new AtomicBoolean();
    AtomicReference<Writer> second = new AtomicReference<>();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && e.operation() == Operation.COPY_OBJECT
          && keys.blob(digest).equals(e.request().key()) && tookOver.compareAndSet(false, true)) {
        // A's copy takes minutes; its renewals fail, the lease lapses, and B takes the ingest.
        clock.advance(config().build().leaseDuration().multipliedBy(2));
        second.set(b.writer("layer", Descriptor.UNKNOWN));
      }
      e.proceed();
    });

    try (Writer w = a.writer("layer", Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(content));
      w.commit(content.length, digest, Map.of());
    }

    assertThat(tookOver).isTrue();
    assertThat(read(a, digest)).isEqualTo(content);
    // The record is B's and names the bytes B resumed from: they are still there.
    IngestRecord record = Json.read(stores.read(keys.ingestState("layer")), IngestRecord.class,
        "layer");
    assertThat(record.dataKey()).isNotNull();
    assertThat(stores.keys(PREFIX)).contains(record.dataKey());
    try (Writer w = second.get()) {
      assertThat(w.status().offset()).isEqualTo(content.length);
      assertThat(w.digest()).isEqualTo(Digest.of(Arrays.copyOf(content, content.length)));
    }
    assertThat(b.status("layer").offset()).isEqualTo(content.length);
  }
}
