package dev.coffer.benchmarks;

import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachedContentStore;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Opening a cache whose disk tier already holds {@code entries} small entries (64 bytes each,
 * named by their SHA-256 as the tier names them), then closing it: what every command pays before
 * its store can be used. The directory stays between invocations, so its listing comes from the
 * kernel's caches, as it does for a command run after another.
 *
 * <p>{@code openAndClose} opens, reads the exact stats and closes: the stats wait for the disk
 * tier's index of those entries, so this is the whole indexing's cost, which the build paid before
 * the indexing moved after it. {@code openAndFirstRead} opens, reads one entry and closes, as
 * {@code coffer get} of a cached blob does: what a command pays now.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
public class CacheOpenBenchmark {
  @Param({"1000", "10000", "100000"})
  public int entries;

  private Path directory;
  private Path cacheDirectory;
  private Digest first;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    directory = Files.createTempDirectory("coffer-benchmark-");
    cacheDirectory = directory.resolve("cache");
    // The tier creates its directories (mode 0700) on a first open; the entries go in after.
    CachingStores.builder(MemoryStores.open()).config(config()).build().close();
    Path blobs = cacheDirectory.resolve("blobs").resolve("sha256");
    for (int i = 0; i < entries; i++) {
      byte[] content = String.format("%063d\n", i).getBytes(StandardCharsets.US_ASCII);
      Digest digest = Digest.of(content);
      if (i == 0) {
        first = digest;
      }
      Files.write(blobs.resolve(digest.hex()), content);
    }
  }

  private CacheConfig config() {
    return CacheConfig.builder().directory(cacheDirectory).diskMaxBytes(1L << 30).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  @Benchmark
  public long openAndClose() {
    try (CachedContentStore cache = CachingStores.builder(MemoryStores.open()).config(config())
        .build()) {
      return cache.stats().diskBytes();
    }
  }

  @Benchmark
  public int openAndFirstRead() {
    ByteBuffer buffer = ByteBuffer.allocate(64);
    try (CachedContentStore cache = CachingStores.builder(MemoryStores.open()).config(config())
        .build(); var reader = cache.readerAtHeld(Descriptor.of(first, 64))) {
      return reader.read(buffer, 0);
    }
  }
}
