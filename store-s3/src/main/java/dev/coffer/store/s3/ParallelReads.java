package dev.coffer.store.s3;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
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
    forEach(recordKeys.iterator(), fn);
  }

  /**
   * Reads every object under {@code prefix} with up to {@value #CONCURRENCY} reads in flight
   * while the listing goes on ({@link ListedKeys}), and hands their bytes (null if gone meanwhile)
   * to {@code fn} in the calling thread, in S3's key order.
   */
  void forEachListed(String prefix, BiConsumer<String, byte[]> fn) {
    try (ListedKeys keys = new ListedKeys(objects, workers, prefix)) {
      forEach(keys, (key, fetched) -> fn.accept(key, fetched == null ? null : fetched.bytes()));
    }
  }

  private void forEach(Iterator<String> recordKeys, BiConsumer<String, S3Objects.Fetched> fn) {
    Deque<String> keys = new ArrayDeque<>();
    Deque<CompletableFuture<S3Objects.Fetched>> inFlight = new ArrayDeque<>();
    try {
      while (true) {
        while (inFlight.size() < CONCURRENCY && recordKeys.hasNext()) {
          String key = recordKeys.next();
          keys.add(key);
          inFlight.add(CompletableFuture.supplyAsync(() -> objects.get(key), workers));
        }
        if (inFlight.isEmpty()) {
          return;
        }
        fn.accept(keys.poll(), S3Errors.join(inFlight.poll(), "reading records"));
      }
    } finally {
      inFlight.forEach(f -> f.cancel(true));
    }
  }
}
