package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.cache.CacheStats;
import dev.coffer.store.cache.CachedContentStore;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * One transfer's progress bar and summary line, both on stderr. The bar shows only on a terminal,
 * without {@code --quiet} or {@code --json}, for transfers of at least {@link #BAR_THRESHOLD} bytes.
 */
final class Transfer {
  static final long BAR_THRESHOLD = 4L << 20;

  private final StoreCommand command;
  private final String verb;
  private long expected;
  private long started;
  private ProgressBar bar;
  private long millis;
  private CachedContentStore cache;
  private CacheStats before;

  Transfer(StoreCommand command, String verb, long expected) {
    this.command = command;
    this.verb = verb;
    this.expected = expected;
  }

  void expect(long bytes) {
    expected = bytes;
  }

  /** Notes whether the transfer is served by the cache, if {@code store} has one. */
  Transfer watching(ContentStore store) {
    if (store instanceof CachedContentStore cached) {
      cache = cached;
      before = cached.stats();
    }
    return this;
  }

  void start(long alreadyDone) {
    started = System.nanoTime();
    Coffer cli = command.cli();
    if (cli.terminal && !command.quiet && !command.json
        && (expected == 0 || expected >= BAR_THRESHOLD)) {
      bar = new ProgressBarBuilder()
          .setTaskName(verb)
          .setInitialMax(expected > 0 ? expected : -1)
          .setUnit("MiB", 1 << 20)
          .setStyle(ProgressBarStyle.ASCII)
          .showSpeed()
          .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(cli.err))
          .build();
      bar.stepTo(alreadyDone);
    }
  }

  void advance(long bytes) {
    if (bar != null) {
      bar.stepBy(bytes);
    }
  }

  /** Closes the bar and prints the summary line. */
  void finish(long bytes, String outcome) {
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
    if (bar != null) {
      bar.close();
    }
    double s = Math.max(elapsed.toNanos() / 1e9, 1e-9);
    millis = Math.round(s * 1000);
    if (!command.quiet && !command.json) {
      command.cli().err.println(String.format(Locale.ROOT, "%s %s in %.2f s (%s/s)%s", outcome,
          Sizes.format(bytes), s, Sizes.format((long) (bytes / s)), cacheNote()));
    }
  }

  double seconds() {
    return millis / 1000.0;
  }

  private String cacheNote() {
    if (cache == null) {
      return "";
    }
    CacheStats after = cache.stats();
    if (after.memoryHits() > before.memoryHits()) {
      return ", cache hit (memory)";
    } else if (after.diskHits() > before.diskHits()) {
      return ", cache hit (disk)";
    } else if (after.diskMisses() > before.diskMisses()
        || after.memoryMisses() > before.memoryMisses()) {
      return ", cache miss";
    }
    return "";
  }
}
