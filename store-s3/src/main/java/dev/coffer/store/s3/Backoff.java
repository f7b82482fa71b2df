package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.failsafe.Execution;
import dev.failsafe.RetryPolicy;
import java.time.Duration;
import java.time.temporal.ChronoUnit;

/**
 * The pauses of one retry loop of the store: Failsafe's exponential backoff (10 ms doubling to
 * 1 s), each pause drawn uniformly between half that delay and all of it with the runtime's
 * randomness, and slept with the runtime's sleeper, so a simulated run stays replayable from its
 * seed. Only the delays come from here: when to stop, and what an attempt that failed may still
 * do, stay with the loop (PROTO-3). One instance per loop, on one thread.
 */
final class Backoff {
  /** Never completes by itself: the loops count their attempts and their time. */
  private static final RetryPolicy<Object> POLICY = RetryPolicy.builder()
      .handleIf((result, failure) -> true)
      .withBackoff(10, 1000, ChronoUnit.MILLIS)
      .withMaxRetries(-1)
      .build();

  private final StoreRuntime runtime;
  private final Execution<Object> execution = Execution.of(POLICY);
  private int recorded;

  Backoff(StoreRuntime runtime) {
    this.runtime = runtime;
  }

  /**
   * Sleeps before attempt {@code attempt + 1} (attempts count from 0 and only grow): a jittered
   * share of Failsafe's delay after {@code attempt + 1} failed attempts.
   *
   * @throws AbortedException if interrupted, with the interrupt restored
   */
  void pause(int attempt) {
    while (recorded <= attempt) {
      execution.recordResult(null);
      recorded++;
    }
    long cap = execution.getDelay().toMillis();
    try {
      runtime.sleeper().sleep(
          Duration.ofMillis(runtime.random().get().nextLong(cap / 2, cap + 1)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while retrying a compare-and-swap", e);
    }
  }
}
