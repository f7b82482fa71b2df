package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.AbortedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final List<Duration> slept = new ArrayList<>();
  private final Random random = new Random(7);
  private final StoreRuntime runtime = new StoreRuntime(null, null, () -> 0L,
      slept::add, () -> random, false);

  @AfterEach
  void clearInterrupt() {
    Thread.interrupted();
  }

  @Test
  void pausesDoubleFromTenMillisToOneSecondEachDrawnBetweenHalfAndAllOfIt() {
    Backoff backoff = new Backoff(runtime);
    for (int attempt = 0; attempt < 10; attempt++) {
      backoff.pause(attempt);
    }
    long[] caps = {10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000};
    assertThat(slept).hasSize(caps.length);
    for (int i = 0; i < caps.length; i++) {
      assertThat(slept.get(i).toMillis()).as("pause %d", i).isBetween(caps[i] / 2, caps[i]);
    }
  }

  @Test
  void aSkippedAttemptStillCountsTowardsTheNextDelay() {
    Backoff backoff = new Backoff(runtime);
    backoff.pause(0);
    backoff.pause(4); // attempts 1 to 3 were sent again without a pause
    assertThat(slept.get(1).toMillis()).isBetween(80L, 160L);
  }

  @Test
  void theSameSeedGivesTheSamePauses() {
    Random again = new Random(7);
    List<Duration> other = new ArrayList<>();
    Backoff first = new Backoff(runtime);
    Backoff second = new Backoff(new StoreRuntime(null, null, () -> 0L, other::add,
        () -> again, false));
    for (int attempt = 0; attempt < 6; attempt++) {
      first.pause(attempt);
      second.pause(attempt);
    }
    assertThat(other).isEqualTo(slept);
  }

  @Test
  void anInterruptedPauseIsAbortedWithTheInterruptRestored() {
    Backoff backoff = new Backoff(new StoreRuntime(null, null, () -> 0L, d -> {
      throw new InterruptedException();
    }, () -> random, false));
    assertThatThrownBy(() -> backoff.pause(0)).isInstanceOf(AbortedException.class);
    assertThat(Thread.currentThread().isInterrupted()).isTrue();
  }
}
