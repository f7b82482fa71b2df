package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.grpc.ContentServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What {@code coffer serve --metrics-address} adds: the {@link MetricsServer}, the JVM's meters,
 * and the probe that makes {@code /healthz} ready: a read of one index record (found or not found,
 * the bucket answered), repeated every {@value #PROBE_SECONDS} seconds until it succeeds.
 */
final class ServeMetrics implements AutoCloseable {
  static final int PROBE_SECONDS = 2;
  /** The digest the probe looks up: the empty blob's, whether stored or not. */
  private static final Digest PROBE = Digest.of(new byte[0]);

  private final MetricsServer server;
  private final ScheduledExecutorService prober;

  private ServeMetrics(MetricsServer server, ScheduledExecutorService prober) {
    this.server = server;
    this.prober = prober;
  }

  static ServeMetrics start(InetSocketAddress address, ContentStore store,
      PrometheusMeterRegistry registry, PrintStream notices) throws IOException {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    AtomicBoolean ready = new AtomicBoolean();
    MetricsServer server = MetricsServer.start(address, registry, ready::get);
    ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "coffer-probe");
      t.setDaemon(true);
      return t;
    });
    prober.scheduleWithFixedDelay(() -> {
      if (!ready.get() && probe(store)) {
        ready.set(true);
        prober.shutdown();
      }
    }, 0, PROBE_SECONDS, TimeUnit.SECONDS);
    InetSocketAddress bound = server.address();
    String host = bound.getAddress().getHostAddress();
    notices.println("coffer: serving /metrics and /healthz on http://"
        + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort());
    return new ServeMetrics(server, prober);
  }

  /**
   * The server's gauges: {@code coffer.serve.holds} (blobs its holder holds) and
   * {@code coffer.serve.writers.open} (store writers its Write streams hold open), read at each
   * scrape.
   */
  static void bindServer(ContentServer server, MeterRegistry registry) {
    Gauge.builder("coffer.serve.holds", server, ContentServer::holds)
        .description("blobs this server's holder holds, one store reference each")
        .register(registry);
    Gauge.builder("coffer.serve.writers.open", server, ContentServer::openWriters)
        .description("store writers the server's Write streams hold open")
        .register(registry);
  }

  /** Whether the store answered: a blob found, or not found, both say the bucket is there. */
  static boolean probe(ContentStore store) {
    try {
      store.info(PROBE);
      return true;
    } catch (NotFoundException e) {
      return true;
    } catch (StoreException e) {
      return false;
    }
  }

  @Override
  public void close() {
    prober.shutdownNow();
    server.close();
  }
}
