package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Issue 17, item 7: one writer's lease renewal stuck in a slow request does not hold back the
 * renewals of the store's other writers (docs/architecture.md, PROTO-7). Renewals run on the JVM's
 * clock (their period is a third of the lease), so the lease here is the shortest allowed and the
 * test waits for renewals with Awaitility. Nor does such a renewal hold back its own writer's writes.
 */
class LeaseRenewalTest extends SimStoreTestBase {

  private long renewals(String ref) {
    return requests(Operation.PUT_OBJECT, keys.ingestState(ref)).size();
  }

  /** Parks every lease renewal of {@code ref} while the flag is set, as under throttling. */
  private AtomicBoolean stallRenewalsOf(String ref) {
    AtomicBoolean stall = new AtomicBoolean(true);
    sim().network().interceptor(e -> {
      boolean stuck = e.operation() == Operation.PUT_OBJECT
          && keys.ingestState(ref).equals(e.request().key())
          && e.request().header("If-Match") != null && stall.get();
      if (!stuck) {
        e.proceed(); // else parked: the request hangs
      }
    });
    return stall;
  }

  @Test
  void aRenewalStuckOnOneWriterDoesNotStarveTheOthers() {
    ContentStore store = open("h", config().leaseDuration(Duration.ofMillis(300)).build());
    AtomicBoolean stall = stallRenewalsOf("slow");
    Writer slow = store.writer("slow", Descriptor.UNKNOWN);
    Writer other = store.writer("other", Descriptor.UNKNOWN);
    try {
      slow.write(ByteBuffer.wrap(random(10, 1)));
      other.write(ByteBuffer.wrap(random(10, 2)));
      await().atMost(Duration.ofSeconds(10)).until(() -> !sim().network().parked().isEmpty());
      long before = renewals("other");

      await().atMost(Duration.ofSeconds(10)).until(() -> renewals("other") >= before + 3);
    } finally {
      stall.set(false);
      sim().network().parked().forEach(Exchange::proceed);
      slow.close();
      other.close();
    }
    assertThat(store.status("other").offset()).isEqualTo(10);
  }

  @Test
  void aWriteDoesNotWaitForItsOwnRenewalStuckInASlowRequest() {
    ContentStore store = open("h", config().leaseDuration(Duration.ofMillis(300)).build());
    AtomicBoolean stall = stallRenewalsOf("slow");
    Writer slow = store.writer("slow", Descriptor.UNKNOWN);
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !sim().network().parked().isEmpty());

      // The lease is not lapsed yet: the write goes on while the renewal hangs (PROTO-7).
      assertTimeoutPreemptively(Duration.ofSeconds(5),
          () -> slow.write(ByteBuffer.wrap(random(10, 1))));
    } finally {
      stall.set(false);
      sim().network().parked().forEach(Exchange::proceed);
      slow.close();
    }
    assertThat(store.status("slow").offset()).isEqualTo(10);
  }
}
