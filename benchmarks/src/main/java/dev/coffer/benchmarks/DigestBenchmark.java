package dev.coffer.benchmarks;

import dev.coffer.store.DigestAlgorithm;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The JDK's SHA-256 over 1 MiB buffers, the unit in which fills and writes hash; operations per
 * second are MiB per second. Bounds how fast a fill can verify a blob.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
public class DigestBenchmark {
  private final byte[] buffer = new byte[1 << 20];
  private final MessageDigest sha256 = DigestAlgorithm.SHA256.newHasher();

  public DigestBenchmark() {
    new Random(1).nextBytes(buffer);
  }

  @Benchmark
  public byte[] sha256OneMiB() {
    sha256.update(buffer);
    return sha256.digest();
  }
}
