package dev.coffer.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coffer ingest ls|status|abort}: uncommitted writes. */
@Command(name = "ingest", description = "List, inspect and abort uncommitted writes.",
    subcommands = {IngestCommands.Ls.class, IngestCommands.StatusCommand.class,
        IngestCommands.Abort.class})
final class IngestCommands implements Runnable {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
        "missing subcommand: ls, status or abort");
  }

  @Command(name = "ls", description = "List ingests, optionally filtered on ref.")
  static final class Ls extends StoreCommand {
    @Option(names = {"-f", "--filter"}, paramLabel = "FILTER",
        description = "Filter on ref, e.g. 'ref~=^build' (repeatable: any matches).")
    List<String> filters = new ArrayList<>();

    @Override
    boolean readsContent() {
      return false;
    }

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      FilterFields.checkIngests(filters);
      List<Status> all = new ArrayList<>(store.listStatuses(filters.toArray(String[]::new)));
      all.sort((a, b) -> a.ref().compareTo(b.ref()));
      if (json) {
        ArrayNode array = JSON.createArrayNode();
        all.forEach(s -> array.add(toJson(s)));
        printJson(array);
      } else {
        all.forEach(s -> cli().out.println(s.ref() + "\t" + s.offset() + "\t" + s.total() + "\t"
            + s.startedAt()));
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "status", description = "Show one ingest.")
  static final class StatusCommand extends StoreCommand {
    @Parameters(index = "0", paramLabel = "REF")
    String ref;

    @Override
    boolean readsContent() {
      return false;
    }

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      Status s = store.status(ref);
      if (json) {
        printJson(toJson(s));
      } else {
        var out = cli().out;
        out.println("ref:       " + s.ref());
        out.println("offset:    " + s.offset());
        out.println("total:     " + s.total());
        out.println("expected:  " + (s.expected() == null ? "" : s.expected()));
        out.println("started:   " + s.startedAt());
        out.println("updated:   " + s.updatedAt());
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "abort", description = "Cancel an ingest and remove what it stored.")
  static final class Abort extends StoreCommand {
    @Parameters(index = "0", paramLabel = "REF")
    String ref;

    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      try {
        store.abort(ref);
      } catch (UnavailableException e) {
        if (e.lockedUntil().isEmpty()) {
          throw e;
        }
        throw new UnavailableException("ref \"" + ref + "\" is locked by a writer until "
            + RefWait.when(e.lockedUntil().get(), Instant.now()) + "; if that writer has"
            + " stopped, its lease lapses then: retry after it", e.lockedUntil().get());
      }
      if (json) {
        printJson(JSON.createObjectNode().put("aborted", ref));
      } else {
        cli().out.println("aborted " + ref);
      }
      return ExitCode.OK;
    }
  }
}
