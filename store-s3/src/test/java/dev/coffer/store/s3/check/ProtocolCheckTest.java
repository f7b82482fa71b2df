package dev.coffer.store.s3.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.s3.check.History.Step;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The multi-host protocol checker (docs/architecture.md, "The multi-host checker"): seeded
 * histories of every operation on four hosts sharing one simulated bucket, checked against the
 * model after every step (INV-1 to INV-8). {@code -Dcoffer.sim.seed=N} replays a run exactly,
 * {@code -Dcoffer.sim.ops=N} sets the steps of each run. A failing run prints its seed and a
 * shrunk history ({@code -Dcoffer.sim.shrinkRuns=0} prints the violation unshrunk).
 */
class ProtocolCheckTest {
  /** Steps per run in the build, unless {@code coffer.sim.ops} says otherwise. */
  static final int BUILD_OPS = 34_000;
  /** The share of steps with another host's operation run in their middle. */
  static final double INTERLEAVE = 0.2;
  /** How many whole runs shrinking may spend, unless {@code coffer.sim.shrinkRuns} says. */
  static final int SHRINK_RUNS = 300;

  static long seed(long fallback) {
    String s = System.getProperty("coffer.sim.seed");
    return s == null || s.isBlank() ? fallback : Long.parseLong(s.trim());
  }

  static int ops() {
    return Integer.getInteger("coffer.sim.ops", BUILD_OPS);
  }

  /** The CPU time this process has used (all threads, the JIT's and the collector's too). */
  static long cpuNanos() {
    return ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class)
        .getProcessCpuTime();
  }

  @Test
  void cleanHistoriesMatchTheModelExactly() {
    check(CheckConfig.clean(seed(1), ops()).withIncarnations().withInterleave(INTERLEAVE));
  }

  @Test
  void faultsDeathsAndSkewNeverBreakTheInvariants() {
    check(CheckConfig.faulty(seed(2), ops()).withIncarnations().withInterleave(INTERLEAVE));
  }

  /**
   * Links held to the incarnation they were made to. Seed 1 fails at step 851 and shrinks to 8
   * steps: h2 putAndRef b3 (1 reference); h0 put b0; h3 link b3 from b0 (the reference moves to
   * the link); an ingest of b3 whose first commit comes too early (FailedPrecondition, bytes
   * kept); h0 deref b3 (0: deleting); the ingest's second commit, commitAndRef (b3 resurrected
   * at 1); h0 ref b3 (2); h3 unlink b3 from b0: the link to the deleted blob spends a reference
   * of the new one and leaves 1, where the model keeps 2.
   */
  @Test
  void linksNeverSpendAReferenceOfALaterIncarnation() {
    check(CheckConfig.clean(seed(1), ops()).withIncarnations());
  }

  static Simulation.Stats check(CheckConfig config) {
    List<Step> history = History.draw(config);
    Simulation.Violation violation;
    Simulation.Stats stats = null;
    long started = System.nanoTime();
    long cpu = cpuNanos();
    try (Simulation sim = new Simulation(config)) {
      stats = sim.run(history, true);
      violation = null;
    } catch (Simulation.Violation v) {
      violation = v;
    }
    if (violation != null) {
      System.err.println("seed " + config.seed() + " broke " + violation.getMessage()
          + "; shrinking");
      Shrinker.Result shrunk = Shrinker.shrink(config, history, violation,
          Integer.getInteger("coffer.sim.shrinkRuns", SHRINK_RUNS));
      String minimal = shrunk.steps().stream().map(s -> "  " + s)
          .collect(Collectors.joining("\n"));
      String report = "seed " + config.seed() + " (" + config + ") broke "
          + violation.getMessage() + "\nminimal history (" + shrunk.steps().size()
          + " steps, " + shrunk.runs() + " runs to shrink), ending in "
          + shrunk.violation().getMessage() + ":\n" + minimal
          + "\nreplay: -Dcoffer.sim.seed=" + config.seed() + " -Dcoffer.sim.ops=" + config.ops();
      System.err.println(report);
      throw new AssertionError(report);
    }
    System.out.printf("checker: seed %d, %d steps on %d hosts (%d with another host's operation "
        + "in their middle), %d requests, %d deaths, %d unclear steps (%d with excess "
        + "references), %d linkAll and tree-link steps (%d tree links failed in linkAll and "
        + "checked exactly, %d targets left over-referenced by interrupted tree links, %d "
        + "references kept by tree links whose blob was removed in their middle), "
        + "%d linkNew steps (%d without a clear outcome or with marks left; %d marks left that "
        + "no link held, %d of them given back since), "
        + "%d raced puts (%d with a file the put created deleted by another host before its "
        + "link, %d of them stored anew, %d linked from fresh reads; %d links NotFound and "
        + "linked again plainly), %d unclear deletes and derefs whose cascade may have stopped "
        + "between two releases, %d puts that mark drawn from a remembered incarnation of "
        + "their from that had ended, "
        + "at most %d candidate states at once, %.1f s (%.1f s of CPU)%n",
        config.seed(), stats.steps(), config.hosts(), stats.interleaved(), stats.requests(),
        stats.deaths(), stats.unclear(), stats.excess(), stats.linkAlls(), stats.treeFailures(),
        stats.treeLeft(), stats.treeKept(), stats.linkNews(), stats.linkNewsUnclear(),
        stats.marksLeft(), stats.marksGone(), stats.racedPuts(), stats.racedCreated(),
        stats.racedAnew(), stats.racedFresh(), stats.racedRelinked(), stats.cascadeStops(),
        stats.endedDraws(), stats.candidates(),
        (System.nanoTime() - started) / 1e9,
        (cpuNanos() - cpu) / 1e9);
    assertThat(stats.steps()).isEqualTo(config.ops());
    return stats;
  }
}
