package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The simulated clock moves only when told (SIM-4). */
class SimClockTest {

  @Test
  void movesOnlyWhenTold() {
    SimClock clock = new SimClock();
    assertThat(clock.instant()).isEqualTo(SimClock.DEFAULT_START);
    assertThat(clock.instant()).isEqualTo(SimClock.DEFAULT_START);
    assertThat(clock.advance(Duration.ofMillis(1500)))
        .isEqualTo(SimClock.DEFAULT_START.plusMillis(1500));
    clock.set(Instant.EPOCH);
    assertThat(clock.millis()).isZero();
    assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-1S");
  }

  @Test
  void aSkewedClockFollowsAtItsOffset() {
    SimClock clock = new SimClock();
    Clock ahead = clock.skewed(Duration.ofSeconds(90));
    assertThat(ahead.instant()).isEqualTo(SimClock.DEFAULT_START.plusSeconds(90));
    clock.advance(Duration.ofMinutes(1));
    assertThat(ahead.instant()).isEqualTo(SimClock.DEFAULT_START.plusSeconds(150));
  }
}
