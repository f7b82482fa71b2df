package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The index record's JSON form, written on every commit and compare-and-swap and read once per
 * blob by info and walk. The record and its codec are the store's package-private types, so this
 * benchmark sits in the store's package (in this module only) rather than widening the store's
 * API. A record with five labels and three links.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
public class IndexRecordBenchmark {
  private static final String KEY = "cas/index/sha256/benchmark";

  private final IndexRecord record = IndexRecord.live(digest("layer"), 4 << 20,
      1_795_000_000_000_000_000L, Map.of("team", "ci", "group", "g3",
          "containerd.io/gc.root", "2026-11-22T10:00:00Z",
          "containerd.io/distribution.source.registry", "library/builder", "build.id", "81723"),
      2, 0x5eed_1ca7_10e5L).withLinks(List.of(digest("a").toString(), digest("b").toString(),
          digest("c").toString()));
  private final byte[] json = Json.write(record);

  private static Digest digest(String text) {
    return Digest.of(text.getBytes(StandardCharsets.UTF_8));
  }

  @Benchmark
  public byte[] serialise() {
    return Json.write(record);
  }

  @Benchmark
  public IndexRecord deserialise() {
    return Json.read(json, IndexRecord.class, KEY);
  }

  /** What info and walk do per blob: read the record and turn it into an Info. */
  @Benchmark
  public Info deserialiseToInfo() {
    return Json.read(json, IndexRecord.class, KEY).toInfo();
  }
}
