package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.s3.check.History.Step;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seed replays exactly: the same history, and on it the same requests from the same hosts in
 * the same order meeting the same faults and deaths, which is what makes a printed seed and a
 * shrunk history worth having; and it does so in any JVM running the same requests (INV-10,
 * docs/architecture.md), which is what makes a seed printed by one build worth replaying on
 * another.
 */
class ReplayTest {
  /** Steps of the runs in other JVMs: enough for gc and fsck to walk several blobs. */
  static final int PORTABLE_OPS = 400;

  @Test
  void aSeedReplaysTheSameRequestsFaultsAndDeaths() {
    CheckConfig config = CheckConfig.faulty(17, 300).withInterleave(0.2).withIncarnations();
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

  /**
   * The same seed in two new JVMs whose identity hash codes differ (one with constant identity
   * hashes, {@code -XX:hashCode=2}; one with the JVM's own, moved by hashing objects first)
   * makes the same requests with the same bodies and meets the same faults: nothing the
   * simulation or the store does depends on identity hashes, nor on the per-JVM order of
   * {@code Set.of} and {@code Map.of}. Each JVM alone would replay its own history exactly.
   */
  @Test
  void aSeedMakesTheSameRequestsWhateverTheIdentityHashes(@TempDir Path dir) throws Exception {
    Process constant = fingerprintInNewJvm(dir.resolve("constant.txt"), 0,
        "-XX:+UnlockExperimentalVMOptions", "-XX:hashCode=2");
    Process moved = fingerprintInNewJvm(dir.resolve("moved.txt"), 10_007);
    try {
      String first = fingerprint(constant, dir.resolve("constant.txt"));
      String second = fingerprint(moved, dir.resolve("moved.txt"));
      assertThat(first).contains("steps=" + PORTABLE_OPS).contains("deaths=");
      assertThat(second).isEqualTo(first);
    } finally {
      constant.destroyForcibly();
      moved.destroyForcibly();
    }
  }

  private static Process fingerprintInNewJvm(Path output, int perturb, String... options)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    command.addAll(List.of(options));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        Fingerprint.class.getName(), "2", Integer.toString(PORTABLE_OPS),
        Integer.toString(perturb)));
    return new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(output.toFile()).start();
  }

  /** The {@code fingerprint} line the process printed (its whole output if none). */
  private static String fingerprint(Process process, Path output) throws Exception {
    // The timeout only bounds the wait for a stuck process; the runs are on simulated time.
    assertThat(process.waitFor(10, TimeUnit.MINUTES)).isTrue();
    List<String> lines = Files.readAllLines(output);
    assertThat(process.exitValue()).as(String.join("\n", lines)).isZero();
    return lines.stream().filter(l -> l.startsWith("fingerprint ")).findFirst()
        .orElse(String.join("\n", lines));
  }

  @Test
  void anotherSeedDrawsAnotherHistory() {
    assertThat(History.draw(CheckConfig.clean(1, 200)))
        .isNotEqualTo(History.draw(CheckConfig.clean(2, 200)));
  }
}
