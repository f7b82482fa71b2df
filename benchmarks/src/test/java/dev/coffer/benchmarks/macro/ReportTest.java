package dev.coffer.benchmarks.macro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.StringReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

class ReportTest {

  private static Sample ok(String contender, int round, double seconds, long requests) {
    return new Sample("ingest", "S3Mock", contender, round, seconds, 1L << 20, requests, "");
  }

  @Test
  void medianOfOddAndEvenCountsAndNone() {
    assertThat(Report.median(new double[] {3, 1, 2})).isEqualTo(2);
    assertThat(Report.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
    assertThat(Report.median(new double[0])).isNaN();
  }

  @Test
  void rowsTakeMediansOfSuccessfulRunsOnly() {
    List<Sample> samples = List.of(
        ok("lib", 1, 3.0, 10), ok("raw", 1, 1.0, 4),
        ok("lib", 2, 1.0, 12), ok("raw", 2, 2.0, 4),
        new Sample("ingest", "S3Mock", "lib", 3, Double.NaN, 1L << 20, 99, "IOException: x"),
        ok("raw", 3, 3.0, -1));
    List<Report.Row> rows = Report.rows(samples);
    assertThat(rows).extracting(Report.Row::contender).containsExactly("lib", "raw");
    Report.Row lib = rows.get(0);
    assertThat(lib.seconds()).isEqualTo(2.0);
    assertThat(lib.requests()).isEqualTo(11.0);
    assertThat(lib.ok()).isEqualTo(2);
    assertThat(lib.runs()).isEqualTo(3);
    Report.Row raw = rows.get(1);
    assertThat(raw.seconds()).isEqualTo(2.0);
    assertThat(raw.requests()).isEqualTo(4.0); // the uncounted run (-1) is left out
  }

  @Test
  void ratioIsBaselineTimeOverSubjectTimeAndJudgedAgainstTheTarget() {
    List<Report.Row> rows = Report.rows(List.of(ok("lib", 1, 4.0, 1), ok("raw", 1, 3.0, 1),
        ok("aws", 1, 5.0, 1)));
    List<Report.Ratio> ratios = Report.ratios(rows, List.of(
        new Report.Pair("ingest", "S3Mock", "lib", "raw", 0.9),
        new Report.Pair("ingest", "S3Mock", "lib", "aws", 1.0),
        new Report.Pair("ingest", "S3Mock", "lib", "rclone", 1.0)));
    assertThat(ratios).hasSize(2); // no rclone row: left out
    assertThat(ratios.get(0).ratio()).isCloseTo(0.75, within(1e-9));
    assertThat(ratios.get(0).met()).isFalse();
    assertThat(ratios.get(1).ratio()).isCloseTo(1.25, within(1e-9));
    assertThat(ratios.get(1).met()).isTrue();
    assertThat(Report.ratioTable(ratios)).contains("| lib ÷ raw | **0.75** | ≥ 0.9 | missed |")
        .contains("| lib ÷ aws | **1.25** | ≥ 1.0 | met |");
  }

  @Test
  void spliceReplacesOnlyTheGeneratedSection() {
    String doc = "# Benchmarks\n\nhand-written\n\n" + Report.BEGIN + "\nold\n" + Report.END
        + "\n\nafter\n";
    String once = Report.splice(doc, "new table\n");
    assertThat(once).isEqualTo("# Benchmarks\n\nhand-written\n\n" + Report.BEGIN
        + "\nnew table\n" + Report.END + "\n\nafter\n");
    assertThat(Report.splice(once, "new table")).isEqualTo(once);
  }

  @Test
  void spliceAppendsTheSectionWhenTheMarkersAreMissing() {
    assertThat(Report.splice("# Benchmarks\n\ntext\n", "table"))
        .isEqualTo("# Benchmarks\n\ntext\n\n" + Report.BEGIN + "\ntable\n" + Report.END + "\n");
  }

  @Test
  void csvQuotesFieldsWithCommas() {
    String csv = Report.csv(List.of(new Sample("walk", "S3Mock", "a, b", 1, 1.5, 10, 3, ""),
        new Sample("walk", "S3Mock", "c", 2, Double.NaN, 10, -1, "IOException: \"x\", y")));
    assertThat(csv.lines()).containsExactly(String.join(",", Report.CSV_HEADER),
        "walk,S3Mock,\"a, b\",1,1.5000,10,3,,,",
        "walk,S3Mock,c,2,,10,-1,,,\"IOException: \"\"x\"\", y\"");
  }

  @Test
  void sizesParseWithBinaryUnits() {
    assertThat(HarnessConfig.parseSize("1g")).isEqualTo(1L << 30);
    assertThat(HarnessConfig.parseSize("64MiB")).isEqualTo(64L << 20);
    assertThat(HarnessConfig.parseSize("4k")).isEqualTo(4096);
    assertThat(HarnessConfig.parseSize("1000")).isEqualTo(1000);
    assertThatThrownBy(() -> HarnessConfig.parseSize("-1m"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"-1m\"");
    assertThatThrownBy(() -> HarnessConfig.parseSize("lots"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"lots\"");
    assertThat(HarnessConfig.formatSize(4L << 30)).isEqualTo("4 GiB");
    assertThat(HarnessConfig.formatSize(64L << 20)).isEqualTo("64 MiB");
  }

  @Test
  void environmentSelectsSizesRoundsAndScaling() {
    HarnessConfig c = HarnessConfig.fromEnvironment(Map.of("BENCH_SIZE", "64m",
        "BENCH_ROUNDS", "2", "BENCH_SMALL_COUNT", "500", "BENCH_4G", "1"), Path.of("/r"),
        Path.of("/w"));
    assertThat(c.size()).isEqualTo(64L << 20);
    assertThat(c.rounds()).isEqualTo(2);
    assertThat(c.smallCount()).isEqualTo(500);
    assertThat(c.scalingSizes()).containsExactly(1L << 20, 64L << 20, 4L << 30);
    HarnessConfig defaults = HarnessConfig.fromEnvironment(Map.of(), Path.of("/r"), Path.of("/w"));
    assertThat(defaults.size()).isEqualTo(1L << 30);
    assertThat(defaults.rounds()).isEqualTo(3);
    assertThat(defaults.smallCount()).isEqualTo(10_000);
    assertThat(defaults.scalingSizes()).containsExactly(1L << 20, 64L << 20, 1L << 30);
    assertThat(defaults.s3proxy()).isTrue();
    assertThat(defaults.smallOnProxy()).isTrue();
    assertThat(HarnessConfig.CASES).allMatch(defaults::runs);
    assertThatThrownBy(() -> HarnessConfig.fromEnvironment(Map.of("BENCH_ROUNDS", "0"),
        Path.of("/r"), Path.of("/w"))).hasMessageContaining("BENCH_ROUNDS");
  }

  @Test
  void latencyIsARoundTripWithItsUnitOrNone() {
    assertThat(HarnessConfig.fromEnvironment(Map.of("BENCH_LATENCY", "20ms"), Path.of("/r"),
        Path.of("/w")).latency()).isEqualTo(Duration.ofMillis(20));
    assertThat(HarnessConfig.fromEnvironment(Map.of(), Path.of("/r"), Path.of("/w")).latency())
        .isZero();
    assertThat(HarnessConfig.parseLatency(" 0.5ms ")).isEqualTo(Duration.ofNanos(500_000));
    assertThat(HarnessConfig.parseLatency("250us")).isEqualTo(Duration.ofNanos(250_000));
    assertThat(HarnessConfig.parseLatency("1S")).isEqualTo(Duration.ofSeconds(1));
    assertThat(HarnessConfig.parseLatency("10 s")).isEqualTo(HarnessConfig.LATENCY_MAX);
    assertThat(HarnessConfig.parseLatency("none")).isZero();
    assertThat(HarnessConfig.parseLatency("0")).isZero();
    assertThat(HarnessConfig.parseLatency("0ms")).isZero();
    assertThat(HarnessConfig.parseLatency("")).isZero();
    for (String invalid : List.of("20", "20 min", "-5ms", "fast", "11s", "0.1us")) {
      assertThatThrownBy(() -> HarnessConfig.fromEnvironment(Map.of("BENCH_LATENCY", invalid),
          Path.of("/r"), Path.of("/w")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("BENCH_LATENCY").hasMessageContaining("\"" + invalid + "\"");
    }
    assertThat(HarnessConfig.formatLatency(Duration.ofMillis(20))).isEqualTo("20 ms");
    assertThat(HarnessConfig.formatLatency(Duration.ofNanos(500_000))).isEqualTo("500 µs");
    assertThat(HarnessConfig.formatLatency(Duration.ofNanos(1_500_000))).isEqualTo("1.5 ms");
    assertThat(HarnessConfig.formatLatency(Duration.ofSeconds(1))).isEqualTo("1 s");
    assertThat(HarnessConfig.formatLatency(Duration.ZERO)).isEqualTo("none");
  }

  @Test
  void cliVariantsNameAnExecutableOrJvmOptionsOrBoth() {
    HarnessConfig c = HarnessConfig.fromEnvironment(Map.of("BENCH_CLI_VARIANTS",
        "main=/tmp/main/bin/coffer; c1=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC;"
            + "both=/x/bin/coffer -Da=1;"), Path.of("/r"), Path.of("/w"));
    assertThat(c.cliVariants()).containsExactly(
        new CliVariant("main", "/tmp/main/bin/coffer", ""),
        new CliVariant("c1", null, "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"),
        new CliVariant("both", "/x/bin/coffer", "-Da=1"));
    assertThat(HarnessConfig.fromEnvironment(Map.of(), Path.of("/r"), Path.of("/w"))
        .cliVariants()).isEmpty();
    assertThatThrownBy(() -> CliVariant.parse("-Da=1")).hasMessageContaining("LABEL=");
  }

  @Test
  void cliVariantsSetVariablesBeforeTheirJvmOptions() {
    assertThat(CliVariant.parse("cold=COFFER_DAEMON=0;"
        + "both=/x/bin/coffer COFFER_DAEMON=0 COFFER_DAEMON_IDLE=5m -Da=1 -XX:+UseSerialGC"))
        .containsExactly(
            new CliVariant("cold", null, "", Map.of("COFFER_DAEMON", "0")),
            new CliVariant("both", "/x/bin/coffer", "-Da=1 -XX:+UseSerialGC",
                Map.of("COFFER_DAEMON", "0", "COFFER_DAEMON_IDLE", "5m")));
    Map<String, String> env = new java.util.HashMap<>(Map.of("COFFER_PREFIX", "p/"));
    assertThat(PeerCommands.environment(CliVariant.parse("cold=COFFER_DAEMON=0 -Da=1").get(0),
        env)).containsEntry("COFFER_DAEMON", "0").containsEntry("COFFER_JAVA_OPTS", "-Da=1")
        .containsEntry("COFFER_PREFIX", "p/");
  }

  @Test
  void environmentSelectsCasesAndTheSmallBlobServer() {
    HarnessConfig c = HarnessConfig.fromEnvironment(Map.of("BENCH_CASES", " small, walk",
        "BENCH_S3PROXY", "0"), Path.of("/r"), Path.of("/w"));
    assertThat(HarnessConfig.CASES.stream().filter(c::runs)).containsExactly("small", "walk");
    assertThat(c.smallOnProxy()).isFalse();
    assertThatThrownBy(() -> HarnessConfig.fromEnvironment(Map.of("BENCH_CASES", "ingest,fast"),
        Path.of("/r"), Path.of("/w"))).hasMessageContaining("\"fast\"");
    assertThatThrownBy(() -> HarnessConfig.fromEnvironment(Map.of("BENCH_CASES", " , "),
        Path.of("/r"), Path.of("/w"))).hasMessageContaining("BENCH_CASES");
    assertThatThrownBy(() -> HarnessConfig.fromEnvironment(Map.of("BENCH_SMALL_SERVER",
        "s3proxy", "BENCH_S3PROXY", "0"), Path.of("/r"), Path.of("/w")))
        .hasMessageContaining("BENCH_S3PROXY=0");
    assertThatThrownBy(() -> HarnessConfig.fromEnvironment(Map.of("BENCH_SMALL_SERVER", "minio"),
        Path.of("/r"), Path.of("/w"))).hasMessageContaining("\"minio\"");
  }

  @Test
  void roundsShareTheSmallBlobsWithoutGapOrOverlap() {
    for (int count : new int[] {1, 2, 10, 1000, 10_000}) {
      for (int rounds = 1; rounds <= 7; rounds++) {
        int next = 0;
        for (int round = 1; round <= rounds; round++) {
          int[] slice = SmallBlobCases.slice(count, round, rounds);
          assertThat(slice[0]).isEqualTo(next);
          assertThat(slice[1] - slice[0]).isBetween(count / rounds, count / rounds + 1);
          next = slice[1];
        }
        assertThat(next).isEqualTo(count);
      }
    }
  }

  @Test
  void smallBlobsAreDeterministicUniquePerRunAndWithinBounds() {
    SmallBlobCases.SmallBlobs blobs = new SmallBlobCases.SmallBlobs(2000);
    SmallBlobCases.SmallBlobs again = new SmallBlobCases.SmallBlobs(2000);
    for (int i = 0; i < blobs.count(); i++) {
      byte[] b = blobs.blob(i, "lib-1");
      assertThat(b.length).isBetween(4096, 1 << 20);
      assertThat(again.blob(i, "lib-1")).isEqualTo(b);
    }
    assertThat(blobs.blob(7, "lib-1")).isNotEqualTo(blobs.blob(7, "lib-2"));
    assertThat(blobs.blob(7, "lib-1")).isNotEqualTo(blobs.blob(8, "lib-1"));
  }

  @Test
  void aLoadAverageFarAboveTheCoresIsBusy() {
    assertThat(Machine.busy("1000.00, 12.0, 9.0")).isTrue();
    assertThat(Machine.busy("0.00, 12.0, 9.0")).isFalse();
    assertThat(Machine.busy("?")).isFalse();
  }

  private static Sample counted(String contender, int round, Map<String, Long> ops) {
    return new Sample("walk", "S3Proxy", contender, round, 2.0, 10_000,
        ops.values().stream().mapToLong(Long::longValue).sum(), "", ops);
  }

  @Test
  void rowsTakeTheMedianOfEachOperationAndPriceThemAsCofferStatsDoes() {
    List<Report.Row> rows = Report.rows(List.of(
        counted("ls", 1, Map.of("GetObject", 10_000L, "ListObjectsV2", 10L)),
        counted("ls", 2, Map.of("GetObject", 10_002L, "ListObjectsV2", 10L, "PutObject", 1L)),
        counted("ls", 3, Map.of("GetObject", 10_001L, "ListObjectsV2", 11L,
            "DeleteObject", 4L))));

    Report.Row ls = rows.get(0);
    // PutObject and DeleteObject appeared in one round of three: their median is 0.
    assertThat(ls.byOperation()).isEqualTo(Map.of("GetObject", 10_001.0, "ListObjectsV2", 10.0,
        "PutObject", 0.0, "DeleteObject", 0.0));
    // S3 Standard us-east-1: $0.0004 per 1,000 GET/HEAD, $0.005 per 1,000 PUT/COPY/POST/LIST.
    assertThat(ls.costUsd()).isCloseTo(10_001 * 0.0004 / 1000 + 10 * 0.005 / 1000, within(1e-12));
    String table = Report.table(rows, r -> true, true, "blobs/s");
    assertThat(table).contains("| GetObject 10001, ListObjectsV2 10.0, DeleteObject 0.0, "
        + "PutObject 0.0 | $0.004050 |");
  }

  @Test
  void aRowWithoutCountsByOperationHasNoCost() {
    Report.Row row = Report.rows(List.of(ok("cat", 1, 1.0, -1))).get(0);
    assertThat(row.byOperation()).isEmpty();
    assertThat(row.costUsd()).isNaN();
    assertThat(Report.table(List.of(row), r -> true, false, "MiB/s")).contains("| – | – |");
  }

  @Test
  void csvCarriesRequestsByOperationAndCostAndQuotesWhatNeedsIt() throws Exception {
    String csv = Report.csv(List.of(
        counted("coffer ls --filter, CLI", 1, Map.of("GetObject", 1000L, "ListObjectsV2", 1L)),
        new Sample("ingest", "S3Mock", "aws \"s3\" cp", 1, Double.NaN, 5, -1, "Timeout: x, y")));

    List<CSVRecord> records = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true)
        .build().parse(new StringReader(csv)).getRecords();
    assertThat(records).hasSize(2);
    CSVRecord ls = records.get(0);
    assertThat(ls.get("contender")).isEqualTo("coffer ls --filter, CLI");
    assertThat(ls.get("requests")).isEqualTo("1001");
    assertThat(ls.get("requests_by_operation")).isEqualTo("GetObject=1000 ListObjectsV2=1");
    assertThat(Double.parseDouble(ls.get("cost_usd")))
        .isCloseTo(1000 * 0.0004 / 1000 + 0.005 / 1000, within(1e-9));
    CSVRecord failed = records.get(1);
    assertThat(failed.get("contender")).isEqualTo("aws \"s3\" cp");
    assertThat(failed.get("seconds")).isEmpty();
    assertThat(failed.get("cost_usd")).isEmpty();
    assertThat(failed.get("error")).isEqualTo("Timeout: x, y");
  }

  @Test
  void serverLogLinesAreToldApartByOperation() {
    assertThat(S3Server.operation(
        "127.0.0.1 - - [02/Dec/2026:15:00:00 +0000] \"GET /b/p/index/sha256/ab HTTP/1.1\" 200 312"))
        .isEqualTo("GetObject");
    assertThat(S3Server.operation("\"GET /b?list-type=2&prefix=p%2Findex%2F HTTP/1.1\" 200 9"))
        .isEqualTo("ListObjectsV2");
    assertThat(S3Server.operation("request: Request(PUT http://127.0.0.1:9000/b/k?partNumber=3"
        + "&uploadId=u)@1a2b")).isEqualTo("UploadPart");
    assertThat(S3Server.operation("request: Request(POST http://127.0.0.1:9000/b/k?uploads)@1"))
        .isEqualTo("CreateMultipartUpload");
    assertThat(S3Server.operation("\"POST /b/k?uploadId=u HTTP/1.1\" 200 1"))
        .isEqualTo("CompleteMultipartUpload");
    assertThat(S3Server.operation("\"HEAD /b/k HTTP/1.1\" 200 -")).isEqualTo("HeadObject");
    assertThat(S3Server.operation("\"PUT /b/k HTTP/1.1\" 200 -")).isEqualTo("PutObject");
    assertThat(S3Server.operation("\"DELETE /b/k?uploadId=u HTTP/1.1\" 204 -"))
        .isEqualTo("AbortMultipartUpload");
    assertThat(S3Server.operation("\"POST /b?delete HTTP/1.1\" 200 1"))
        .isEqualTo("DeleteObjects");
  }

  /**
   * S3Proxy 4 (Jetty 12) logs the method with the request's hash: {@code PUT@13f493b9 http://…}.
   * Every line of the report's S3Proxy rows was "Unknown" before.
   */
  @Test
  void s3ProxyFourLinesAreToldApartByOperation() {
    String prefix = "06:04:25.510 S3Proxy-Jetty-24 request: ogsoeje10s.ServletApiRequest@33c1ddcb{"
        + "ogsoeje10s.ServletContextRequest@52e762fc{ogsoejsh.GracefulHandler"
        + "$ShutdownTrackingRequest@265dbf0e{";
    assertThat(S3Server.operation(prefix + "PUT@13f493b9 http://127.0.0.1:19090/bench/f/index/"
        + "sha256/0a HTTP/1.1}}}")).isEqualTo("PutObject");
    assertThat(S3Server.operation(prefix + "POST@50fd9b36 http://127.0.0.1:19090/bench/c1/blobs/"
        + "sha256/28?uploads HTTP/1.1}}}")).isEqualTo("CreateMultipartUpload");
    assertThat(S3Server.operation(prefix + "PUT@5be9d196 http://127.0.0.1:19090/bench/k"
        + "?partNumber=2&uploadId=u HTTP/1.1}}}")).isEqualTo("UploadPart");
    assertThat(S3Server.operation(prefix + "HEAD@1 http://127.0.0.1:19090/bench HTTP/1.1}}}"))
        .isEqualTo("HeadBucket");
    assertThat(S3Server.operation(prefix + "GET@c9d1d0d http://127.0.0.1:19090/bench"
        + "?list-type=2&prefix=l%2F HTTP/1.1}}}")).isEqualTo("ListObjectsV2");
  }
}
