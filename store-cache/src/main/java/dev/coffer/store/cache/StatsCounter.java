package dev.coffer.store.cache;

import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/** The cache's counters; thread-safe, cheap to update from many readers. */
final class StatsCounter {
  final LongAdder memoryHits = new LongAdder();
  final LongAdder memoryMisses = new LongAdder();
  final LongAdder diskHits = new LongAdder();
  final LongAdder diskMisses = new LongAdder();
  final LongAdder memoryBytesServed = new LongAdder();
  final LongAdder diskBytesServed = new LongAdder();
  final LongAdder backingBytesServed = new LongAdder();
  final LongAdder memoryEvictions = new LongAdder();
  final LongAdder diskEvictions = new LongAdder();
  final LongAdder corruptEntries = new LongAdder();
  final LongAdder loads = new LongAdder();
  final LongAdder loadFailures = new LongAdder();
  final LongAdder corruptLoads = new LongAdder();
  final LongAdder loadNanos = new LongAdder();
  final LongAdder diskFailures = new LongAdder();

  void recordLoad(long startNanos, boolean success) {
    loadNanos.add(System.nanoTime() - startNanos);
    (success ? loads : loadFailures).increment();
  }

  CacheStats snapshot(long memoryBytes, long diskBytes, boolean diskDegraded) {
    return new CacheStats(memoryHits.sum(), memoryMisses.sum(), diskHits.sum(), diskMisses.sum(),
        memoryBytesServed.sum(), diskBytesServed.sum(), backingBytesServed.sum(),
        memoryEvictions.sum(), diskEvictions.sum(), corruptEntries.sum(), loads.sum(),
        loadFailures.sum(), corruptLoads.sum(), Duration.ofNanos(loadNanos.sum()), diskFailures.sum(), memoryBytes,
        diskBytes, diskDegraded);
  }
}
