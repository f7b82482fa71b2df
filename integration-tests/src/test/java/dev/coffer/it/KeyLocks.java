package dev.coffer.it;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Asynchronous read-write locks by object key, granted first come first served: a request waits
 * without blocking a thread (its grant runs on the executor it names once the key is free), which
 * suits an event loop. Thread-safe.
 */
final class KeyLocks {
  private final Map<String, State> states = new HashMap<>();

  private static final class State {
    int readers;
    boolean writer;
    final Deque<Waiter> queue = new ArrayDeque<>();

    boolean idle() {
      return readers == 0 && !writer && queue.isEmpty();
    }
  }

  private record Waiter(boolean exclusive, Executor executor, Runnable granted) {}

  /** A held lock; releasing it twice is harmless. */
  interface Held {
    void release();
  }

  /**
   * Asks for {@code key}, exclusively or shared with other shared holders; {@code granted} runs on
   * {@code executor} once the lock is held. Returns the handle that releases it (also before the
   * grant, which then cancels the wait).
   */
  Held acquire(String key, boolean exclusive, Executor executor, Runnable granted) {
    Waiter waiter = new Waiter(exclusive, executor, granted);
    List<Waiter> grants;
    synchronized (this) {
      states.computeIfAbsent(key, k -> new State()).queue.add(waiter);
      grants = grantable(key);
    }
    grants.forEach(w -> w.executor().execute(w.granted()));
    return new Held() {
      private boolean released;

      @Override
      public void release() {
        List<Waiter> next;
        synchronized (KeyLocks.this) {
          if (released) {
            return;
          }
          released = true;
          State state = states.get(key);
          if (!state.queue.remove(waiter)) {
            if (waiter.exclusive()) {
              state.writer = false;
            } else {
              state.readers--;
            }
          }
          next = grantable(key);
        }
        next.forEach(w -> w.executor().execute(w.granted()));
      }
    };
  }

  /** Moves the waiters at the head of the queue that can now hold the key to holders. */
  private List<Waiter> grantable(String key) {
    State state = states.get(key);
    List<Waiter> granted = new ArrayList<>();
    while (!state.queue.isEmpty() && !state.writer) {
      Waiter head = state.queue.peek();
      if (head.exclusive()) {
        if (state.readers > 0) {
          break;
        }
        state.writer = true;
      } else {
        state.readers++;
      }
      granted.add(state.queue.poll());
    }
    if (state.idle()) {
      states.remove(key);
    }
    return granted;
  }
}
