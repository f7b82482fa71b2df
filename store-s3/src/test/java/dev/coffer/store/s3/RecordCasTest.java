package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Faults;
import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.s3sim.Outcome;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A compare-and-swap of an index record whose answer is lost (S3 applied it, the client saw a
 * reset and the SDK retried into a 412, or gave up) is recognised by its operation id and never
 * applied twice; one held back and applied late changes nothing.
 */
class RecordCasTest extends SimStoreTestBase {

  /** Does {@code fault} to the first request that {@code which} picks; proceeds with the rest. */
  private void onFirst(Predicate<Exchange> which, Consumer<Exchange> fault) {
    AtomicInteger seen = new AtomicInteger();
    sim().network().interceptor(e -> {
      if (which.test(e) && seen.getAndIncrement() == 0) {
        fault.accept(e);
      } else {
        e.proceed();
      }
    });
  }

  private Predicate<Exchange> recordWrite(Digest digest, String condition) {
    return e -> e.operation() == Operation.PUT_OBJECT && keys.index(digest).equals(
        e.request().key()) && e.request().header(condition) != null;
  }

  @Test
  void aRefWhoseAnswerIsLostCountsOnce() {
    ContentStore store = open("h");
    Digest digest = store.putAndRef(random(100, 1), null, Map.of()).digest();
    onFirst(recordWrite(digest, "If-Match"), Exchange::applyAndLoseAnswer);
    assertThat(store.ref(digest).refCount()).isEqualTo(2);
    assertThat(store.info(digest).refCount()).isEqualTo(2);
    // One request (the SDK does not retry record writes, PROTO-3): the store's next read found
    // the change it had made.
    assertThat(requests(Operation.PUT_OBJECT, keys.index(digest)))
        .extracting(LoggedRequest::outcome, LoggedRequest::status)
        .endsWith(tuple(Outcome.ANSWERED, 200), tuple(Outcome.ANSWER_LOST, 200));
  }

  @Test
  void aDerefWhoseAnswerIsLostNeverDeletesAHeldBlob() {
    ContentStore store = open("h");
    byte[] content = random(100, 2);
    Digest digest = store.putAndRef(content, null, Map.of()).digest();
    store.ref(digest);
    onFirst(recordWrite(digest, "If-Match"), Exchange::applyAndLoseAnswer);
    store.deref(digest);
    assertThat(store.info(digest).refCount()).isEqualTo(1);
    assertThat(read(store, digest)).isEqualTo(content);
  }

  @Test
  void aLostAnswerWithoutSdkRetriesIsFoundOnTheNextRead() {
    ContentStore store = open("h", config().sdkAttempts(1).build());
    Digest digest = store.putAndRef(random(100, 3), null, Map.of()).digest();
    onFirst(recordWrite(digest, "If-Match"), Exchange::applyAndLoseAnswer);
    assertThat(store.ref(digest).refCount()).isEqualTo(2);
    assertThat(store.info(digest).refCount()).isEqualTo(2);
    assertThat(requests(Operation.PUT_OBJECT, keys.index(digest)))
        .extracting(LoggedRequest::outcome).last().isEqualTo(Outcome.ANSWER_LOST);
  }

  @Test
  void aRecordCreationWhoseAnswerIsLostIsTheCreatorsOwn() {
    ContentStore store = open("h");
    byte[] content = random(100, 4);
    Digest digest = Digest.of(content);
    onFirst(recordWrite(digest, "If-None-Match"), Exchange::applyAndLoseAnswer);
    assertThat(store.putAndRef(content, digest, Map.of("k", "v")).refCount()).isEqualTo(1);
    assertThat(store.info(digest).refCount()).isEqualTo(1);
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(requests(Operation.PUT_OBJECT, keys.index(digest)))
        .extracting(LoggedRequest::outcome, LoggedRequest::status)
        .containsExactly(tuple(Outcome.ANSWER_LOST, 200));
  }

  @Test
  void aRecordWriteAppliedLateChangesNothing() {
    ContentStore store = open("h");
    Digest digest = store.putAndRef(random(100, 5), null, Map.of()).digest();
    onFirst(recordWrite(digest, "If-Match"), Exchange::hold);
    assertThat(store.ref(digest).refCount()).isEqualTo(2);
    sim().network().releaseHeld();
    assertThat(requests(Operation.PUT_OBJECT, keys.index(digest)))
        .extracting(LoggedRequest::outcome, LoggedRequest::status)
        .endsWith(tuple(Outcome.APPLIED_LATE, 412));
    assertThat(store.info(digest).refCount()).isEqualTo(2);
  }

  @Test
  void everyAnswerLostOnceAndCountsStayExact() {
    // One in three requests of the host loses its answer (seeded); the SDK and the store's
    // compare-and-swap recover every time, and the counts come out exact.
    sim().network().faults("h", Faults.builder().seed(11).lostAnswer(0.3)
        .build());
    ContentStore store = open("h");
    Digest a = store.putAndRef(random(100, 6), null, Map.of()).digest();
    Digest b = store.putAndRef(random(100, 7), null, Map.of()).digest();
    for (int i = 0; i < 5; i++) {
      store.ref(a);
    }
    store.link(b, a);
    store.deref(a);
    store.deref(a);
    assertThat(store.info(a).refCount()).isEqualTo(4);
    assertThat(store.info(b).refCount()).isEqualTo(1);
    assertThat(store.info(a).links()).containsExactly(b);
    assertThat(sim().log().count(Operation.PUT_OBJECT, Outcome.ANSWER_LOST)).isGreaterThan(1);
  }
}
