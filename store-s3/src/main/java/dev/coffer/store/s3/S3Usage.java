package dev.coffer.store.s3;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Filter;
import dev.coffer.store.Info;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * What an S3 store holds, from its index records: blobs and bytes by state, by the value of one
 * label, and what a gc run now would purge (OBS-4 in docs/architecture.md).
 *
 * @param byState tallies under {@code live}, {@code deleting} and {@code purging}, each present
 * @param labelKey the label the live blobs are broken down by, or null
 * @param byLabel tallies of the live blobs by that label's value ({@code ""}: blobs without it),
 *     sorted; empty without a label key
 * @param gcWouldFree the blobs a gc run now would purge: deleting past the deletion grace, and
 *     purges abandoned past the purge timeout, as gc decides
 */
public record S3Usage(Map<String, Tally> byState, String labelKey, Map<String, Tally> byLabel,
    Tally gcWouldFree) {

  /** Record reads in flight. */
  private static final int CONCURRENCY = 16;

  /** A count of blobs and their bytes. */
  public record Tally(long blobs, long bytes) {
    static final Tally ZERO = new Tally(0, 0);

    Tally plus(long size) {
      return new Tally(blobs + 1, bytes + size);
    }
  }

  public S3Usage {
    byState = Map.copyOf(byState);
    byLabel = java.util.Collections.unmodifiableMap(new TreeMap<>(byLabel));
    Objects.requireNonNull(gcWouldFree, "gcWouldFree");
  }

  /**
   * Reads every index record of {@code store} (one LIST page per 1,000 blobs and one GET per
   * blob) and tallies those matching {@code filters} (containerd's filter syntax, on the blob's
   * info whatever its state).
   *
   * @param store a store of {@link S3Stores}, measured or not
   * @param labelKey the label to break live blobs down by, or null
   * @param progress called with the number of records read so far, after each one
   * @throws IllegalArgumentException if {@code store} is not an S3 store
   * @throws dev.coffer.store.InvalidArgumentException if a filter does not parse
   */
  public static S3Usage measure(ContentStore store, String labelKey, LongConsumer progress,
      String... filters) {
    if (!(MeteredStore.unwrap(store) instanceof S3Store s3)) {
      throw new IllegalArgumentException("not a store of S3Stores: " + store.getClass());
    }
    Filter filter = Filter.parse(filters);
    List<String> recordKeys = new ArrayList<>();
    s3.objects.list(s3.keys.indexPrefix(), recordKeys::add);
    long now = s3.now();
    long graceCutoff = now - s3.config.deletionGrace().toNanos();
    long purgeCutoff = now - s3.config.purgeTimeout().toNanos();
    Map<String, Tally> byState = new TreeMap<>();
    for (IndexRecord.State state : IndexRecord.State.values()) {
      byState.put(state.name().toLowerCase(java.util.Locale.ROOT), Tally.ZERO);
    }
    Map<String, Tally> byLabel = new TreeMap<>();
    Tally gc = Tally.ZERO;
    Deque<CompletableFuture<S3Objects.Fetched>> inFlight = new ArrayDeque<>();
    int next = 0;
    long read = 0;
    try {
      while (next < recordKeys.size() || !inFlight.isEmpty()) {
        while (next < recordKeys.size() && inFlight.size() < CONCURRENCY) {
          String key = recordKeys.get(next++);
          inFlight.add(CompletableFuture.supplyAsync(() -> s3.objects.get(key), s3.workers));
        }
        String key = recordKeys.get(next - inFlight.size());
        S3Objects.Fetched fetched = S3Objects.join(inFlight.poll(), "reading records");
        progress.accept(++read);
        if (fetched == null) {
          continue; // purged since the listing
        }
        IndexRecord record = Json.read(fetched.bytes(), IndexRecord.class, key);
        Info info = record.toInfo();
        if (!filter.matches(info)) {
          continue;
        }
        byState.merge(record.state().name().toLowerCase(java.util.Locale.ROOT),
            Tally.ZERO.plus(record.size()), S3Usage::sum);
        if (record.isLive()) {
          if (labelKey != null) {
            byLabel.merge(info.labels().getOrDefault(labelKey, ""),
                Tally.ZERO.plus(record.size()), S3Usage::sum);
          }
        } else if (record.state() == IndexRecord.State.PURGING
            ? record.stateChangedAt() <= purgeCutoff : record.stateChangedAt() <= graceCutoff) {
          gc = gc.plus(record.size());
        }
      }
    } finally {
      inFlight.forEach(f -> f.cancel(true));
    }
    return new S3Usage(byState, labelKey, byLabel, gc);
  }

  private static Tally sum(Tally a, Tally b) {
    return new Tally(a.blobs + b.blobs, a.bytes + b.bytes);
  }
}
