package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Writer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Issue 17, item 9: gc reads ingest records as a walk reads index records, many at once (up to
 * 16 in flight), not one at a time (docs/architecture.md, PROTO-9).
 */
class GcParallelReadsTest extends SimStoreTestBase {

  @Test
  void gcReadsIngestRecordsSixteenAtATime() throws Exception {
    ContentStore store = open("h");
    for (int i = 0; i < 20; i++) {
      try (Writer w = store.writer("abandoned-" + i, Descriptor.UNKNOWN)) {
        w.write(java.nio.ByteBuffer.wrap(random(10, i)));
      }
    }
    clock.advance(Duration.ofDays(2));
    AtomicBoolean park = new AtomicBoolean(true);
    sim().network().interceptor(e -> {
      boolean stateRead = e.operation() == Operation.GET_OBJECT && e.request().key() != null
          && e.request().key().startsWith(PREFIX + "ingest/")
          && e.request().key().endsWith("/state");
      if (!(stateRead && park.get())) {
        e.proceed(); // else left parked for the test thread
      }
    });

    CompletableFuture<GcReport> gc =
        CompletableFuture.supplyAsync(() -> store.gc(GcOptions.DEFAULTS));
    boolean sixteenAtOnce = sim().network().awaitParked(16, Duration.ofSeconds(20));
    park.set(false);
    sim().network().parked().forEach(Exchange::proceed);

    assertThat(sixteenAtOnce).isTrue();
    assertThat(gc.get(60, TimeUnit.SECONDS).ingestsRemoved()).isEqualTo(20);
  }
}
