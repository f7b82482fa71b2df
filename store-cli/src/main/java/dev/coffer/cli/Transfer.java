package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.cache.CacheStats;
import dev.coffer.store.cache.CachedContentStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * One command's transfer: its phases (hash, upload, commit, read), a progress bar per phase on
 * stderr, and the summary line. The clock starts when the transfer is created, so the summary's
 * time is the command's whole work, whatever path it took.
 *
 * <p>Bars show when stderr is a terminal (wherever stdout goes), without {@code --quiet} or
 * {@code --json}, for phases of at least {@link #BAR_THRESHOLD} bytes or of unknown size; a phase
 * without bytes (a commit) shows as a line with its elapsed time. Not thread-safe: one command's
 * thread drives it.
 */
final class Transfer {
  static final long BAR_THRESHOLD = 4L << 20;
  private static final int MIB = 1 << 20;

  private record Phase(String name, long nanos) {}

  private final StoreCommand command;
  private final long started = System.nanoTime();
  private final List<Phase> phases = new ArrayList<>();
  private String phase;
  private long phaseStarted;
  private ProgressBar bar;
  private LineEndingConsumer consumer; // the bar's
  private long millis;
  private CachedContentStore cache;
  private CacheStats before;

  Transfer(StoreCommand command) {
    this.command = command;
  }

  /** Notes whether the transfer is served by the cache, if {@code store} has one. */
  Transfer watching(ContentStore store) {
    if (store instanceof CachedContentStore cached) {
      cache = cached;
      before = cached.statsNow();
    }
    return this;
  }

  /**
   * Ends the current phase and starts one moving {@code total} bytes (0 if unknown), of which
   * {@code done} are done already.
   */
  void phase(String name, long total, long done) {
    endPhase();
    phase = name;
    phaseStarted = System.nanoTime();
    if (showsBars() && (total == 0 || total >= BAR_THRESHOLD)) {
      bar = builder(name)
          .setInitialMax(total > 0 ? total : -1)
          .setUnit("MiB", MIB)
          .setStyle(ProgressBarStyle.ASCII)
          .showSpeed()
          .build();
      bar.stepTo(done);
    }
  }

  /**
   * Ends the current phase and starts one that moves no bytes through this process, described by
   * {@code what} (a commit's server-side copy); shown with its elapsed time if the transfer is
   * large enough to show bars.
   */
  void waitPhase(String name, String what, long bytes) {
    endPhase();
    phase = name;
    phaseStarted = System.nanoTime();
    if (showsBars() && bytes >= BAR_THRESHOLD) {
      bar = builder(name)
          .setInitialMax(-1)
          .continuousUpdate()
          .setRenderer((state, width) -> {
            long s = state.getTotalElapsed().toSeconds();
            return String.format(Locale.ROOT, "%s: %s, %d:%02d:%02d", name, what, s / 3600,
                s / 60 % 60, s % 60);
          })
          .build();
    }
  }

  void advance(long bytes) {
    if (bar != null) {
      bar.stepBy(bytes);
    }
  }

  /** Ends the last phase and prints the summary line. */
  void finish(long bytes, String outcome) {
    endPhase();
    double s = Math.max((System.nanoTime() - started) / 1e9, 1e-9);
    millis = Math.round(s * 1000);
    if (!command.quiet && !command.json) {
      command.cli().err.println(String.format(Locale.ROOT, "%s %s in %.2f s (%s/s%s)%s", outcome,
          Sizes.format(bytes), s, Sizes.format((long) (bytes / s)), phaseNote(bytes), cacheNote()));
    }
  }

  /** Ends the last phase and its bar without a summary, as a failure does. */
  void abandon() {
    if (bar != null) {
      bar.close();
      bar = null;
      consumer.close(); // ends the bar's line if the bar did not
    }
  }

  double seconds() {
    return millis / 1000.0;
  }

  private boolean showsBars() {
    return command.cli().terminal && !command.quiet && !command.json;
  }

  private ProgressBarBuilder builder(String name) {
    consumer = new LineEndingConsumer(command.cli().progressConsumer());
    return new ProgressBarBuilder()
        .setTaskName(name)
        .setConsumer(consumer);
  }

  /**
   * A console consumer that knows whether the bar ended its line. progressbar 0.10.2 closes its
   * consumer (which ends the line) only from an update after the first: a bar closed before its
   * first scheduled update (a phase shorter than the refresh interval) leaves the cursor after
   * its text, and the summary would be printed on the same line.
   */
  static final class LineEndingConsumer implements ProgressBarConsumer {
    private final ProgressBarConsumer console;
    private volatile boolean closed;

    LineEndingConsumer(ProgressBarConsumer console) {
      this.console = console;
    }

    @Override
    public int getMaxRenderedLength() {
      return console.getMaxRenderedLength();
    }

    @Override
    public void accept(String rendered) {
      console.accept(rendered);
    }

    @Override
    public void clear() {
      console.clear();
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        console.close();
      }
    }
  }

  private void endPhase() {
    if (phase != null) {
      phases.add(new Phase(phase, System.nanoTime() - phaseStarted));
      phase = null;
    }
    if (bar != null) {
      bar.close();
      bar = null;
      consumer.close(); // ends the bar's line if the bar did not
    }
  }

  /** The time of each phase of a large transfer that had more than one. */
  private String phaseNote(long bytes) {
    if (phases.size() < 2 || bytes < BAR_THRESHOLD) {
      return "";
    }
    StringBuilder note = new StringBuilder();
    for (Phase p : phases) {
      note.append(String.format(Locale.ROOT, "; %s %.2f s", p.name(), p.nanos() / 1e9));
    }
    return note.toString();
  }

  private String cacheNote() {
    if (cache == null) {
      return "";
    }
    CacheStats after = cache.statsNow();
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
