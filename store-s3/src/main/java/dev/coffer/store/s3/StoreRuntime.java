package dev.coffer.store.s3;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * What a store takes from its process besides S3 and its configuration's clock: threads, a
 * monotonic clock, pauses and randomness. Production stores use {@link #system()}; the simulation
 * injects its own (a direct executor, virtual time, seeded randomness), so that a run of the real
 * store code is replayable from a seed.
 *
 * @param workers runs background work: part uploads and hashing, record reads of a walk, split reads
 * @param leases runs the periodic renewal of writers' leases
 * @param nanoTime a monotonic clock in nanoseconds, as {@link System#nanoTime()}
 * @param sleeper waits between attempts of a compare-and-swap
 * @param random the randomness of operation ids, writer tokens and jitter; called per use
 * @param owned whether the store shuts the executors down when it closes
 */
record StoreRuntime(ExecutorService workers, ScheduledExecutorService leases,
    LongSupplier nanoTime, Sleeper sleeper, Supplier<RandomGenerator> random, boolean owned) {

  /** Waits; the simulation's waits advance virtual time instead of the wall clock. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  /** Daemon thread pools, the JVM's clocks, {@link Thread#sleep} and thread-local randomness. */
  static StoreRuntime system() {
    return new StoreRuntime(
        Executors.newCachedThreadPool(daemon("coffer-s3-worker")),
        Executors.newSingleThreadScheduledExecutor(daemon("coffer-s3-lease")),
        System::nanoTime,
        duration -> Thread.sleep(duration.toMillis(), duration.toNanosPart() % 1_000_000),
        ThreadLocalRandom::current,
        true);
  }

  private static ThreadFactory daemon(String name) {
    AtomicLong count = new AtomicLong();
    return r -> {
      Thread t = new Thread(r, name + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** A fresh random long. */
  long nextLong() {
    return random.get().nextLong();
  }

  /** Shuts the executors down if the store owns them. */
  void shutdown() {
    if (owned) {
      leases.shutdownNow();
      workers.shutdownNow();
    }
  }
}
