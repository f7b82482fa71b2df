package dev.coffer.store.s3;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.BiConsumer;

/**
 * Reads of many small objects (index and ingest records) at once on the store's workers, for a
 * walk, a listing of ingests, gc and fsck (PROTO-9); their results are handed over in the calling
 * thread, in key order.
 */
final class ParallelReads {
  /** Record reads in flight during a walk or a listing of ingests. */
  private static final int CONCURRENCY = 16;

  private final S3Objects objects;
  private final ExecutorService workers;

  ParallelReads(S3Objects objects, ExecutorService workers) {
    this.objects = objects;
    this.workers = workers;
  }

  /**
   * Reads the objects {@code recordKeys} with up to {@value #CONCURRENCY} reads in flight and
   * hands their bytes (null if gone meanwhile) to {@code fn} in the calling thread, in key order.
   */
  void forEachBytes(List<String> recordKeys, BiConsumer<String, byte[]> fn) {
    forEach(recordKeys, (key, fetched) -> fn.accept(key, fetched == null ? null
        : fetched.bytes()));
  }

  /**
   * Reads the objects {@code recordKeys} with up to {@value #CONCURRENCY} reads in flight and
   * hands them (null if gone meanwhile) to {@code fn} in the calling thread, in key order.
   */
  void forEach(List<String> recordKeys, BiConsumer<String, S3Objects.Fetched> fn) {
    Deque<CompletableFuture<S3Objects.Fetched>> inFlight = new ArrayDeque<>();
    int next = 0;
    try {
      while (next < recordKeys.size() || !inFlight.isEmpty()) {
        while (next < recordKeys.size() && inFlight.size() < CONCURRENCY) {
          String key = recordKeys.get(next++);
          inFlight.add(CompletableFuture.supplyAsync(() -> objects.get(key), workers));
        }
        String key = recordKeys.get(next - inFlight.size());
        fn.accept(key, S3Objects.join(inFlight.poll(), "reading records"));
      }
    } finally {
      inFlight.forEach(f -> f.cancel(true));
    }
  }
}
