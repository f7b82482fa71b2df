package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.s3sim.Outcome;
import dev.coffer.store.AbortedException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.UnknownException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The store owns the retries of a record's compare-and-swap (docs/architecture.md, PROTO-3): each
 * conditional write is one request, a change whose answer was lost is recognised by its operation
 * id however many other changes landed meanwhile (ids are kept by age), and a change that gives up
 * says Aborted only when nothing it sent can still land.
 */
class CasRetriesTest extends SimStoreTestBase {

  private boolean isRecordWrite(Exchange e, Digest digest) {
    return e.operation() == Operation.PUT_OBJECT && keys.index(digest).equals(e.request().key())
        && e.request().header("If-Match") != null;
  }

  /**
   * Issue 17, item 3: host A's deref lands but its answer is lost; before A looks again, host B
   * changes the popular record eight times. A must still find its own change and not apply it a
   * second time.
   */
  @Test
  void aDerefWhoseAnswerWasLostIsRecognisedAfterEightOtherChanges() {
    ContentStore a = open("a");
    ContentStore b = open("b");
    Digest digest = a.putAndRef(random(100, 1), null, Map.of()).digest();
    a.ref(digest); // 2
    AtomicBoolean lost = new AtomicBoolean();
    AtomicBoolean othersDone = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && isRecordWrite(e, digest) && lost.compareAndSet(false, true)) {
        e.applyAndLoseAnswer();
      } else if (e.host().equals("a") && lost.get() && othersDone.compareAndSet(false, true)) {
        // A's next request, whatever it is: first B's eight changes land.
        for (int i = 0; i < 8; i++) {
          b.ref(digest);
        }
        e.proceed();
      } else {
        e.proceed();
      }
    });

    a.deref(digest);

    assertThat(othersDone).isTrue();
    assertThat(a.info(digest).refCount()).isEqualTo(2 - 1 + 8);
  }

  /**
   * Heavy faults, seed 26: host A's deref of a blob at one reference lands (the blob is deleting)
   * but its answer is lost; before A looks again, host B puts the same content, which brings the
   * blob back as a new incarnation at 0 references. A's deref was made: it must answer as it
   * landed, not refuse with FailedPrecondition for the reference the new incarnation never had.
   */
  @Test
  void aDerefWhoseAnswerWasLostIsRecognisedAfterAPutBroughtTheBlobBack() {
    ContentStore a = open("a");
    ContentStore b = open("b");
    byte[] content = random(100, 5);
    Info first = a.putAndRef(content, null, Map.of()); // 1
    Digest digest = first.digest();
    AtomicBoolean lost = new AtomicBoolean();
    AtomicBoolean putDone = new AtomicBoolean();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && isRecordWrite(e, digest) && lost.compareAndSet(false, true)) {
        e.applyAndLoseAnswer();
      } else if (e.host().equals("a") && lost.get() && putDone.compareAndSet(false, true)) {
        // A's next request, whatever it is: first B's put brings the blob back.
        assertThat(b.put(content, digest, Map.of()).refCount()).isZero();
        e.proceed();
      } else {
        e.proceed();
      }
    });

    a.deref(digest);

    assertThat(putDone).isTrue();
    Info after = b.info(digest);
    assertThat(after.refCount()).isZero();
    assertThat(after.incarnation()).isNotEqualTo(first.incarnation());
  }

  /**
   * Every attempt of a deref times out and is held in the network, so each may still land: the
   * store must not say "nothing was changed" (Aborted), which would let a holder restore its hold
   * and release it twice. Once released, the held writes change the count once.
   */
  @Test
  void aChangeWhoseWritesMayStillLandIsUnknownNotAborted() {
    ContentStore store = open("h", config().casAttempts(3).build());
    Digest digest = store.putAndRef(random(100, 2), null, Map.of()).digest();
    store.ref(digest); // 2
    sim().network().interceptor(e -> {
      if (isRecordWrite(e, digest)) {
        e.hold();
      } else {
        e.proceed();
      }
    });

    assertThatThrownBy(() -> store.deref(digest)).isInstanceOf(UnknownException.class)
        .isNotInstanceOf(AbortedException.class).hasMessageContaining(digest.toString());

    sim().network().interceptor(null);
    sim().network().releaseHeld();
    assertThat(store.info(digest).refCount()).isEqualTo(1);
  }

  /** A compare-and-swap that lost every race, with nothing in flight, is Aborted. */
  @Test
  void aChangeThatLostEveryRaceIsAborted() {
    ContentStore a = open("a", config().casAttempts(3).build());
    ContentStore b = open("b");
    Digest digest = a.putAndRef(random(100, 3), null, Map.of()).digest();
    AtomicInteger raced = new AtomicInteger();
    sim().network().interceptor(e -> {
      if (e.host().equals("a") && isRecordWrite(e, digest)) {
        raced.incrementAndGet();
        b.ref(digest); // B's change lands first: A's write meets 412
      }
      e.proceed();
    });

    assertThatThrownBy(() -> a.deref(digest)).isInstanceOf(AbortedException.class);

    assertThat(raced).hasValue(3);
    assertThat(b.info(digest).refCount()).isEqualTo(1 + 3);
  }

  /** A record write is one request: the SDK does not retry it, the store does. */
  @Test
  void aRecordWriteIsASingleRequest() {
    ContentStore store = open("h");
    Digest digest = store.putAndRef(random(100, 4), null, Map.of()).digest();
    AtomicBoolean first = new AtomicBoolean(true);
    sim().network().interceptor(e -> {
      if (isRecordWrite(e, digest) && first.getAndSet(false)) {
        e.answer(500, "InternalError", "injected");
      } else {
        e.proceed();
      }
    });

    assertThat(store.ref(digest).refCount()).isEqualTo(2);

    // One failed PutObject, then the store read the record again before its own retry.
    assertThat(sim().log().entries().stream()
        .filter(r -> keys.index(digest).equals(r.key()))
        .map(LoggedRequest::operation).toList())
        .endsWith(Operation.PUT_OBJECT, Operation.GET_OBJECT, Operation.PUT_OBJECT);
  }
}
