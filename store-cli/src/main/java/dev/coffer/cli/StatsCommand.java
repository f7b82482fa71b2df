package dev.coffer.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coffer.cli.RequestUsage.RequestClass;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code coffer stats [--json] [--prices FILE] [--output FILE] COMMAND...}: runs one coffer command
 * in this process and reports what it asked of S3 (as {@code time} reports a command's time), on
 * stderr so that the command's own output stays as it is. The exit code is the command's.
 */
@Command(name = "stats", description = {
    "Run a coffer command and report the S3 requests it made by class (PUT/COPY/POST/LIST,"
        + " GET/HEAD, free DELETE) and by operation and status, the bytes sent and received, and"
        + " an estimated cost (default prices: S3 Standard, us-east-1, AWS list prices of 2025).",
    "The report goes to stderr (or --output); the command's output and exit code are its own."
        + " Example: coffer stats --json put ./build.tar"})
final class StatsCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = "--json", description = "The report as JSON.")
  boolean json;

  @Option(names = "--prices", paramLabel = "FILE",
      description = "A JSON price table: name, writePer1000, readPer1000, transferOutPerGib,"
          + " storagePerGibMonth (US dollars; fields left out keep the defaults).")
  Path prices;

  @Option(names = "--output", paramLabel = "FILE", description = "Write the report here.")
  Path output;

  @Parameters(arity = "1..*", paramLabel = "COMMAND",
      description = "The command and its arguments, as after 'coffer'.")
  List<String> command;

  @Override
  public Integer call() throws IOException {
    Coffer cli = (Coffer) spec.root().userObject();
    if (command.get(0).equals("stats")) {
      cli.err.println("coffer stats: stats of stats would only count the inner command twice");
      return ExitCode.USAGE.code;
    }
    PriceTable table;
    try {
      table = prices == null ? PriceTable.S3_STANDARD_US_EAST_1
          : PriceTable.read(cli.path(prices));
    } catch (ConfigException e) {
      cli.err.println("coffer stats: " + e.getMessage());
      return ExitCode.CONFIG.code;
    }
    cli.measureAll = true;
    int code = Coffer.execute(cli, command.toArray(String[]::new));
    String report = report(RequestUsage.of(cli.metrics()), table, json);
    if (output != null) {
      Files.writeString(cli.path(output), report, StandardCharsets.UTF_8);
    } else {
      PrintStream err = cli.err;
      err.print(report);
      err.flush();
    }
    return code;
  }

  /** The report: text lines, or one JSON document; each ends with a newline. */
  static String report(RequestUsage usage, PriceTable prices, boolean json) {
    if (json) {
      ObjectNode node = StoreCommand.JSON.createObjectNode();
      node.put("requests", usage.total());
      ObjectNode classes = node.putObject("byClass");
      for (RequestClass type : RequestClass.values()) {
        classes.putObject(type.label).put("requests", usage.count(type))
            .put("estimatedUsd", usage.cost(type, prices));
      }
      ObjectNode operations = node.putObject("byOperation");
      usage.requests().forEach((operation, statuses) -> {
        ObjectNode byStatus = operations.putObject(operation);
        statuses.forEach(byStatus::put);
      });
      node.put("bytesSent", usage.bytesSent());
      node.put("bytesReceived", usage.bytesReceived());
      node.put("estimatedUsd", usage.cost(prices));
      node.set("prices", StoreCommand.JSON.valueToTree(prices));
      try {
        return StoreCommand.JSON.writeValueAsString(node) + "\n";
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "coffer stats: %d S3 requests, estimated %s (%s)%n",
        usage.total(), usd(usage.cost(prices)), prices.name()));
    for (RequestClass type : RequestClass.values()) {
      out.append(String.format(Locale.ROOT, "  %-20s %8d  %s%n",
          type == RequestClass.FREE ? type.label + " (free)" : type.label, usage.count(type),
          usd(usage.cost(type, prices))));
    }
    out.append(String.format(Locale.ROOT, "  sent %s, received %s (transfer %s)%n",
        Sizes.format(usage.bytesSent()), Sizes.format(usage.bytesReceived()),
        usd(usage.transferCost(prices))));
    usage.requests().forEach((operation, statuses) -> statuses.forEach((status, n) ->
        out.append(String.format(Locale.ROOT, "  %-28s %-8s %8d%n", operation, status, n))));
    return out.toString();
  }

  /** Dollars with enough digits to show a few requests' cost. */
  static String usd(double amount) {
    return amount == 0 ? "$0" : String.format(Locale.ROOT, "$%.7f", amount);
  }
}
