package dev.coffer.store.s3;

import java.time.Clock;
import java.time.Instant;

/** Timestamps as nanoseconds since the epoch: the client's clock at full precision, as one long. */
final class Times {
  private Times() {}

  static long nanos(Instant instant) {
    return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L),
        instant.getNano());
  }

  static long now(Clock clock) {
    return nanos(clock.instant());
  }

  static Instant instant(long nanos) {
    return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L),
        Math.floorMod(nanos, 1_000_000_000L));
  }
}
