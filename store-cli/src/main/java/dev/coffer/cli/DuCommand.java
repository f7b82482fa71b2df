package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.s3.S3Usage;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coffer du}: what the store holds, from its index records. */
@Command(name = "du", description = {
    "Show the blobs and bytes the store holds by state (live, deleting, purging), optionally by"
        + " a label's value, and what gc would purge now; from the index records (one GET per"
        + " blob), always without the cache.",
    "Example: coffer du --by labels.team --filter 'labels.project==web'"})
final class DuCommand extends StoreCommand {
  /** Progress lines on a terminal, every this many records. */
  static final long PROGRESS_EVERY = 10_000;

  @Option(names = {"-f", "--filter"}, paramLabel = "FILTER",
      description = "containerd filter on the blobs (repeatable; ORed).")
  List<String> filters = new ArrayList<>();

  @Option(names = "--by", paramLabel = "labels.KEY",
      description = "Break the live blobs down by this label's value.")
  String by;

  DuCommand() {
    noCache = true; // the index records are in S3 only
  }

  @Override
  ExitCode execute(ContentStore store, Settings settings) {
    String labelKey = null;
    if (by != null) {
      if (!by.startsWith("labels.") || by.length() == "labels.".length()) {
        throw new InvalidArgumentException("--by " + by + ": expected labels.KEY");
      }
      labelKey = by.substring("labels.".length());
    }
    PrintStream notices = notices();
    boolean progress = cli().terminal && !quiet;
    S3Usage usage;
    try {
      usage = S3Usage.measure(store, labelKey, n -> {
        if (progress && n % PROGRESS_EVERY == 0) {
          notices.println("coffer du: " + n + " index records read");
        }
      }, filters.toArray(String[]::new));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("du reads an S3 store's index records: " + e.getMessage());
    }
    if (json) {
      ObjectNode node = JSON.createObjectNode();
      tallies(node.putObject("byState"), usage.byState());
      if (labelKey != null) {
        node.put("label", labelKey);
        tallies(node.putObject("byLabel"), usage.byLabel());
      }
      node.putObject("gcWouldFree").put("blobs", usage.gcWouldFree().blobs())
          .put("bytes", usage.gcWouldFree().bytes());
      printJson(node);
      return ExitCode.OK;
    }
    PrintStream out = cli().out;
    out.printf(Locale.ROOT, "%-10s %10s %14s%n", "state", "blobs", "bytes");
    for (String state : List.of("live", "deleting", "purging")) {
      S3Usage.Tally t = usage.byState().get(state);
      out.printf(Locale.ROOT, "%-10s %10d %14d  %s%n", state, t.blobs(), t.bytes(),
          Sizes.format(t.bytes()));
    }
    out.printf(Locale.ROOT, "gc would free %d blobs, %d bytes (%s)%n", usage.gcWouldFree().blobs(),
        usage.gcWouldFree().bytes(), Sizes.format(usage.gcWouldFree().bytes()));
    if (labelKey != null) {
      out.println("live blobs by labels." + labelKey + ":");
      usage.byLabel().forEach((value, t) -> out.printf(Locale.ROOT, "  %-20s %10d %14d  %s%n",
          value.isEmpty() ? "(none)" : value, t.blobs(), t.bytes(), Sizes.format(t.bytes())));
    }
    return ExitCode.OK;
  }

  private static void tallies(ObjectNode node, Map<String, S3Usage.Tally> tallies) {
    tallies.forEach((name, t) -> node.putObject(name).put("blobs", t.blobs())
        .put("bytes", t.bytes()));
  }
}
