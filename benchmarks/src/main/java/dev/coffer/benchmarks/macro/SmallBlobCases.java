package dev.coffer.benchmarks.macro;

import dev.coffer.benchmarks.macro.Contender.Action;
import dev.coffer.benchmarks.macro.Contender.Counting;
import dev.coffer.store.ContentStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Case 4, small blobs: their deterministic content, the library's and the raw SDK's contenders,
 * and the library's store of them that the walk case (5) lists.
 */
final class SmallBlobCases {
  private final HarnessConfig config;

  SmallBlobCases(HarnessConfig config) {
    this.config = config;
  }

  /** The library's contender on small blobs: content in memory, stored in one step. */
  static final String SMALL_LIBRARY = "library putAndRef";

  /** Deterministic small blobs: log-uniform sizes from 4 KiB to 1 MiB, unique content each. */
  static final class SmallBlobs {
    private final int[] sizes;
    private final byte[] pool;

    SmallBlobs(int count) {
      SplittableRandom random = new SplittableRandom(4096);
      sizes = new int[count];
      for (int i = 0; i < count; i++) {
        sizes[i] = (int) Math.round(4096 * Math.pow(256, random.nextDouble()));
      }
      pool = new byte[2 * Cases.CHUNK + 4096];
      random.nextBytes(pool);
    }

    int count() {
      return sizes.length;
    }

    long totalBytes() {
      long total = 0;
      for (int s : sizes) {
        total += s;
      }
      return total;
    }

    /** Blob {@code i} of {@code run}: a header naming both, then a slice of the pool. */
    byte[] blob(int i, String run) {
      byte[] bytes = new byte[sizes[i]];
      int from = (int) ((i * 7919L) % Cases.CHUNK);
      System.arraycopy(pool, from, bytes, 0, bytes.length);
      byte[] header = (run + "/" + i + "/").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      System.arraycopy(header, 0, bytes, 0, Math.min(header.length, bytes.length));
      return bytes;
    }
  }

  /** Where the library's small blobs stay for the walk case. */
  static final String SMALL_LIBRARY_PREFIX = "small-lib/";

  /**
   * The small-blob contenders. Each round stores its share of the blobs ({@link #slice}), so over
   * the rounds every contender stores all of them once, alternating with the other; the library's
   * stay under {@link #SMALL_LIBRARY_PREFIX} for the walk, the raw ones are deleted after the last
   * round.
   */
  List<Contender> contenders(Venue v, SmallBlobs blobs) {
    List<Contender> list = new ArrayList<>();
    list.add(Contender.of(SMALL_LIBRARY, Counting.CLIENT, round -> {
      int[] slice = slice(blobs.count(), round, config.rounds());
      putLibrary(v, blobs, slice[0], slice[1]);
    }, Action.NOTHING));
    list.add(Contender.of("raw SDK PutObject", Counting.CLIENT, round -> {
      int[] slice = slice(blobs.count(), round, config.rounds());
      parallel(slice[0], slice[1], i -> v.control.putObject(
          b -> b.bucket(v.bucket).key("small-raw/" + i),
          RequestBody.fromBytes(blobs.blob(i, "raw"))));
    }, round -> {
      if (round == config.rounds()) {
        v.purge("small-raw/");
      }
    }));
    return list;
  }

  /**
   * Stores small blobs {@code [from, to)} through the library with one reference and a label
   * each; also how a walk run without case 4 gets its blobs.
   */
  void putLibrary(Venue v, SmallBlobs blobs, int from, int to) throws Exception {
    try (ContentStore store = v.store(SMALL_LIBRARY_PREFIX)) {
      parallel(from, to, i -> store.putAndRef(blobs.blob(i, "lib"), null,
          Map.of("group", "g" + i % 10)));
    }
  }

  /** Blobs {@code [from, to)} that round {@code round} of {@code rounds} stores. */
  static int[] slice(int count, int round, int rounds) {
    return new int[] {(int) ((long) count * (round - 1) / rounds),
        (int) ((long) count * round / rounds)};
  }

  private void parallel(int from, int to, IntTask task) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(config.smallThreads());
    try {
      AtomicLong next = new AtomicLong(from);
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < config.smallThreads(); t++) {
        workers.add(pool.submit(() -> {
          for (int i = (int) next.getAndIncrement(); i < to;
              i = (int) next.getAndIncrement()) {
            task.run(i);
          }
          return null;
        }));
      }
      for (Future<?> w : workers) {
        try {
          w.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof Exception cause) {
            throw cause;
          }
          throw e;
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @FunctionalInterface
  private interface IntTask {
    void run(int i) throws Exception;
  }
}
