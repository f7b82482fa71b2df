package dev.coffer.store.s3.check;

import dev.coffer.store.s3.check.History.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a failing history down to a minimal one that still breaks the same invariant: first to
 * the failing step, then by removing ever smaller runs of steps (delta debugging) while the
 * rest still fails, down to single steps. Each attempt is a whole new run of the shortened
 * history on the same seed, so the result is as deterministic as the run itself; the number of
 * attempts is bounded, never the time, so every machine shrinks to the same history.
 */
final class Shrinker {
  private Shrinker() {}

  /** A minimal failing history, its violation, and how many runs it took to find. */
  record Result(List<Step> steps, Simulation.Violation violation, int runs) {}

  static Result shrink(CheckConfig config, List<Step> history, Simulation.Violation first,
      int maxRuns) {
    List<Step> steps = new ArrayList<>(history.subList(0, Math.min(history.size(),
        first.step + 1)));
    Simulation.Violation current = first;
    int runs = 0;
    int chunk = Math.max(1, steps.size() / 2);
    while (runs < maxRuns) {
      boolean removed = false;
      for (int start = 0; start < steps.size() && runs < maxRuns; ) {
        List<Step> candidate = new ArrayList<>(steps.subList(0, start));
        candidate.addAll(steps.subList(Math.min(steps.size(), start + chunk), steps.size()));
        runs++;
        Simulation.Violation v = attempt(config, candidate);
        if (v != null && v.invariant.equals(first.invariant)) {
          steps = new ArrayList<>(candidate.subList(0, Math.min(candidate.size(), v.step + 1)));
          current = v;
          removed = true;
        } else {
          start += chunk;
        }
      }
      if (!removed) {
        if (chunk == 1) {
          break;
        }
        chunk = Math.max(1, chunk / 2);
      }
    }
    return new Result(steps, current, runs);
  }

  /** The violation a run of {@code steps} on {@code config}'s seed ends in, or null. */
  static Simulation.Violation attempt(CheckConfig config, List<Step> steps) {
    try (Simulation sim = new Simulation(config)) {
      sim.run(steps, true);
      return null;
    } catch (Simulation.Violation v) {
      return v;
    }
  }
}
