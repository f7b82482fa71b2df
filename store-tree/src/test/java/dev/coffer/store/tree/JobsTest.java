package dev.coffer.store.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class JobsTest {

  /**
   * A failed task fails the call, and the call ends only after the other tasks have: a restore
   * that failed on one file must not return while another file's temporary copy is still being
   * written or removed (a {@code get -r} of a tree with a corrupt file left a temporary file of
   * a good one behind now and then). The other task ends slowly on its interrupt: its clean-up
   * waits until the caller waits for the pool's end, which it never does if the call returns at once.
   */
  @Test
  void aFailureEndsTheCallOnlyOnceEveryOtherTaskHasEnded() {
    CountDownLatch slowStarted = new CountDownLatch(1);
    AtomicBoolean slowEnded = new AtomicBoolean();
    Thread caller = Thread.currentThread();
    Callable<Void> slow = () -> {
      slowStarted.countDown();
      try {
        new CountDownLatch(1).await(); // until cancelled
      } finally {
        long giveUp = System.nanoTime() + 10_000_000_000L; // a bound, not a wait: so a failure ends
        while (!waitingForTasks(caller) && System.nanoTime() < giveUp) {
          Thread.onSpinWait(); // the clean-up ends while the caller waits for it, if it waits
        }
        slowEnded.set(true);
      }
      return null;
    };
    Callable<Void> failing = () -> {
      slowStarted.await();
      throw new IllegalStateException("corrupt");
    };

    assertThatThrownBy(() -> Jobs.runAll(2, List.of(failing, slow)))
        .isInstanceOf(IllegalStateException.class).hasMessage("corrupt");
    assertThat(slowEnded).as("the other task ended before the call did").isTrue();
  }

  private static boolean waitingForTasks(Thread caller) {
    return Arrays.stream(caller.getStackTrace())
        .anyMatch(f -> f.getMethodName().equals("awaitTermination"));
  }
}
