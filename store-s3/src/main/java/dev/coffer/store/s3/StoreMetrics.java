package dev.coffer.store.s3;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counters of the store's protocol events (OBS-5 in docs/architecture.md; docs/metrics.md), or none: {@link #NONE} counts
 * nothing.
 *
 * <ul>
 *   <li>{@code coffer.store.cas} (tag {@code event}): {@code retry}, an index record write that
 *       did not land (a concurrent change, or no answer) and is tried again; {@code recovered}, a
 *       write whose answer was lost found landed by its operation id; {@code aborted}, a change
 *       given up after the attempts; {@code unknown}, given up while a write may still land;
 *   <li>{@code coffer.store.leases} (tag {@code event}): {@code renewed}, {@code renewal_failed},
 *       {@code lost} (another writer took the ingest over), {@code taken_over} (this writer took
 *       over an ingest whose lease had lapsed);
 *   <li>{@code coffer.gc.takeovers}: purges abandoned by another host that gc took over.
 * </ul>
 *
 * <p>Thread-safe.
 */
final class StoreMetrics {
  static final StoreMetrics NONE = new StoreMetrics(null);

  private final MeterRegistry registry;

  StoreMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void cas(String event) {
    count("coffer.store.cas", "index record compare-and-swap events", event);
  }

  void lease(String event) {
    count("coffer.store.leases", "ingest lease events", event);
  }

  void purgeTakeover() {
    if (registry != null) {
      Counter.builder("coffer.gc.takeovers").description("abandoned purges gc took over")
          .register(registry).increment();
    }
  }

  private void count(String name, String description, String event) {
    if (registry != null) {
      Counter.builder(name).description(description).tag("event", event).register(registry)
          .increment();
    }
  }
}
