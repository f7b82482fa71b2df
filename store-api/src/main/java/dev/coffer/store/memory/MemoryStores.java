package dev.coffer.store.memory;

import dev.coffer.store.ContentStore;
import java.time.Clock;
import java.util.Objects;

/**
 * A complete content store in memory, for tests and for trying Coffer without a bucket.
 *
 * <p>It honours the whole contract of {@link ContentStore}, including ref locks, resumable ingests,
 * reference counts and links; it is thread-safe. Its state lives only as long as the instance: each
 * call to {@link #open()} returns a new, empty store.
 */
public final class MemoryStores {

  private MemoryStores() {}

  /** A new, empty store whose timestamps come from the system clock (UTC). */
  public static ContentStore open() {
    return open(Clock.systemUTC());
  }

  /** A new, empty store whose timestamps come from {@code clock}. */
  public static ContentStore open(Clock clock) {
    return new MemoryStore(Objects.requireNonNull(clock, "clock"));
  }
}
