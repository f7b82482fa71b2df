package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.cli.Cli.Result;
import dev.coffer.cli.RequestUsage.RequestClass;
import dev.coffer.store.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coffer stats}: exact request counts, bytes and costs of the command it runs. */
class StatsCommandTest {
  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);

  @AfterEach
  void close() throws Exception {
    connector.close();
  }

  @Test
  void reportsExactlyTheRequestsTheEndpointLoggedAndTheirCost() throws Exception {
    byte[] content = "stats of one put".repeat(100).getBytes(StandardCharsets.UTF_8);
    Path file = tmp.resolve("blob");
    Files.write(file, content);

    Result put = cli.run("stats", "--json", "--output", tmp.resolve("report.json").toString(),
        "put", "-q", "--no-cache", file.toString());

    assertThat(put.code()).as(put.stderr()).isZero();
    assertThat(put.out()).contains(Digest.of(content).toString());
    JsonNode report = new ObjectMapper().readTree(tmp.resolve("report.json").toFile());
    Map<String, Long> reported = new TreeMap<>();
    report.get("byOperation").fields().forEachRemaining(op -> op.getValue().fields()
        .forEachRemaining(s -> reported.put(op.getKey() + " " + s.getKey(),
            s.getValue().asLong())));
    Map<String, Long> logged = connector.logged(connector.host);
    assertThat(reported).isNotEmpty().isEqualTo(logged);

    long writes = 0;
    long reads = 0;
    long total = 0;
    for (var e : logged.entrySet()) {
      RequestClass type = RequestClass.of(e.getKey().split(" ")[0]);
      writes += type == RequestClass.WRITE ? e.getValue() : 0;
      reads += type == RequestClass.READ ? e.getValue() : 0;
      total += e.getValue();
    }
    assertThat(report.get("requests").asLong()).isEqualTo(total);
    assertThat(report.at("/byClass/PUT~1COPY~1POST~1LIST/requests").asLong()).isEqualTo(writes);
    assertThat(report.at("/byClass/GET~1HEAD/requests").asLong()).isEqualTo(reads);
    assertThat(report.get("estimatedUsd").asDouble())
        .isCloseTo(writes * 0.005 / 1000 + reads * 0.0004 / 1000, within());
    assertThat(report.get("bytesSent").asLong()).isGreaterThanOrEqualTo(content.length);
  }

  @Test
  void textReportHasTheClassesOperationsAndPrices() {
    RequestUsage usage = new RequestUsage(new TreeMap<>(Map.of(
        "PutObject", new TreeMap<>(Map.of("200", 1000L, "412", 500L)),
        "GetObject", Map.of("200", 2500L),
        "DeleteObject", Map.of("204", 10L))), 3 << 20, 1 << 30);
    PriceTable prices = new PriceTable("test prices", 0.005, 0.0004, 0.09, 0.023);

    assertThat(StatsCommand.report(usage, prices, false)).isEqualTo("""
        coffer stats: 4010 S3 requests, estimated $0.0985000 (test prices)
          PUT/COPY/POST/LIST       1500  $0.0075000
          GET/HEAD                 2500  $0.0010000
          DELETE (free)              10  $0
          sent 3.0 MiB, received 1.0 GiB (transfer $0.0900000)
          DeleteObject                 204            10
          GetObject                    200          2500
          PutObject                    200          1000
          PutObject                    412           500
        """);
  }

  @Test
  void theCommandsExitCodeAndOutputAreItsOwn() {
    Result info = cli.run("stats", "info", "--no-cache", Digest.of(new byte[] {1}).toString());

    assertThat(info.code()).isEqualTo(ExitCode.NOT_FOUND.code);
    assertThat(info.out()).isEmpty();
    assertThat(info.stderr()).contains("coffer stats: ").contains("GET/HEAD");
  }

  @Test
  void aPriceTableReplacesTheDefaults() throws Exception {
    Path table = tmp.resolve("prices.json");
    Files.writeString(table, "{\"name\": \"free reads\", \"readPer1000\": 0}");
    Result info = cli.run("stats", "--prices", table.toString(), "info", "--no-cache",
        Digest.of(new byte[] {1}).toString());
    assertThat(info.stderr()).contains("estimated $0 (free reads)");

    Files.writeString(table, "{\"readPer1000\": -1}");
    Result bad = cli.run("stats", "--prices", table.toString(), "ls");
    assertThat(bad.code()).isEqualTo(ExitCode.CONFIG.code);
    assertThat(bad.stderr()).isEqualTo("coffer stats: price table " + table
        + ": prices must be finite and not negative\n");
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-12);
  }
}
