package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
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
      "Safe to run from several hosts at once and while others write."})
  static final class Gc extends StoreCommand {
    @Option(names = "--ingest-age", paramLabel = "DURATION", defaultValue = "1d",
        converter = Durations.Converter.class,
        description = "Remove ingests unwritten for this long: 90m, 12h, 7d or ISO-8601 PT12H"
            + " (default: ${DEFAULT-VALUE}).")
    Duration ingestAge;

    @Option(names = {"-n", "--dry-run"}, description = "Only report what would be removed.")
    boolean dryRun;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      GcReport report = store.gc(new GcOptions(ingestAge, dryRun));
      if (json) {
        ObjectNode node = JSON.createObjectNode();
        node.put("dryRun", dryRun);
        node.put("blobsPurged", report.blobsPurged());
        node.put("bytesFreed", report.bytesFreed());
        node.put("ingestsRemoved", report.ingestsRemoved());
        node.put("uploadsAborted", report.uploadsAborted());
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
        report.skipped().forEach(s -> out.println("skipped " + s.subject() + ": " + s.reason()));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "fsck", description = {
      "Check index records, blob objects and tags against each other.",
      "--repair fixes what can be fixed without deleting anything still referenced. Exits 6 if"
          + " unrepaired findings remain."})
  static final class Fsck extends StoreCommand {
    @Option(names = "--repair", description = "Repair what can be repaired safely.")
    boolean repair;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      FsckReport report = store.fsck(repair);
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
