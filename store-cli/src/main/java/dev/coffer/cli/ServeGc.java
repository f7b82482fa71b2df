package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code coffer serve --gc-interval}: runs {@code coffer gc}'s default collection (purge blobs past
 * the deletion grace, remove ingests abandoned for {@link GcOptions#INGEST_AGE_DEFAULT}, expire by
 * the store's configured retention if any) in the server's process, the first after one interval
 * and then one interval after each ends, so that its meters ({@code coffer.gc.*}) count in the
 * registry {@code /metrics} serves. A run that fails is reported and the next runs on schedule.
 */
final class ServeGc implements AutoCloseable {
  private final ScheduledExecutorService runner;

  private ServeGc(ScheduledExecutorService runner) {
    this.runner = runner;
  }

  /**
   * Schedules gc of {@code store} every {@code interval}, each run's one-line report on
   * {@code notices}; {@code interval} is positive (serve checks the option).
   */
  static ServeGc start(ContentStore store, Duration interval, PrintStream notices) {
    ScheduledExecutorService runner = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "coffer-serve-gc");
      t.setDaemon(true);
      return t;
    });
    long millis = interval.toMillis();
    runner.scheduleWithFixedDelay(() -> runOnce(store, notices), millis, millis,
        TimeUnit.MILLISECONDS);
    return new ServeGc(runner);
  }

  private static void runOnce(ContentStore store, PrintStream notices) {
    try {
      GcReport report = store.gc(new GcOptions(GcOptions.INGEST_AGE_DEFAULT, false));
      notices.printf("coffer: gc purged %d blobs (%s), expired %d, removed %d ingests, aborted %d"
              + " uploads in %.2f s%n", report.blobsPurged(), Sizes.format(report.bytesFreed()),
          report.expired().size(), report.ingestsRemoved(), report.uploadsAborted(),
          report.elapsed().toMillis() / 1000.0);
    } catch (RuntimeException e) {
      notices.println("coffer: warning: gc failed, next run in one interval: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    runner.shutdownNow();
  }
}
