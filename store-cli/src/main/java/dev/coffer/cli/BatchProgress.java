package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.tree.TransferListener;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The progress of one operation on many files ({@code put -r}, {@code get -r}, {@code put FILE...},
 * {@code get DIGEST... -o DIR}): one bar for the whole operation on stderr, and its summary line.
 *
 * <p>The bar counts bytes (files when their sizes are not known beforehand, as for {@code get} of
 * several blobs), with the files done, the rate and the time left; it shows when stderr is a
 * terminal, without {@code --quiet} or {@code --json}, as {@link Transfer}'s bars do. The summary
 * gives the files and bytes, how many of them were new (transferred), the S3 requests the
 * operation made (from the run's {@code coffer.s3.requests} meters, when the store is measured)
 * and the time. Thread-safe: the listener's methods are called from the transfer's workers.
 */
final class BatchProgress implements TransferListener, AutoCloseable {
  private static final int MIB = 1 << 20;

  private final StoreCommand command;
  private final String label;
  private final long started = System.nanoTime();
  private final long requestsBefore;
  private final AtomicLong filesDone = new AtomicLong();
  private volatile long files;
  private volatile boolean byFiles;
  private ProgressBar bar;
  private Transfer.LineEndingConsumer consumer;

  /** Progress of {@code command}'s operation, {@code label} (such as {@code put -r}) naming it. */
  BatchProgress(StoreCommand command, String label) {
    this.command = command;
    this.label = label;
    this.requestsBefore = RequestUsage.of(command.cli().metrics()).total();
  }

  @Override
  public synchronized void started(long files, long bytes) {
    this.files = files;
    if (!command.cli().terminal || command.quiet || command.json || bar != null) {
      return;
    }
    byFiles = bytes <= 0;
    consumer = new Transfer.LineEndingConsumer(
        command.cli().progressConsumer());
    ProgressBarBuilder builder = new ProgressBarBuilder()
        .setTaskName(label)
        .setConsumer(consumer)
        .setStyle(ProgressBarStyle.ASCII)
        .setInitialMax(byFiles ? files : bytes)
        .showSpeed();
    if (!byFiles) {
      builder.setUnit("MiB", MIB);
    } else {
      builder.setUnit(" files", 1);
    }
    bar = builder.build();
    bar.setExtraMessage(files(0));
  }

  @Override
  public void fileDone(long bytes, boolean transferred) {
    long done = filesDone.incrementAndGet();
    ProgressBar b = bar;
    if (b != null) {
      b.stepBy(byFiles ? 1 : bytes);
      if (!byFiles) {
        b.setExtraMessage(files(done));
      }
    }
  }

  private String files(long done) {
    return done + "/" + files + " files";
  }

  /** Ends the bar, if any, without a summary (as a failure does); idempotent. */
  @Override
  public synchronized void close() {
    if (bar != null) {
      bar.close();
      bar = null;
      consumer.close();
    }
  }

  /** What one operation moved, for its summary. */
  record Totals(long files, long bytes, long newFiles, long newBytes) {}

  /**
   * Ends the bar and prints the summary line on stderr ({@code verb} the files, {@code fresh} the
   * new ones), unless quiet or JSON; {@code json}, if not null, gets the same figures.
   */
  void finish(Totals t, String verb, String fresh, ObjectNode json) {
    close();
    double seconds = Math.max((System.nanoTime() - started) / 1e9, 1e-9);
    long requests = RequestUsage.of(command.cli().metrics()).total() - requestsBefore;
    boolean measured = !command.cli().metrics().getMeters().isEmpty();
    if (json != null) {
      json.put("files", t.files());
      json.put("bytes", t.bytes());
      json.put("newFiles", t.newFiles());
      json.put("newBytes", t.newBytes());
      if (measured) {
        json.put("requests", requests);
      }
      json.put("seconds", Math.round(seconds * 1000) / 1000.0);
    }
    if (command.quiet || command.json) {
      return;
    }
    command.cli().err.println(String.format(Locale.ROOT,
        "%s: %s %d files, %d bytes; %s %d files, %d bytes;%s in %.2f s (%s/s %s)", label,
        verb, t.files(), t.bytes(), fresh, t.newFiles(), t.newBytes(),
        measured ? " " + requests + " S3 requests" : "", seconds,
        Sizes.format((long) (t.newBytes() / seconds)), fresh));
  }
}
