package dev.coffer.store.s3;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;

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
 * <p>Every counter exists, at zero, from the store's start (OBS-7): Prometheus's rate() and
 * increase() see no increase in a series' first sample, so a counter that appeared at its first
 * event would hide that event.
 *
 * <p>Thread-safe.
 */
final class StoreMetrics {
  static final StoreMetrics NONE = new StoreMetrics(null);

  private static final String CAS = "coffer.store.cas";
  private static final String CAS_DESCRIPTION = "index record compare-and-swap events";
  private static final String LEASES = "coffer.store.leases";
  private static final String LEASES_DESCRIPTION = "ingest lease events";

  private final MeterRegistry registry;

  /** The events of each counter, registered at zero when the store is built (OBS-7). */
  private static final List<String> CAS_EVENTS = List.of("retry", "recovered", "aborted",
      "unknown");
  private static final List<String> LEASE_EVENTS = List.of("renewed", "renewal_failed", "lost",
      "taken_over");

  StoreMetrics(MeterRegistry registry) {
    this.registry = registry;
    if (registry != null) {
      CAS_EVENTS.forEach(e -> counter(CAS, CAS_DESCRIPTION, e));
      LEASE_EVENTS.forEach(e -> counter(LEASES, LEASES_DESCRIPTION, e));
      takeovers();
    }
  }

  void cas(String event) {
    if (registry != null) {
      counter(CAS, CAS_DESCRIPTION, event).increment();
    }
  }

  void lease(String event) {
    if (registry != null) {
      counter(LEASES, LEASES_DESCRIPTION, event).increment();
    }
  }

  void purgeTakeover() {
    if (registry != null) {
      takeovers().increment();
    }
  }

  private Counter takeovers() {
    return Counter.builder("coffer.gc.takeovers").description("abandoned purges gc took over")
        .register(registry);
  }

  private Counter counter(String name, String description, String event) {
    return Counter.builder(name).description(description).tag("event", event)
        .register(registry);
  }
}
