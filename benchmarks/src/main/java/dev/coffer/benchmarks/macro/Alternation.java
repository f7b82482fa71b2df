package dev.coffer.benchmarks.macro;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntToLongFunction;

/**
 * Runs the contenders of one case in turn for the configured rounds, A B C, B C A, C A B, ..., so
 * every contender sees the same drift of a shared machine and none always follows the same one. A failed run is recorded with its error and
 * the alternation goes on.
 */
final class Alternation {
  private final int rounds;
  private final PrintStream log;

  Alternation(int rounds, PrintStream log) {
    this.rounds = rounds;
    this.log = log;
  }

  /**
   * The samples of {@code contenders} on {@code venue} (null for local cases).
   *
   * @param units what one run moves: bytes, or blobs for the counted cases
   */
  List<Sample> run(String caseId, Venue venue, long units, List<Contender> contenders) {
    return run(caseId, venue, round -> units, contenders);
  }

  /**
   * The samples of {@code contenders}, each round moving {@code unitsOfRound.applyAsLong(round)}
   * units (the small-blob case splits its blobs over the rounds).
   */
  List<Sample> run(String caseId, Venue venue, IntToLongFunction unitsOfRound,
      List<Contender> contenders) {
    String server = venue == null ? "local" : venue.server.name();
    List<Sample> samples = new ArrayList<>();
    int n = contenders.size();
    for (int round = 1; round <= rounds; round++) {
      // Each round starts one contender later, so no contender always runs right after the same
      // one (a child process's exit, or a server collecting the garbage of the previous run,
      // would otherwise always land on the same successor).
      for (int i = 0; i < n; i++) {
        Contender c = contenders.get((round - 1 + i) % n);
        samples.add(once(caseId, server, venue, unitsOfRound.applyAsLong(round), c, round));
      }
    }
    return samples;
  }

  private Sample once(String caseId, String server, Venue venue, long units, Contender c,
      int round) {
    long before = requests(venue, c.counting());
    Map<String, Long> opsBefore = byOperation(venue, c.counting());
    long start = System.nanoTime();
    String error = "";
    double seconds;
    try {
      c.run(round);
      seconds = (System.nanoTime() - start) / 1e9;
    } catch (Exception | AssertionError e) {
      seconds = Double.NaN;
      error = e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
    }
    long after = requests(venue, c.counting());
    long requests = before < 0 || after < 0 ? -1 : after - before;
    Map<String, Long> ops = new TreeMap<>(byOperation(venue, c.counting()));
    opsBefore.forEach((op, n) -> ops.merge(op, -n, Long::sum));
    ops.values().removeIf(n -> n == 0);
    try {
      c.after(round);
    } catch (Exception e) {
      log.printf("  (cleanup after %s failed: %s)%n", c.name(), e);
    }
    Sample s = new Sample(caseId, server, c.name(), round, seconds, units, requests, error, ops);
    log.printf("  %-8s %-8s round %d  %-34s %s%s%n", caseId, server, round, c.name(),
        s.ok() ? String.format("%8.3f s", seconds) : "FAILED " + error,
        requests >= 0 ? "  " + requests + " requests" : "");
    return s;
  }

  private static long requests(Venue venue, Contender.Counting counting) {
    if (venue == null || counting == Contender.Counting.NONE) {
      return counting == Contender.Counting.NONE ? 0 : -1;
    }
    return counting == Contender.Counting.CLIENT
        ? venue.requestsSent() : venue.server.requestsServed();
  }

  private static Map<String, Long> byOperation(Venue venue, Contender.Counting counting) {
    if (venue == null || counting == Contender.Counting.NONE) {
      return Map.of();
    }
    return counting == Contender.Counting.CLIENT
        ? venue.requestsSentByOperation() : venue.server.requestsServedByOperation();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    String line = message.strip().lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
