package dev.coffer.benchmarks;

import dev.coffer.store.ReaderAt;
import dev.coffer.store.cache.CacheConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A hot read of a 64 MiB blob, whole, in 1 MiB reads: through the cache's disk tier, and with a
 * plain FileChannel on the same file. Both read into a direct buffer from the page cache, so the
 * ratio of their throughputs is the cache's overhead (info lookup, entry open and size check, read
 * bookkeeping).
 *
 * <p>{@code cacheDiskTier} and {@code plainFileChannel} run one after the other, each alone;
 * the {@code sideBySide} group runs both at once, one thread each, so that both see the same load
 * of a shared machine: its ratio is the robust one there.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
public class DiskTierReadBenchmark {
  static final int BLOB = 64 << 20;
  static final int CHUNK = 1 << 20;

  private CacheFixture fixture;
  private Path entry;

  /** Each thread's read buffer. */
  @State(Scope.Thread)
  public static class Buffer {
    final ByteBuffer bytes = ByteBuffer.allocateDirect(CHUNK);
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    // No memory tier: the blob is far above its blob size limit anyway; this makes it explicit.
    fixture = new CacheFixture(BLOB, CacheConfig.builder().memoryMaxBytes(0)
        .diskMaxBytes(1L << 30));
    entry = fixture.entry();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    fixture.close();
  }

  @Benchmark
  public long cacheDiskTier(Buffer buffer) {
    return readThroughCache(buffer.bytes);
  }

  @Benchmark
  public long plainFileChannel(Buffer buffer) throws IOException {
    return readPlain(buffer.bytes);
  }

  @Benchmark
  @Group("sideBySide")
  @GroupThreads(1)
  public long sideBySideCache(Buffer buffer) {
    return readThroughCache(buffer.bytes);
  }

  @Benchmark
  @Group("sideBySide")
  @GroupThreads(1)
  public long sideBySidePlain(Buffer buffer) throws IOException {
    return readPlain(buffer.bytes);
  }

  private long readThroughCache(ByteBuffer buffer) {
    long position = 0;
    try (ReaderAt reader = fixture.cache.readerAt(fixture.digest)) {
      while (position < BLOB) {
        buffer.clear();
        position += reader.read(buffer, position);
      }
    }
    return position;
  }

  private long readPlain(ByteBuffer buffer) throws IOException {
    long position = 0;
    try (FileChannel channel = FileChannel.open(entry, StandardOpenOption.READ)) {
      while (position < BLOB) {
        buffer.clear();
        position += channel.read(buffer, position);
      }
    }
    return position;
  }
}
