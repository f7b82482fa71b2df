package dev.coffer.s3sim;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that moves only when told: the simulated S3's time (LastModified, upload Initiated), and
 * the hosts' own clocks in a simulation ({@link #skewed(Duration)} gives a host a clock that runs a
 * fixed offset from this one). It never reads the wall clock.
 *
 * <p>Thread-safe: {@link #advance} and {@link #set} are atomic, and every reader sees the latest.
 */
public final class SimClock extends Clock {

  /** Where a clock made with {@link #SimClock()} starts: 2025-01-01T00:00:00Z. */
  public static final Instant DEFAULT_START = Instant.parse("2025-01-01T00:00:00Z");

  private final AtomicReference<Instant> now;

  /** A clock at {@link #DEFAULT_START}. */
  public SimClock() {
    this(DEFAULT_START);
  }

  /** A clock at {@code start}. */
  public SimClock(Instant start) {
    this.now = new AtomicReference<>(Objects.requireNonNull(start, "start"));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  /**
   * Moves the clock forward.
   *
   * @return the new time
   * @throws IllegalArgumentException if {@code step} is negative
   */
  public Instant advance(Duration step) {
    if (step.isNegative()) {
      throw new IllegalArgumentException("cannot advance the clock by " + step + ": negative");
    }
    return now.updateAndGet(t -> t.plus(step));
  }

  /** Sets the time, forward or back (a clock stepped back by NTP, for example). */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  /**
   * A clock that reads this one plus {@code offset}: a host whose clock is skewed from S3's. It
   * follows every later move of this clock.
   */
  public Clock skewed(Duration offset) {
    Objects.requireNonNull(offset, "offset");
    SimClock base = this;
    return new Clock() {
      @Override
      public Instant instant() {
        return base.instant().plus(offset);
      }

      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("a skewed simulated clock is always UTC");
      }
    };
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /** Not supported: a simulated clock is always UTC. */
  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("a simulated clock is always UTC");
  }

  @Override
  public String toString() {
    return "SimClock[" + instant() + "]";
  }
}
