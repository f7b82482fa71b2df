package dev.coffer.benchmarks.macro;

import dev.coffer.benchmarks.macro.Report.Pair;
import dev.coffer.benchmarks.macro.Report.Ratio;
import dev.coffer.benchmarks.macro.Report.Row;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.jar.JarFile;
import software.amazon.awssdk.core.util.VersionInfo;

/**
 * The side-by-side harness that {@code benchmarks/run.sh} runs: starts S3Mock (and S3Proxy),
 * runs every case against its contenders in alternation, prints the medians and ratios and writes
 * them into docs/benchmarks.md (between markers) and docs/benchmarks/results.csv.
 *
 * <p>Settings come from the environment (see {@link HarnessConfig}); the repository root and the
 * scratch directory from the system properties {@code bench.root} and {@code bench.work}.
 */
public final class MacroBenchmark {
  private static final String BUCKET = "coffer-bench";

  private final HarnessConfig config;
  private final PrintStream log;
  private final List<Sample> samples = new ArrayList<>();
  private final List<Pair> pairs = new ArrayList<>();

  private MacroBenchmark(HarnessConfig config, PrintStream log) {
    this.config = config;
    this.log = log;
  }

  public static void main(String[] args) throws Exception {
    Path root = Path.of(System.getProperty("bench.root", ".")).toAbsolutePath().normalize();
    String workProperty = System.getProperty("bench.work");
    Path work = workProperty != null ? Path.of(workProperty)
        : Files.createTempDirectory("coffer-bench-");
    HarnessConfig config = HarnessConfig.fromEnvironment(System.getenv(), root, work);
    new MacroBenchmark(config, System.out).run();
    System.exit(0);
  }

