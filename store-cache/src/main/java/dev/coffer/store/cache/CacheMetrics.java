package dev.coffer.store.cache;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a caching store's {@link CacheStats} as Micrometer meters, read from
 * {@link CachedContentStore#stats()} when the registry polls them:
 *
 * <ul>
 *   <li>{@code coffer.cache.requests} (counter; tags {@code tier}=memory|disk,
 *       {@code result}=hit|miss);
 *   <li>{@code coffer.cache.served} (counter, bytes; tag {@code tier}=memory|disk|backing);
 *   <li>{@code coffer.cache.evictions} (counter; tag {@code tier}=memory|disk);
 *   <li>{@code coffer.cache.corrupt} and {@code coffer.cache.disk.failures} (counters);
 *   <li>{@code coffer.cache.loads} (function timer of every fetch into the cache, successful or
 *       not) and {@code coffer.cache.load.failures} (counter);
 *   <li>{@code coffer.cache.size} (gauge, bytes; tag {@code tier}=memory|disk);
 *   <li>{@code coffer.cache.disk.degraded} (gauge, 1 while the disk tier is bypassed).
 * </ul>
 *
 * <p>The meters hold the store weakly. Instances are immutable and thread-safe.
 */
public final class CacheMetrics implements MeterBinder {
  private final CachedContentStore store;
  private final Tags tags;

  private CacheMetrics(CachedContentStore store, Tags tags) {
    this.store = store;
    this.tags = tags;
  }

  /** A binder of {@code store}'s meters, each with {@code tags} added (such as a cache name). */
  public static CacheMetrics of(CachedContentStore store, Iterable<Tag> tags) {
    return new CacheMetrics(Objects.requireNonNull(store, "store"), Tags.of(tags));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    counter(registry, "coffer.cache.requests", null, "reads by tier and result",
        s -> s.memoryHits(), "tier", "memory", "result", "hit");
    counter(registry, "coffer.cache.requests", null, "reads by tier and result",
        s -> s.memoryMisses(), "tier", "memory", "result", "miss");
    counter(registry, "coffer.cache.requests", null, "reads by tier and result",
        s -> s.diskHits(), "tier", "disk", "result", "hit");
    counter(registry, "coffer.cache.requests", null, "reads by tier and result",
        s -> s.diskMisses(), "tier", "disk", "result", "miss");
    counter(registry, "coffer.cache.served", "bytes", "bytes returned to readers by tier",
        s -> s.memoryBytesServed(), "tier", "memory");
    counter(registry, "coffer.cache.served", "bytes", "bytes returned to readers by tier",
        s -> s.diskBytesServed(), "tier", "disk");
    counter(registry, "coffer.cache.served", "bytes", "bytes returned to readers by tier",
        s -> s.backingBytesServed(), "tier", "backing");
    counter(registry, "coffer.cache.evictions", null, "blobs evicted for the tier's bound",
        s -> s.memoryEvictions(), "tier", "memory");
    counter(registry, "coffer.cache.evictions", null, "blobs evicted for the tier's bound",
        s -> s.diskEvictions(), "tier", "disk");
    counter(registry, "coffer.cache.corrupt", null, "disk entries found corrupt and evicted",
        s -> s.corruptEntries());
    counter(registry, "coffer.cache.disk.failures", null, "disk failures that degraded the cache",
        s -> s.diskFailures());
    counter(registry, "coffer.cache.load.failures", null,
        "fetches that failed or did not match their digest", s -> s.loadFailures());
    counter(registry, "coffer.cache.load.corrupt", null,
        "fetches whose bytes did not match their digest", s -> s.corruptLoads());
    FunctionTimer.builder("coffer.cache.loads", store,
            s -> {
              CacheStats stats = s.stats();
              return stats.loads() + stats.loadFailures();
            },
            s -> s.stats().totalLoadTime().toNanos(), TimeUnit.NANOSECONDS)
        .description("fetches from the backing store into the cache")
        .tags(tags)
        .register(registry);
    gauge(registry, "coffer.cache.size", "bytes", "bytes held by the tier",
        s -> s.memoryBytes(), "tier", "memory");
    gauge(registry, "coffer.cache.size", "bytes", "bytes held by the tier",
        s -> s.diskBytes(), "tier", "disk");
    gauge(registry, "coffer.cache.disk.degraded", null, "1 while the disk tier is bypassed",
        s -> s.diskDegraded() ? 1 : 0);
  }

  private void counter(MeterRegistry registry, String name, String unit, String description,
      ToDoubleFunction<CacheStats> value, String... tagPairs) {
    FunctionCounter.builder(name, store, s -> value.applyAsDouble(s.stats()))
        .baseUnit(unit)
        .description(description)
        .tags(tags.and(tagPairs))
        .register(registry);
  }

  private void gauge(MeterRegistry registry, String name, String unit, String description,
      ToDoubleFunction<CacheStats> value, String... tagPairs) {
    Gauge.builder(name, store, s -> value.applyAsDouble(s.stats()))
        .baseUnit(unit)
        .description(description)
        .tags(tags.and(tagPairs))
        .register(registry);
  }
}
