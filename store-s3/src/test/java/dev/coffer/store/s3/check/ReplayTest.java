package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.s3.check.History.Step;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A seed replays exactly: the same history, and on it the same requests from the same hosts in
 * the same order meeting the same faults and deaths, which is what makes a printed seed and a
 * shrunk history worth having.
 */
class ReplayTest {

  @Test
  void aSeedReplaysTheSameRequestsFaultsAndDeaths() {
    CheckConfig config = CheckConfig.faulty(17, 300).withInterleave(0.2);
    List<Step> history = History.draw(config);
    assertThat(History.draw(config)).isEqualTo(history);

    Simulation.Stats first;
    List<String> firstTrace;
    try (Simulation sim = new Simulation(config)) {
      first = sim.run(history, true);
      firstTrace = sim.requestTrace();
    }
    Simulation.Stats second;
    List<String> secondTrace;
    try (Simulation sim = new Simulation(config)) {
      second = sim.run(history, true);
      secondTrace = sim.requestTrace();
    }
    assertThat(first.requests()).isGreaterThan(1_000);
    assertThat(first.deaths() + first.unclear()).isPositive();
    assertThat(second).isEqualTo(first);
    assertThat(secondTrace).isEqualTo(firstTrace);
  }

  @Test
  void anotherSeedDrawsAnotherHistory() {
    assertThat(History.draw(CheckConfig.clean(1, 200)))
        .isNotEqualTo(History.draw(CheckConfig.clean(2, 200)));
  }
}