  private void run() throws Exception {
    Instant started = Instant.now();
    String loadBefore = Machine.loadAverage();
    Files.createDirectories(config.work());
    log.printf("coffer side-by-side benchmarks: %s, %d rounds, %d small blobs, added latency %s,"
            + " load %s%n", HarnessConfig.formatSize(config.size()), config.rounds(),
        config.smallCount(), HarnessConfig.formatLatency(config.latency()), loadBefore);
    Path large = randomFile(config.size());
    Path awsConfig = config.work().resolve("aws-config");
    Files.writeString(awsConfig, String.join("\n", "[default]", "s3 =",
        "  multipart_threshold = " + Cases.PART / HarnessConfig.MIB + "MB",
        "  multipart_chunksize = " + Cases.PART / HarnessConfig.MIB + "MB",
        "  max_concurrent_requests = " + Cases.PARTS_IN_FLIGHT, ""));
    // The command as users run it: bin/coffer, with its class-data-sharing archive.
    List<String> coffer = List.of(config.repository().resolve("bin/coffer").toString());
    Commands commands = new Commands(config.work().resolve("command.err"));
    Cases cases = new Cases(config, commands, coffer, awsConfig);
    SmallBlobCases smallCases = new SmallBlobCases(config);
    List<String> versions = new ArrayList<>();
    versions.add("JDK " + System.getProperty("java.vm.name") + " "
        + System.getProperty("java.runtime.version"));
    versions.add("AWS SDK for Java " + VersionInfo.SDK_VERSION);

    Path mockJar = config.servers().resolve("s3mock.jar");
    Path proxyJar = config.servers().resolve("s3proxy.jar");
    try (Closeable daemons = () -> stopDaemons(config.work());
        S3Server mock = S3Server.s3mock(mockJar, Files.createDirectories(
            config.work().resolve("s3mock")), jarVersion(mockJar));
        Venue onMock = new Venue(mock, BUCKET, config.latency());
        S3Server proxy = config.s3proxy() ? S3Server.s3proxy(proxyJar,
            Files.createDirectories(config.work().resolve("s3proxy")), jarVersion(proxyJar))
            : null;
        Venue onProxy = proxy == null ? null : new Venue(proxy, BUCKET, config.latency())) {
      versions.add(mock.name() + " " + mock.version());
      if (proxy != null) {
        versions.add(proxy.name() + " " + proxy.version() + " (filesystem backend)");
      }
      versions.add("awscli: " + Commands.version(config.awsCli(), "--version"));
      versions.add("rclone: " + Commands.version(config.rclone(), "version"));
      List<Venue> venues = onProxy == null ? List.of(onMock) : List.of(onMock, onProxy);
      // bin/coffer records its archive in the background after a build, from its first run; both
      // that and the waiting for it happen here, outside any measurement.
      cases.warmCli(onMock);
      Alternation alternation = new Alternation(config.rounds(), log);

      if (config.runs("ingest")) {
        for (Venue v : venues) {
          log.println("1. ingest on " + v.server.name());
          samples.addAll(alternation.run("ingest", v, config.size(),
              cases.ingest(v, large, true, true)));
          addPeerPairs("ingest", v.server.name(), "library Writer", "coffer put (CLI)",
              "raw SDK multipart", "aws s3 cp", "rclone copyto");
        }
      }
      Digest digest = null;
      if (config.runs("cold")) {
        for (Venue v : venues) {
          log.println("2. cold read on " + v.server.name());
          digest = Cases.writeFile(v, "cold/", large);
          samples.addAll(alternation.run("cold read", v, config.size(),
              cases.coldRead(v, "cold/", digest, config.size())));
          addPeerPairs("cold read", v.server.name(), "library readerAt",
              "coffer get --no-cache (CLI)", "raw SDK GET", "aws s3 cp - (stdout)",
              "rclone cat");
          for (CliVariant variant : config.cliVariants()) {
            pairs.add(new Pair("cold read", v.server.name(), "coffer get --no-cache (CLI, "
                + variant.label() + ")", "rclone cat", 1.0));
          }
        }
      }

      if (config.runs("hot")) {
        log.println("3. hot read");
        Venue v = venues.get(venues.size() - 1); // where case 2 left the blob
        if (digest == null) {
          digest = Cases.writeFile(v, "cold/", large);
        }
        try (ContentStore cache = Cases.cache(v, "cold/", config.work().resolve("cache"))) {
          Cases.readAll(cache, digest); // fills the cache
          var hot = cases.hotRead(v, "cold/", cache, digest, large, config.size());
          hot.get(2).run(0); // fills the command-line tool's cache
          samples.addAll(alternation.run("hot read", null, config.size(), hot));
        }
        pairs.add(new Pair("hot read", "local", "cache readerAt (library)",
            "FileChannel of a local copy", 0.9));
        pairs.add(new Pair("hot read", "local", "coffer get (CLI, cache hot)",
            "cat of a local copy", 0.5));
      }

      Venue small = config.smallOnProxy() ? onProxy : onMock;
      SmallBlobCases.SmallBlobs blobs = new SmallBlobCases.SmallBlobs(config.smallCount());
      if (config.runs("small")) {
        log.println("4. small blobs on " + small.server.name());
        samples.addAll(alternation.run("small blobs", small, round -> {
          int[] slice = SmallBlobCases.slice(blobs.count(), round, config.rounds());
          return slice[1] - slice[0];
        }, smallCases.contenders(small, blobs)));
        pairs.add(new Pair("small blobs", small.server.name(), SmallBlobCases.SMALL_LIBRARY,
            "raw SDK PutObject", 0.8));
      }
      if (config.runs("walk")) {
        log.println("5. walk on " + small.server.name());
        if (!config.runs("small")) {
          smallCases.putLibrary(small, blobs, 0, blobs.count());
        }
        samples.addAll(alternation.run("walk", small, blobs.count(),
            cases.walk(small, SmallBlobCases.SMALL_LIBRARY_PREFIX, blobs.count())));
        pairs.add(new Pair("walk", small.server.name(), "library walk",
            "raw SDK list + GET records", Double.NaN));
        pairs.add(new Pair("walk", small.server.name(), "coffer ls --filter (CLI)",
            "raw SDK list + GET records", 0.9));
        for (CliVariant variant : config.cliVariants()) {
          pairs.add(new Pair("walk", small.server.name(), "coffer ls --filter (CLI, "
              + variant.label() + ")", "raw SDK list + GET records", 0.9));
        }
      }

      for (long size : config.runs("scaling") ? config.scalingSizes() : List.<Long>of()) {
        if (size == config.size() && config.runs("ingest")) {
          continue; // the ingest case measured it
        }
        log.println("scaling: " + HarnessConfig.formatSize(size) + " on " + onMock.server.name());
        Path file = randomFile(size);
        try {
          samples.addAll(alternation.run(scalingCase(size), onMock, size,
              cases.scaling(onMock, file)));
        } finally {
          Files.deleteIfExists(file);
        }
      }
      if (config.runs("tree")) {
        runTree(small, commands, coffer, awsConfig, alternation);
      }
    }
    Instant finished = Instant.now();
    String loadAfter = Machine.loadAverage();
    String section = section(started, finished, loadBefore, loadAfter, versions);
    log.println();
    log.println(section);
    if (config.writeDocs()) {
      Path doc = config.repository().resolve("docs/benchmarks.md");
      String before = Files.exists(doc) ? Files.readString(doc) : "# Benchmarks\n";
      Files.writeString(doc, Report.splice(before, section));
      Path csv = config.repository().resolve("docs/benchmarks/results.csv");
      Files.createDirectories(csv.getParent());
      Files.writeString(csv, Report.csv(samples));
      log.println("written: " + doc + ", " + csv);
    }
  }

