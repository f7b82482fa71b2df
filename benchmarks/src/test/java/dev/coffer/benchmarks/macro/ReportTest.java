package dev.coffer.benchmarks.macro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
    assertThat(csv.lines()).containsExactly(Report.CSV_HEADER,
        "walk,S3Mock,\"a, b\",1,1.5000,10,3,",
        "walk,S3Mock,c,2,,10,-1,\"IOException: \"\"x\"\", y\"");
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
          int[] slice = Cases.slice(count, round, rounds);
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
    Cases.SmallBlobs blobs = new Cases.SmallBlobs(2000);
    Cases.SmallBlobs again = new Cases.SmallBlobs(2000);
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
}
