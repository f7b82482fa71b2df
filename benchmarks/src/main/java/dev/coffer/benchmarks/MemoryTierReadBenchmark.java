package dev.coffer.benchmarks;

import dev.coffer.store.ReaderAt;
import dev.coffer.store.cache.CacheConfig;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** Latency of a hot read of a whole 4 KiB blob from the memory tier: open, read, close. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx512m")
public class MemoryTierReadBenchmark {
  static final int BLOB = 4 << 10;

  private CacheFixture fixture;
  private final byte[] bytes = new byte[BLOB];

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    fixture = new CacheFixture(BLOB, CacheConfig.builder());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (fixture.cache.stats().memoryHits() == 0) {
      throw new IllegalStateException("the memory tier served no read");
    }
    fixture.close();
  }

  @Benchmark
  public byte[] memoryTier() {
    try (ReaderAt reader = fixture.cache.readerAt(fixture.digest)) {
      reader.read(bytes, 0, BLOB, 0);
    }
    return bytes;
  }
}