  /**
   * Case 6: a directory of {@code BENCH_TREE_FILES} files by coffer, awscli and rclone on the
   * small-blob server (S3Proxy by default, where awscli's multipart uploads work): first upload,
   * second upload with 1 % changed, download.
   */
  private void runTree(Venue v, Commands commands, List<String> coffer, Path awsConfig,
      Alternation alternation) throws Exception {
    TreeCase tree = new TreeCase(config, commands, coffer, awsConfig, log);
    log.printf("6. tree of %d files (%s) on %s%n", config.treeFiles(),
        HarnessConfig.formatSize(tree.bytes), v.server.name());
    treeBytes = tree.bytes;
    samples.addAll(alternation.run(TreeCase.UPLOAD, v, config.treeFiles(), tree.firstUpload(v)));
    tree.prepare(v); // every tool's copy of the original, for the next two
    String digest = Files.readString(config.work().resolve("tree.out")).strip();
    tree.warmHashIndex(v, digest);
    samples.addAll(alternation.run(TreeCase.REUPLOAD, v, config.treeFiles(),
        tree.secondUpload(v, digest)));
    samples.addAll(alternation.run(TreeCase.DOWNLOAD, v, config.treeFiles(),
        tree.download(v, digest)));
    TreeCase.delete(config.work().resolve("tree"));
    String server = v.server.name();
    for (String peer : List.of(TreeCase.AWS, TreeCase.RCLONE)) {
      pairs.add(new Pair(TreeCase.UPLOAD, server, TreeCase.COFFER_PUT, peer, 1.0));
      pairs.add(new Pair(TreeCase.REUPLOAD, server, TreeCase.COFFER_PUT, peer, 3.0));
      pairs.add(new Pair(TreeCase.DOWNLOAD, server, TreeCase.COFFER_GET, peer, Double.NaN));
      for (CliVariant variant : config.cliVariants()) {
        pairs.add(new Pair(TreeCase.UPLOAD, server,
            TreeCase.variantName(TreeCase.COFFER_PUT, variant), peer, 1.0));
        pairs.add(new Pair(TreeCase.REUPLOAD, server,
            TreeCase.variantName(TreeCase.COFFER_PUT, variant), peer, 3.0));
        pairs.add(new Pair(TreeCase.DOWNLOAD, server,
            TreeCase.variantName(TreeCase.COFFER_GET, variant), peer, Double.NaN));
      }
    }
  }

  private long treeBytes;

