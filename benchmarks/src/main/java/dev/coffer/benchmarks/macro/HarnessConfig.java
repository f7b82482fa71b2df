package dev.coffer.benchmarks.macro;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The settings of one harness run, read from the environment (run.sh passes its own through).
 * Every key has its default beside it.
 *
 * @param size the large blob of the ingest, cold-read and hot-read cases ({@code BENCH_SIZE},
 *     default 1 GiB; accepts {@code 64m}, {@code 1g} or bytes)
 * @param rounds alternating rounds of every case ({@code BENCH_ROUNDS}, default 3)
 * @param smallCount small blobs per run of the small-blob case ({@code BENCH_SMALL_COUNT}, 10,000)
 * @param smallThreads threads committing small blobs, the same for every contender
 *     ({@code BENCH_SMALL_THREADS}, default 8)
 * @param scalingSizes the sizes of the scaling view ({@code BENCH_SCALING}: comma-separated sizes,
 *     default {@code 1m,64m}, plus the large size; {@code BENCH_4G=1} adds 4 GiB; {@code none}
 *     skips the view)
 * @param s3proxy whether the ingest and cold-read cases also run on S3Proxy ({@code BENCH_S3PROXY},
 *     default 1)
 * @param cases the cases to run ({@code BENCH_CASES}: comma-separated names from {@link #CASES},
 *     default all of them)
 * @param smallOnProxy whether the small-blob and walk cases run on S3Proxy rather than S3Mock
 *     ({@code BENCH_SMALL_SERVER}: {@code s3mock} or {@code s3proxy}; default S3Proxy when it
 *     runs, which serves small requests about three times as fast as S3Mock here)
 * @param repository the repository's root (coffer.jar, docs/)
 * @param work a scratch directory for files, server data and caches, deleted at the end
 * @param servers the directory holding s3mock.jar and s3proxy.jar
 * @param awsCli the awscli v2 executable ({@code BENCH_AWS}, default Debian's /usr/bin/aws)
 * @param rclone the rclone executable ({@code BENCH_RCLONE}, default rclone on the PATH)
 * @param writeDocs whether docs/benchmarks.md and the raw results are rewritten
 *     ({@code BENCH_WRITE_DOCS}, default 1)
 * @param treeFiles files of the tree case's directory ({@code BENCH_TREE_FILES}, default 10,000)
 * @param cliVariants other builds or JVM options of the command, run beside it in the cold-read,
 *     walk and tree cases ({@code BENCH_CLI_VARIANTS}, default none; see {@link CliVariant#parse})
 * @param latency the round trip added between every contender and the servers by a
 *     {@link LatencyProxy}, half each way ({@code BENCH_LATENCY}: {@code 20ms}, {@code 0.5ms},
 *     {@code 1s}, {@code 250us}; default {@code none}, {@link Duration#ZERO}: contenders connect
 *     straight to the servers on loopback; at most {@link #LATENCY_MAX})
 */
record HarnessConfig(
    long size,
    int rounds,
    int smallCount,
    int smallThreads,
    List<Long> scalingSizes,
    boolean s3proxy,
    Set<String> cases,
    boolean smallOnProxy,
    Path repository,
    Path work,
    Path servers,
    String awsCli,
    String rclone,
    boolean writeDocs,
    int treeFiles,
    List<CliVariant> cliVariants,
    Duration latency) {

  /** The cases in the order they run; the walk reads the small blobs' case's blobs. */
  static final List<String> CASES = List.of("ingest", "cold", "hot", "small", "walk", "scaling",
      "tree");

  /** The largest {@code BENCH_LATENCY}: more would time out the clients' requests. */
  static final Duration LATENCY_MAX = Duration.ofSeconds(10);

  static final long MIB = 1L << 20;
  static final long GIB = 1L << 30;

  static HarnessConfig fromEnvironment(Map<String, String> env, Path repository, Path work) {
    long size = parseSize(env.getOrDefault("BENCH_SIZE", "1g"));
    int rounds = positive("BENCH_ROUNDS", env.getOrDefault("BENCH_ROUNDS", "3"));
    int smallCount = positive("BENCH_SMALL_COUNT", env.getOrDefault("BENCH_SMALL_COUNT", "10000"));
    int smallThreads = positive("BENCH_SMALL_THREADS",
        env.getOrDefault("BENCH_SMALL_THREADS", "8"));
    String scaling = env.getOrDefault("BENCH_SCALING", "1m,64m");
    List<Long> sizes = new java.util.ArrayList<>();
    if (!scaling.equalsIgnoreCase("none")) {
      for (String s : scaling.split(",")) {
        if (!s.isBlank()) {
          sizes.add(parseSize(s.trim()));
        }
      }
      sizes.add(size);
      if ("1".equals(env.get("BENCH_4G"))) {
        sizes.add(4 * GIB);
      }
    }
    List<Long> scalingSizes = sizes.stream().distinct().sorted().toList();
    boolean s3proxy = !"0".equals(env.getOrDefault("BENCH_S3PROXY", "1"));
    String smallServer = env.getOrDefault("BENCH_SMALL_SERVER", s3proxy ? "s3proxy" : "s3mock")
        .trim().toLowerCase(Locale.ROOT);
    if (!smallServer.equals("s3mock") && !smallServer.equals("s3proxy")) {
      throw new IllegalArgumentException("invalid BENCH_SMALL_SERVER \"" + smallServer
          + "\": expected s3mock or s3proxy");
    }
    if (smallServer.equals("s3proxy") && !s3proxy) {
      throw new IllegalArgumentException(
          "BENCH_SMALL_SERVER=s3proxy needs S3Proxy, but BENCH_S3PROXY=0");
    }
    return new HarnessConfig(size, rounds, smallCount, smallThreads, scalingSizes, s3proxy,
        cases(env.getOrDefault("BENCH_CASES", String.join(",", CASES))),
        smallServer.equals("s3proxy"), repository, work,
        repository.resolve("benchmarks/target/servers"),
        env.getOrDefault("BENCH_AWS", "/usr/bin/aws"),
        env.getOrDefault("BENCH_RCLONE", "rclone"),
        !"0".equals(env.getOrDefault("BENCH_WRITE_DOCS", "1")),
        positive("BENCH_TREE_FILES", env.getOrDefault("BENCH_TREE_FILES", "10000")),
        CliVariant.parse(env.getOrDefault("BENCH_CLI_VARIANTS", "")),
        parseLatency(env.getOrDefault("BENCH_LATENCY", "none")));
  }

  private static final Pattern LATENCY = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(us|ms|s)");

  /**
   * Parses a {@code BENCH_LATENCY} round trip: a number with {@code us}, {@code ms} or {@code s}
   * ({@code 20ms}, {@code 0.5ms}), or {@code none} (also zero or empty) for none.
   *
   * @throws IllegalArgumentException naming the text if it is none of these, below a microsecond
   *     but not zero, or above {@link #LATENCY_MAX}
   */
  static Duration parseLatency(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.isEmpty() || t.equals("none") || t.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = LATENCY.matcher(t);
    if (m.matches()) {
      BigDecimal unit = BigDecimal.valueOf(switch (m.group(2)) {
        case "us" -> 1_000L;
        case "ms" -> 1_000_000L;
        default -> 1_000_000_000L;
      });
      BigDecimal nanos = new BigDecimal(m.group(1)).multiply(unit);
      if (nanos.signum() == 0) {
        return Duration.ZERO;
      }
      if (nanos.compareTo(BigDecimal.valueOf(1_000)) >= 0
          && nanos.compareTo(BigDecimal.valueOf(LATENCY_MAX.toNanos())) <= 0) {
        return Duration.ofNanos(nanos.longValue());
      }
    }
    throw new IllegalArgumentException("invalid BENCH_LATENCY \"" + text.trim()
        + "\": expected a round trip from 1us to " + LATENCY_MAX.toSeconds()
        + "s, such as 20ms, 0.5ms or 1s, or none");
  }

  /** A latency as people read it: 20 ms, 0.5 ms, 250 µs, 1 s; none for zero. */
  static String formatLatency(Duration latency) {
    if (latency.isZero()) {
      return "none";
    }
    long nanos = latency.toNanos();
    if (nanos < 1_000_000) {
      return BigDecimal.valueOf(nanos, 3).stripTrailingZeros().toPlainString() + " µs";
    }
    if (nanos < 1_000_000_000) {
      return BigDecimal.valueOf(nanos, 6).stripTrailingZeros().toPlainString() + " ms";
    }
    return BigDecimal.valueOf(nanos, 9).stripTrailingZeros().toPlainString() + " s";
  }

  /** Whether {@code name} (one of {@link #CASES}) runs. */
  boolean runs(String name) {
    return cases.contains(name);
  }

  private static Set<String> cases(String text) {
    Set<String> cases = new LinkedHashSet<>();
    for (String c : text.split(",")) {
      String name = c.trim().toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        continue;
      }
      if (!CASES.contains(name)) {
        throw new IllegalArgumentException("invalid BENCH_CASES entry \"" + c.trim()
            + "\": expected some of " + String.join(",", CASES));
      }
      cases.add(name);
    }
    if (cases.isEmpty()) {
      throw new IllegalArgumentException("BENCH_CASES names no case: expected some of "
          + String.join(",", CASES));
    }
    return Set.copyOf(cases);
  }

  /** Parses {@code 123}, {@code 4k}, {@code 64m}, {@code 1g} (binary units). */
  static long parseSize(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace("ib", "").replace("b", "");
    long unit = 1;
    if (!t.isEmpty()) {
      switch (t.charAt(t.length() - 1)) {
        case 'k' -> unit = 1L << 10;
        case 'm' -> unit = MIB;
        case 'g' -> unit = GIB;
        default -> unit = 1;
      }
    }
    String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
    try {
      long value = Long.parseLong(digits);
      if (value <= 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(value, unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("invalid size \"" + text
          + "\": expected a positive number of bytes, or one with k, m or g");
    }
  }

  /** A size as people read it: 64 MiB, 1 GiB, 4 KiB. */
  static String formatSize(long bytes) {
    if (bytes >= GIB && bytes % GIB == 0) {
      return bytes / GIB + " GiB";
    }
    if (bytes >= MIB && bytes % MIB == 0) {
      return bytes / MIB + " MiB";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
      return bytes / 1024 + " KiB";
    }
    return bytes + " B";
  }

  private static int positive(String key, String text) {
    try {
      int value = Integer.parseInt(text.trim());
      if (value <= 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid " + key + " \"" + text
          + "\": expected a positive whole number");
    }
  }
}
