package dev.coffer.benchmarks;

import dev.coffer.store.Digest;
import dev.coffer.store.Filter;
import dev.coffer.store.Info;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * Filter evaluation as a walk does it once per blob: a parsed filter matched against one info with
 * the labels a build farm puts on a layer. Equality on a label, a regular expression on a quoted
 * label key, two filters ORed of which the second matches, and parsing itself.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
public class FilterBenchmark {
  private final Info info = new Info(Digest.of("layer".getBytes(StandardCharsets.UTF_8)),
      4 << 20, Instant.parse("2026-11-22T10:00:00Z"), Instant.parse("2026-11-22T10:00:00Z"),
      Map.of("team", "ci", "group", "g3", "containerd.io/gc.root", "2026-11-22T10:00:00Z",
          "containerd.io/distribution.source.registry", "library/builder",
          "build.id", "81723"),
      1, Set.of());
  private final Filter equality = Filter.parse("labels.group==g3");
  private final Filter miss = Filter.parse("labels.group==g4");
  private final Filter regex = Filter.parse("labels.\"containerd.io/gc.root\"~=/^2026-11/");
  private final Filter ored = Filter.parse("labels.team==release,labels.build.id",
      "labels.team==ci,labels.group!=g9");

  @Benchmark
  public boolean equalityMatch() {
    return equality.matches(info);
  }

  @Benchmark
  public boolean equalityMiss() {
    return miss.matches(info);
  }

  @Benchmark
  public boolean regexOnQuotedKey() {
    return regex.matches(info);
  }

  @Benchmark
  public boolean twoFiltersOred() {
    return ored.matches(info);
  }

  @Benchmark
  public Filter parse() {
    return Filter.parse("labels.\"containerd.io/gc.root\"~=/^2026-11/,labels.team==ci");
  }
}