  /** Stops the command daemons the contenders started ({@link CliDaemons}). */
  private void stopDaemons(Path work) throws IOException {
    try {
      List<Long> stopped = CliDaemons.stopAll(work);
      if (!stopped.isEmpty()) {
        log.println("stopped the command daemons " + stopped);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping the command daemons", e);
    }
  }

  /** One case's table in the report: its {@link HarnessConfig#CASES} name, id, title, unit. */
  private record Section(String name, String caseId, String title, boolean counted,
      String unit) {}

  private void addPeerPairs(String caseId, String server, String library, String cli, String raw,
      String aws, String rclone) {
    for (String subject : List.of(library, cli)) {
      pairs.add(new Pair(caseId, server, subject, raw, 0.9));
      pairs.add(new Pair(caseId, server, subject, aws, 1.0));
      pairs.add(new Pair(caseId, server, subject, rclone, 1.0));
    }
  }

  private static String scalingCase(long size) {
    return "ingest " + HarnessConfig.formatSize(size);
  }

  private String section(Instant started, Instant finished, String loadBefore, String loadAfter,
      List<String> versions) {
    List<Row> rows = Report.rows(samples);
    List<Ratio> ratios = Report.ratios(rows, pairs);
    String size = HarnessConfig.formatSize(config.size());
    StringBuilder out = new StringBuilder();
    out.append("## Side by side (`benchmarks/run.sh`)\n\n");
    out.append("Generated by `benchmarks/run.sh` on ")
        .append(DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(
            started.atOffset(ZoneOffset.UTC).withNano(0)))
        .append(" UTC in ").append(Duration.between(started, finished).toMinutes())
        .append(" min; raw runs in [benchmarks/results.csv](benchmarks/results.csv).\n\n");
    out.append("- machine: ").append(Machine.describe()).append('\n');
    out.append("- load average (1, 5, 15 min): ").append(loadBefore).append(" at the start, ")
        .append(loadAfter).append(" at the end (the run's own servers and contenders)\n");
    out.append("- network: ").append(network()).append('\n');
    out.append("- versions: ").append(String.join("; ", versions)).append('\n');
    out.append(String.format(Locale.ROOT, "- sizes: large blob %s; %d small blobs of 4 KiB to "
            + "1 MiB (log-uniform, %s in all) by %d threads, a share of them in each round; %d "
            + "alternating rounds, medians shown%n", size, config.smallCount(),
        HarnessConfig.formatSize(new SmallBlobCases.SmallBlobs(config.smallCount()).totalBytes()
            / HarnessConfig.MIB * HarnessConfig.MIB), config.smallThreads(), config.rounds()));
    out.append("- uploads: 16 MiB parts, 4 in flight for every uploader (the store's defaults; "
        + "awscli and rclone configured to match). Requests are counted by the SDK clients for "
        + "in-process contenders and by the server's own log for child processes (S3Mock's "
        + "access log, S3Proxy's request handler).\n");
    if (config.size() != HarnessConfig.GIB || config.smallCount() != 10_000
        || config.rounds() < 3 || config.treeFiles() != 10_000) {
      out.append("- **Reduced sizes**: the defaults are 1 GiB, 10,000 small blobs, a tree of"
          + " 10,000 files and 3 rounds.\n");
    }
    if (!config.cases().containsAll(HarnessConfig.CASES)) {
      out.append("- **Some cases only**: ").append(String.join(", ", HarnessConfig.CASES.stream()
          .filter(config::runs).toList())).append(" (`BENCH_CASES`).\n");
    }
    // Only the start tells of other work: by the end the run's own servers and contenders
    // (up to 16 requests in flight against a server on the same 2 cores) make up the load.
    if (Machine.busy(loadBefore)) {
      out.append("- **Loaded machine**: the load average exceeded the core count by half (other "
          + "work ran meanwhile), so absolute figures are depressed and noisy, and ratios favour "
          + "whoever uses less CPU per byte; re-run on a quiet machine before quoting them.\n");
    }
    out.append('\n');

    for (Section c : List.of(
        new Section("ingest", "ingest", "1. Ingest of a " + size + " file", false, "MiB/s"),
        new Section("cold", "cold read", "2. Cold read of that blob (to /dev/null)", false,
            "MiB/s"),
        new Section("hot", "hot read", "3. Hot read", false, "MiB/s"),
        new Section("small", "small blobs", "4. Small blobs", true, "blobs/s"),
        new Section("walk", "walk", "5. Walk over the small blobs (`" + Cases.LABEL_FILTER
            + "` matches a tenth)", true, "blobs/s"))) {
      if (config.runs(c.name())) {
        out.append("### ").append(c.title()).append("\n\n")
            .append(Report.table(rows, r -> r.caseId().equals(c.caseId()), c.counted(), c.unit()))
            .append('\n');
      }
    }
    if (config.runs("tree")) {
      String files = String.format(Locale.ROOT, "%,d files, %s", config.treeFiles(),
          HarnessConfig.formatSize(treeBytes));
      for (Section c : List.of(
          new Section("tree", TreeCase.UPLOAD, "6. Tree: first upload of " + files, true,
              "files/s"),
          new Section("tree", TreeCase.REUPLOAD, "6. Tree: second upload, 1 % of the files"
              + " changed", true, "files/s"),
          new Section("tree", TreeCase.DOWNLOAD, "6. Tree: download into an empty directory",
              true, "files/s"))) {
        out.append("### ").append(c.title()).append("\n\n")
            .append(Report.table(rows, r -> r.caseId().equals(c.caseId()), c.counted(), c.unit()))
            .append('\n');
      }
      out.append("Tree sizes are log-uniform from 100 B to 8 MiB, one file in 2,000 (at least"
          + " one) of 20 MiB; coffer runs with `--no-cache --jobs 16`, rclone with"
          + " `--transfers 16 --checkers 16`, awscli with the harness's config; each tool has"
          + " its own prefix; requests are the server's count.\n\n");
    }
    if (config.runs("scaling") && !config.scalingSizes().isEmpty()) {
      out.append("### Scaling: ingest time and requests by size (S3Mock)\n\n")
          .append(scalingTable(rows)).append('\n');
    }
    out.append("### Ratios and targets\n\n").append(Report.ratioTable(ratios)).append('\n');
    Row small = Report.find(rows, "small blobs", config.smallOnProxy() ? "S3Proxy" : "S3Mock",
        SmallBlobCases.SMALL_LIBRARY);
    if (small != null && !Double.isNaN(small.requests())) {
      // Judged at the precision shown: a handful of retries in thousands of puts (a tagless
      // server refusing each client thread's first tags) is not a third request per blob.
      double perBlob = Math.round(small.requests() / small.units() * 100) / 100.0;
      out.append(String.format(Locale.ROOT, "Requests per small blob: **%.2f**; target 2: %s.%n%n",
          perBlob, perBlob <= 2.0 ? "met" : "missed"));
    }
    out.append(Notes.forMisses(ratios, small));
    return out.toString();
  }

  /** What lies between the contenders and the servers: loopback, and the latency added to it. */
  private String network() {
    if (config.latency().isZero()) {
      return "loopback, no latency added (`BENCH_LATENCY` unset): a request that waits for an"
          + " answer costs next to nothing here, unlike on S3";
    }
    String latency = HarnessConfig.formatLatency(config.latency());
    return "**" + latency + " round trip added** (`BENCH_LATENCY`): every contender reaches the"
        + " servers through a proxy on loopback that delays each direction by half of it ("
        + HarnessConfig.formatLatency(config.latency().dividedBy(2)) + "), as a network"
        + " would; a request that waits for an answer pays the whole of it";
  }

  private String scalingTable(List<Row> rows) {
    StringBuilder out = new StringBuilder(
        "| size | contender | median | MiB/s | requests | library ÷ raw |\n"
        + "|---|---|---|---|---|---|\n");
    for (long size : config.scalingSizes()) {
      String caseId = size == config.size() && config.runs("ingest") ? "ingest"
          : scalingCase(size);
      Row lib = Report.find(rows, caseId, "S3Mock", "library Writer");
      Row raw = Report.find(rows, caseId, "S3Mock", "raw SDK multipart");
      for (Row r : new Row[] {lib, raw}) {
        if (r == null) {
          continue;
        }
        out.append("| ").append(HarnessConfig.formatSize(size)).append(" | ")
            .append(r.contender()).append(" | ").append(Report.seconds(r.seconds()))
            .append(" | ").append(Report.format(r.rate() / HarnessConfig.MIB)).append(" | ")
            .append(Double.isNaN(r.requests()) ? "n/a"
                : String.format(Locale.ROOT, "%.0f", r.requests()))
            .append(" | ").append(r == lib && raw != null
                ? String.format(Locale.ROOT, "%.2f", raw.seconds() / lib.seconds()) : "")
            .append(" |\n");
      }
    }
    return out.toString();
  }

  /** A file of {@code size} random bytes in the scratch directory. */
  private Path randomFile(long size) throws IOException {
    Path file = config.work().resolve("blob-" + size + ".bin");
    if (Files.exists(file) && Files.size(file) == size) {
      return file;
    }
    SplittableRandom random = new SplittableRandom(size);
    byte[] buffer = new byte[Cases.CHUNK];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long left = size; left > 0; left -= buffer.length) {
        random.nextBytes(buffer);
        out.write(buffer, 0, (int) Math.min(buffer.length, left));
      }
    }
    return file;
  }

  /** Implementation-Version of a jar's manifest, or its Maven pom.properties version. */
  static String jarVersion(Path jar) throws IOException {
    try (JarFile file = new JarFile(jar.toFile())) {
      var manifest = file.getManifest();
      String version = manifest == null ? null
          : manifest.getMainAttributes().getValue("Implementation-Version");
      if (version != null) {
        return version;
      }
      var entries = file.stream().filter(e -> e.getName().startsWith("META-INF/maven/")
          && e.getName().endsWith("pom.properties")).toList();
      for (var e : entries) {
        var props = new java.util.Properties();
        props.load(file.getInputStream(e));
        if (jar.getFileName().toString().contains(props.getProperty("artifactId", "?"))) {
          return props.getProperty("version");
        }
      }
      return "?";
    }
  }
}
