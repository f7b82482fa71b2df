package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coffer gc} and {@code coffer fsck}. */
final class MaintenanceCommands {
  private MaintenanceCommands() {}

  @Command(name = "gc", description = {
      "Purge blobs past their deletion grace period and remove abandoned ingests.",
      "--unused-for and --max-bytes also expire blobs without a reference by last use: they are"
          + " purged by a later gc once the deletion grace has passed, unless used meanwhile.",
      "Safe to run from several hosts at once and while others write."})
  static final class Gc extends StoreCommand {
    @Option(names = "--ingest-age", paramLabel = "DURATION", defaultValue = "1d",
        converter = Durations.Converter.class,
        description = "Remove ingests unwritten for this long: 90m, 12h, 7d or ISO-8601 PT12H"
            + " (default: ${DEFAULT-VALUE}).")
    Duration ingestAge;

    @Option(names = {"-n", "--dry-run"},
        description = "Only report what would be removed or expired; writes nothing.")
    boolean dryRun;

    @Option(names = "--unused-for", paramLabel = "DURATION", converter = Durations.Converter.class,
        description = "Expire blobs without a reference unused for this long: 30d, 720h or"
            + " ISO-8601 P30D; at least the store's touch interval (default: the store's"
            + " configuration, none unless set).")
    Duration unusedFor;

    @Option(names = "--max-bytes", paramLabel = "SIZE", converter = SizeConverter.class,
        description = "Expire the least recently used blobs without a reference until the live"
            + " blobs under the prefix total at most SIZE: 500GiB, 2T or bytes.")
    Long maxBytes;

    /** Reads SIZE arguments as {@link Sizes#parse} does. */
    static final class SizeConverter implements picocli.CommandLine.ITypeConverter<Long> {
      @Override
      public Long convert(String value) {
        return Sizes.parse(value);
      }
    }

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      GcReport report = store.gc(new GcOptions(ingestAge, dryRun, unusedFor,
          maxBytes == null ? GcOptions.NO_LIMIT : maxBytes));
      if (json) {
        ObjectNode node = JSON.createObjectNode();
        node.put("dryRun", dryRun);
        node.put("blobsPurged", report.blobsPurged());
        node.put("bytesFreed", report.bytesFreed());
        node.put("ingestsRemoved", report.ingestsRemoved());
        node.put("uploadsAborted", report.uploadsAborted());
        node.put("blobsExpired", report.expired().size());
        node.put("bytesExpired", report.bytesExpired());
        ArrayNode expired = node.putArray("expired");
        report.expired().forEach(d -> expired.add(d.toString()));
        node.put("seconds", report.elapsed().toMillis() / 1000.0);
        ArrayNode skipped = node.putArray("skipped");
        report.skipped().forEach(s -> skipped.addObject().put("subject", s.subject())
            .put("reason", s.reason()));
        printJson(node);
      } else {
        var out = cli().out;
        out.printf("%s%d blobs purged, %d ingests removed, %d uploads aborted, %s freed in %.2f s%n",
            dryRun ? "(dry run) " : "", report.blobsPurged(), report.ingestsRemoved(),
            report.uploadsAborted(), Sizes.format(report.bytesFreed()),
            report.elapsed().toMillis() / 1000.0);
        if (unusedFor != null || maxBytes != null || !report.expired().isEmpty()) {
          out.printf("%s%d blobs expired, %s%n", dryRun ? "(dry run) " : "",
              report.expired().size(), Sizes.format(report.bytesExpired()));
          report.expired().forEach(d -> out.println((dryRun ? "would expire " : "expired ") + d));
        }
        report.skipped().forEach(s -> out.println("skipped " + s.subject() + ": " + s.reason()));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "fsck", description = {
      "Check index records, blob objects and tags against each other.",
      "--verify also reads and hashes every live blob (or a --sample); --repair fixes what can be"
          + " fixed without deleting anything still referenced, and makes a corrupt blob take its"
          + " true bytes at their next put. Exits 6 if unrepaired findings remain."})
  static final class Fsck extends StoreCommand {
    @Option(names = "--repair", description = "Repair what can be repaired safely.")
    boolean repair;

    @Option(names = "--verify", description = "Read and hash live blobs; report corrupt ones.")
    boolean verify;

    @Option(names = "--sample", paramLabel = "PERCENT", defaultValue = "100",
        description = "With --verify, read only this share of the blobs, chosen by digest"
            + " (default: ${DEFAULT-VALUE}).")
    double sample;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
        description = "With --verify, blobs read at once (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      FsckOptions options = FsckOptions.of(repair);
      Transfer transfer = new Transfer(this);
      if (verify) {
        options = options.verifying(sample, parallel, new FsckOptions.Progress() {
          @Override
          public void started(long blobs, long bytes) {
            synchronized (transfer) {
              transfer.phase("verify", bytes, 0);
            }
          }

          @Override
          public void read(long bytes) {
            synchronized (transfer) {
              transfer.advance(bytes);
            }
          }
        });
      }
      FsckReport report;
      try {
        report = store.fsck(options);
      } finally {
        transfer.abandon();
      }
      if (json) {
        ObjectNode node = JSON.createObjectNode();
        node.put("blobsChecked", report.blobsChecked());
        node.put("clean", report.clean());
        ArrayNode findings = node.putArray("findings");
        report.findings().forEach(f -> findings.addObject().put("kind", f.kind().name())
            .put("subject", f.subject()).put("detail", f.detail()).put("repaired", f.repaired()));
        printJson(node);
      } else {
        var out = cli().out;
        report.findings().forEach(f -> out.println((f.repaired() ? "repaired " : "") + f.kind()
            + " " + f.subject() + ": " + f.detail()));
        out.println(report.blobsChecked() + " blobs checked, " + report.findings().size()
            + " findings" + (report.clean() ? ", clean" : ""));
      }
      return report.clean() ? ExitCode.OK : ExitCode.FAILED_PRECONDITION;
    }
  }
}
