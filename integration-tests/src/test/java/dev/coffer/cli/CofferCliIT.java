package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.it.S3Mock;
import dev.coffer.store.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code coffer} command against the S3 store on S3Mock, in-process (through the same connector
 * as {@code main}), as a child JVM, and through {@code bin/coffer} ({@link Launcher}), with the
 * cache on. Over 400 lines: one scenario per finding of a new user's first hour, kept together.
 */
class CofferCliIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static String bucket;

  @TempDir
  Path tmp;
  private String prefix;
  private Map<String, String> env;

  @BeforeAll
  static void credentials() {
    // The SDK's default chain reads these first; S3Mock accepts any signature.
    System.setProperty("aws.accessKeyId", "coffer");
    System.setProperty("aws.secretAccessKey", "coffer");
    bucket = S3Mock.get().newBucket();
  }

  @AfterAll
  static void clearCredentials() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  @BeforeEach
  void environment() {
    prefix = S3Mock.newPrefix();
    env = new HashMap<>(Map.of(
        "HOME", tmp.toString(),
        "COFFER_BUCKET", bucket,
        "COFFER_PREFIX", prefix,
        "COFFER_ENDPOINT", S3Mock.get().endpoint().toString(),
        "COFFER_CACHE_DIR", tmp.resolve("cache").toString()));
  }

  record Result(int code, byte[] stdout, String stderr) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    JsonNode json() throws Exception {
      return JSON.readTree(stdout);
    }
  }

  private Result run(byte[] stdin, String... args) {
    return run(new ByteArrayOutputStream(), stdin, args);
  }

  /** Runs in-process with stderr written to {@code err}, which another thread may read. */
  private Result run(ByteArrayOutputStream err, byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = Coffer.run(args, new ByteArrayInputStream(stdin), new PrintStream(out, true),
        new PrintStream(err, true), env, new DefaultConnector(), false);
    return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  private Result run(String... args) {
    return run(new byte[0], args);
  }

  /** Runs {@code coffer} in a child JVM with this JVM's class path and the test environment. */
  private Result runChild(byte[] stdin, String... args) throws Exception {
    return runChildAs(List.of(), stdin, args);
  }

  /** As {@link #runChild}, the JVM started through {@code wrapper} (say, setpriv). */
  private Result runChildAs(List<String> wrapper, byte[] stdin, String... args) throws Exception {
    List<String> command = new ArrayList<>(wrapper);
    command.addAll(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "dev.coffer.cli.Coffer"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    builder.environment().put("AWS_ACCESS_KEY_ID", "coffer");
    builder.environment().put("AWS_SECRET_ACCESS_KEY", "coffer");
    Path stdout = tmp.resolve("child.out");
    Path stderr = tmp.resolve("child.err");
    Path input = tmp.resolve("child.in");
    Files.write(input, stdin);
    Process process = builder.redirectInput(input.toFile()).redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile()).start();
    assertThat(process.waitFor(3, TimeUnit.MINUTES)).as("child coffer finished").isTrue();
    return new Result(process.exitValue(), Files.readAllBytes(stdout), Files.readString(stderr));
  }

  @Test
  void putFromStdinAndGetRoundTripInProcess() {
    byte[] content = "build artefact\n".getBytes(StandardCharsets.UTF_8);
    Result put = run(content, "put", "-");
    assertThat(put.code()).as(put.stderr()).isZero();
    assertThat(put.out().trim()).isEqualTo(Digest.of(content).toString());

    Result get = run("get", Digest.of(content).toString());
    assertThat(get.code()).as(get.stderr()).isZero();
    assertThat(get.stdout()).isEqualTo(content);
    // The commit placed the blob in the cache: the read is a hit.
    assertThat(get.stderr()).contains("cache hit");
  }

  @Test
  void fileAboveOnePartRoundTripsThroughAChildProcess() throws Exception {
    byte[] content = new byte[17 * (1 << 20) + 123]; // above the 16 MiB default part size
    new Random(42).nextBytes(content);
    Path file = tmp.resolve("big.bin");
    Files.write(file, content);
    Digest digest = Digest.of(content);

    Result put = runChild(new byte[0], "put", file.toString(), "--json", "--label", "size=big");
    assertThat(put.code()).as(put.stderr()).isZero();
    assertThat(put.json().get("digest").asText()).isEqualTo(digest.toString());
    assertThat(put.json().get("size").asLong()).isEqualTo(content.length);

    Path out = tmp.resolve("back.bin");
    Result get = runChild(new byte[0], "get", digest.toString(), "-o", out.toString(),
        "--no-cache");
    assertThat(get.code()).as(get.stderr()).isZero();
    assertThat(Digest.of(Files.readAllBytes(out))).isEqualTo(digest);

    Result stdin = runChild("from a pipe".getBytes(StandardCharsets.UTF_8), "put");
    assertThat(stdin.code()).as(stdin.stderr()).isZero();
    assertThat(stdin.out().trim())
        .isEqualTo(Digest.of("from a pipe".getBytes(StandardCharsets.UTF_8)).toString());
  }

  @Test
  void lsFilterLabelsRefsAndRm() throws Exception {
    Digest ci = Digest.parse(run("ci".getBytes(StandardCharsets.UTF_8), "put", "-l", "team=ci")
        .out().trim());
    Digest web = Digest.parse(run("web".getBytes(StandardCharsets.UTF_8), "put", "-l", "team=web")
        .out().trim());

    JsonNode ls = run("ls", "--filter", "labels.team==ci", "--json").json();
    assertThat(ls).hasSize(1);
    assertThat(ls.get(0).get("digest").asText()).isEqualTo(ci.toString());

    assertThat(run("label", web.toString(), "team=ci", "stage=2").code()).isZero();
    assertThat(run("ls", "-f", "labels.team==ci", "--json").json()).hasSize(2);
    assertThat(run("label", web.toString(), "--remove", "stage", "--json").json()
        .get("labels").has("stage")).isFalse();

    assertThat(run("ref", ci.toString(), "--json").json().get("refCount").asLong()).isEqualTo(1);
    assertThat(run("link", ci.toString(), web.toString()).code()).isZero();
    assertThat(run("info", web.toString(), "--json").json().get("links").get(0).asText())
        .isEqualTo(ci.toString());
    assertThat(run("deref", web.toString()).code())
        .as("web was committed without a reference").isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(run("unlink", ci.toString(), web.toString()).code()).isZero();
    assertThat(run("info", ci.toString()).code()).isEqualTo(ExitCode.NOT_FOUND.code);

    assertThat(run("rm", web.toString()).code()).isZero();
    assertThat(run("get", web.toString()).code()).isEqualTo(ExitCode.NOT_FOUND.code);
    assertThat(run("ls", "--json").json()).isEmpty();
  }

  @Test
  void ingestAbortAndExitCodes() throws Exception {
    Digest expected = Digest.of("all of it".getBytes(StandardCharsets.UTF_8));
    Result wrong = run("only part".getBytes(StandardCharsets.UTF_8), "put", "--ref", "job-7",
        "--expect", expected.toString());
    assertThat(wrong.code()).isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(wrong.stderr().lines()).hasSize(1);

    JsonNode ingests = run("ingest", "ls", "--json").json();
    assertThat(ingests).hasSize(1);
    assertThat(ingests.get(0).get("ref").asText()).isEqualTo("job-7");
    assertThat(ingests.get(0).get("offset").asLong()).isEqualTo(9);
    assertThat(run("ingest", "abort", "job-7").code()).isZero();
    assertThat(run("ingest", "ls", "--json").json()).isEmpty();
    assertThat(run("ingest", "status", "job-7").code()).isEqualTo(ExitCode.NOT_FOUND.code);

    assertThat(run("get", expected.toString()).code()).isEqualTo(ExitCode.NOT_FOUND.code);
    Result invalid = run("info", "sha256:xyz");
    assertThat(invalid.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(invalid.stderr()).contains("sha256:xyz");
    assertThat(run("ls", "--filter", "labels.=").code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
  }

  @Test
  void terraformConfigDocumentSelectsTheStoreAndFlagsWin() throws Exception {
    Path config = tmp.resolve("coffer.json");
    // The document `terraform output -raw coffer_config_json` writes (format version 1).
    Files.writeString(config, JSON.writeValueAsString(Map.of("version", 1, "bucket", bucket,
        "prefix", prefix, "region", "us-east-1",
        "endpoint", S3Mock.get().endpoint().toString(), "pathStyle", true)));
    env.remove("COFFER_BUCKET");
    env.remove("COFFER_PREFIX");
    env.remove("COFFER_ENDPOINT");

    Result put = run("from config".getBytes(StandardCharsets.UTF_8), "put", "--config",
        config.toString());
    assertThat(put.code()).as(put.stderr()).isZero();
    assertThat(put.stderr()).doesNotContain("embedded");

    env.put("COFFER_CONFIG", config.toString());
    assertThat(run("ls", "--json").json()).hasSize(1);
    // A prefix flag beats the file: an empty store there.
    assertThat(run("ls", "--json", "--prefix", S3Mock.newPrefix()).json()).isEmpty();
    // The environment beats the file.
    env.put("COFFER_PREFIX", S3Mock.newPrefix());
    assertThat(run("ls", "--json").json()).isEmpty();
  }

  // ---- the command as a new user meets it (issue 20)

  /**
   * The README's first command with a fresh home directory prints exactly the README's lines: the
   * embedded server's start, what was stored and what was read; no JVM warnings, nothing else.
   */
  @Test
  void theReadmesFirstCommandPrintsTheReadmesLinesAndNothingElse() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("fresh-home"));
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      Launcher.Run first = launcher.bash("bin/coffer put README.md | xargs bin/coffer get",
          Map.of("HOME", home.toString()));

      byte[] readme = Files.readAllBytes(launcher.root().resolve("README.md"));
      assertThat(first.code()).as(first.stderr()).isZero();
      assertThat(first.stdout()).isEqualTo(readme);
      List<String> lines = first.errLines();
      assertThat(lines).as(first.stderr()).hasSize(4);
      String size = Pattern.quote(Sizes.format(readme.length));
      assertThat(lines.get(0)).matches("coffer: no bucket configured; starting the embedded S3"
          + " server on http://127\\.0\\.0\\.1:\\d+ \\(this machine only; credentials in "
          + Pattern.quote(home.resolve(".coffer/embedded/credentials").toString())
          + "\\) with its data in "
          + Pattern.quote(home.resolve(".coffer/embedded/s3").toString())
          + " \\(set COFFER_BUCKET to use S3\\)");
      assertThat(lines.get(1)).matches("coffer: the embedded server is up after \\d+\\.\\d s; it"
          + " keeps running for later commands \\(stop it with: kill \\d+\\)");
      assertThat(lines.get(2)).matches("stored " + size + " in \\d+\\.\\d\\d s \\([0-9.]+ "
          + "(B|KiB|MiB)/s\\)");
      assertThat(lines.get(3)).matches("read " + size + " in \\d+\\.\\d\\d s \\([0-9.]+ "
          + "(B|KiB|MiB)/s\\), cache hit \\(disk\\)");

      // The README shows the same lines (its numbers are an example run's).
      String block = readmeFirstRunBlock(new String(readme, StandardCharsets.UTF_8));
      List<String> shown = block.lines().toList();
      assertThat(shown).hasSize(5);
      assertThat(shown.get(0)).isEqualTo(
          "coffer: building the command-line tool (first run only; a minute or two)...");
      assertThat(shown.get(1)).matches("coffer: no bucket configured; starting the embedded S3"
          + " server on http://127\\.0\\.0\\.1:\\d+ \\(this machine only; credentials in \\S+\\)"
          + " with its data in \\S+ \\(set COFFER_BUCKET to use S3\\)");
      assertThat(shown.get(2)).matches("coffer: the embedded server is up after \\d+\\.\\d s; it"
          + " keeps running for later commands \\(stop it with: kill \\d+\\)");
      assertThat(shown.get(3)).matches("stored [0-9.]+ KiB in \\d+\\.\\d\\d s \\([0-9.]+ KiB/s\\)");
      assertThat(shown.get(4)).matches("read [0-9.]+ KiB in \\d+\\.\\d\\d s \\([0-9.]+ "
          + "(KiB|MiB)/s\\), cache hit \\(disk\\)");

      // A later command finds the server running and says nothing about it.
      Launcher.Run again = launcher.bash("bin/coffer ls -q", Map.of("HOME", home.toString()));
      assertThat(again.code()).isZero();
      assertThat(again.stderr()).isEmpty();
      assertThat(new String(again.stdout(), StandardCharsets.UTF_8).lines())
          .singleElement().asString().startsWith(Digest.of(readme) + "\t" + readme.length + "\t");
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  private static String readmeFirstRunBlock(String readme) {
    int at = readme.indexOf("```\ncoffer: building the command-line tool");
    assertThat(at).as("the README's first-run output block").isPositive();
    int start = at + 4;
    return readme.substring(start, readme.indexOf("```", start)).stripTrailing();
  }

  /**
   * The first-run build keeps Maven's output (and the colour codes Maven 3.8 prints even with -q
   * in batch mode) off the screen; a failed build shows its output without them. A stand-in
   * {@code mvn} on the PATH plays the build, so the test does not rebuild the project.
   */
  @Test
  void theFirstRunBuildShowsOneLineAndNoEscapeCodes() throws Exception {
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      Path root = launcher.root();
      Files.delete(root.resolve("store-cli/target/coffer.jar"));
      Path fakeBin = Files.createDirectories(tmp.resolve("fake-bin"));
      Path mvn = fakeBin.resolve("mvn");
      Files.writeString(mvn, "#!/bin/sh\n"
          + "printf '\\033[0m\\033[0m'\n"
          + "if [ -n \"$FAIL_BUILD\" ]; then\n"
          + "  printf '\\033[1;31m[ERROR]\\033[m it broke\\n'; exit 1\n"
          + "fi\n"
          + "cp '" + Launcher.projectRoot().resolve("store-cli/target/coffer.jar")
          + "' store-cli/target/coffer.jar\n");
      Files.setPosixFilePermissions(mvn, java.nio.file.attribute.PosixFilePermissions
          .fromString("rwxr-xr-x"));
      String path = fakeBin + ":" + System.getenv("PATH");

      Launcher.Run failed = launcher.run(List.of("bash", "-c", "PATH=" + path
          + " bin/coffer --version"), Map.of("HOME", tmp.toString(), "FAIL_BUILD", "1",
          "TMPDIR", tmp.toString()));
      assertThat(failed.code()).isEqualTo(1);
      assertThat(failed.stderr()).doesNotContain("\u001b");
      List<String> failure = failed.errLines();
      assertThat(failure).hasSize(3);
      assertThat(failure.get(0)).isEqualTo(
          "coffer: building the command-line tool (first run only; a minute or two)...");
      assertThat(failure.get(1)).isEqualTo("[ERROR] it broke");
      assertThat(failure.get(2)).matches("coffer: the build failed \\(its output is above, and in "
          + Pattern.quote(tmp.toString()) + "/coffer-build\\.\\w+\\)");

      Launcher.Run built = launcher.run(List.of("bash", "-c", "PATH=" + path
          + " bin/coffer --version"), Map.of("HOME", tmp.toString(), "TMPDIR", tmp.toString()));
      assertThat(built.code()).as(built.stderr()).isZero();
      assertThat(built.stderr()).isEqualTo(
          "coffer: building the command-line tool (first run only; a minute or two)...\n");
      assertThat(new String(built.stdout(), StandardCharsets.UTF_8)).startsWith("coffer ");
    }
  }

  /**
   * The embedded server's port is chosen once and kept beside its data: a restart listens where
   * other clients already point (CLI-4). A command that finds the server running says nothing.
   */
  @Test
  void theEmbeddedServerKeepsItsPortAcrossRestarts() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    env = new HashMap<>(Map.of("HOME", home.toString()));
    Pattern started = Pattern.compile("coffer: no bucket configured; starting the embedded S3"
        + " server on http://127\\.0\\.0\\.1:(\\d+) \\(this machine only; .*");
    try {
      Result first = run("ls");
      assertThat(first.code()).as(first.stderr()).isZero();
      Matcher firstPort = started.matcher(first.stderr().lines().findFirst().orElseThrow());
      assertThat(firstPort.matches()).as(first.stderr()).isTrue();
      Path portFile = home.resolve(".coffer/embedded/port");
      assertThat(Files.readString(portFile)).isEqualTo(firstPort.group(1) + "\n");

      Result running = run("ls");
      assertThat(running.code()).isZero();
      assertThat(running.stderr()).as("no notice while the server runs").isEmpty();

      Launcher.stopEmbeddedServer(home);
      Result restarted = run("ls");
      assertThat(restarted.code()).as(restarted.stderr()).isZero();
      Matcher secondPort = started.matcher(restarted.stderr().lines().findFirst().orElseThrow());
      assertThat(secondPort.matches()).as(restarted.stderr()).isTrue();
      assertThat(secondPort.group(1)).isEqualTo(firstPort.group(1));
      assertThat(restarted.stderr().lines()).hasSize(2);
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  /** A second process finds the disk cache held by another and says so in one line. */
  @Test
  void aSecondProcessOnAHeldCacheSaysSoInOneLine() throws Exception {
    Path cacheDir = tmp.resolve("cache");
    try (var holder = dev.coffer.store.cache.CachingStores.builder(
        dev.coffer.store.memory.MemoryStores.open())
        .config(dev.coffer.store.cache.CacheConfig.builder().directory(cacheDir).build())
        .build()) {
      Result put = runChild("held".getBytes(StandardCharsets.UTF_8), "put", "-q");
      assertThat(put.code()).as(put.stderr()).isZero();
      assertThat(put.stderr()).isEqualTo("WARN cache directory " + cacheDir
          + " is unusable (in use by another process); reading through without a disk tier\n");
    }
  }

  /**
   * A ref held by another writer's lease is awaited with a notice of when the lease lapses, and
   * taken over once its writer is gone; abort of a held ref says when it may be retried (CLI-5).
   */
  @Test
  void aLeasedRefIsAwaitedUntilItsLeaseLapsesAndAbortSaysWhen() throws Exception {
    String ref = "crashing-" + UUID.randomUUID();
    int partSize = 5 << 20;
    Process writer = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", System.getProperty("java.class.path"),
        dev.coffer.it.CrashingWriter.class.getName(), S3Mock.get().endpoint().toString(), bucket,
        prefix, ref, Integer.toString(partSize), "1", "100", "7").redirectErrorStream(true)
        .start();
    try {
      java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.InputStreamReader(
          writer.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = lines.readLine()) != null && !line.equals("READY")) {
        System.out.println("writer: " + line);
      }
      assertThat(line).isEqualTo("READY");

      Result abort = run("ingest", "abort", ref);
      assertThat(abort.code()).isEqualTo(ExitCode.UNAVAILABLE.code);
      assertThat(abort.stderr()).matches("coffer ingest abort: ref \"" + ref + "\" is locked by a"
          + " writer until \\d\\d:\\d\\d:\\d\\d \\(in \\d+ s\\); if that writer has stopped, its"
          + " lease lapses then: retry after it\n");

      byte[] content = new byte[partSize + 100];
      new Random(7).nextBytes(content);
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      CompletableFuture<Result> put = CompletableFuture.supplyAsync(
          () -> run(err, content, "put", "--ref", ref));
      await().atMost(Duration.ofMinutes(1))
          .until(() -> err.toString(StandardCharsets.UTF_8).contains("waiting"));
      writer.destroyForcibly().waitFor();

      Result result = put.get(2, TimeUnit.MINUTES);
      assertThat(result.code()).as(result.stderr()).isZero();
      assertThat(result.out()).isEqualTo(Digest.of(content) + "\n");
      List<String> notices = result.stderr().lines().toList();
      assertThat(notices).hasSize(3);
      assertThat(notices.get(0)).matches("coffer put: ref \"" + ref + "\" is locked by another"
          + " writer until \\d\\d:\\d\\d:\\d\\d \\(in \\d+ s\\); waiting for its lease to lapse"
          + " \\(a writer that is still running renews it\\)");
      assertThat(notices.get(1)).isEqualTo("coffer put: resuming ingest \"" + ref
          + "\" at 5.0 MiB");
      assertThat(notices.get(2)).matches("stored 5\\.0 MiB in \\d+\\.\\d\\d s .*");
    } finally {
      writer.destroyForcibly().waitFor();
    }
  }

  /**
   * The progress bar follows stderr: with stdout redirected to a file and stderr on a terminal,
   * a large put shows its phases: a put of a file its hash and its upload straight to the digest
   * key (PROTO-12, a stage with its time: the store reads the file itself); a put with a ref its
   * hash, the writer's upload bar and the commit's copy.
   */
  @Test
  void theProgressBarShowsWhenStderrIsATerminalAndStdoutIsAFile() throws Exception {
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      String direct = putOnATerminal(launcher, 3, "");
      assertThat(direct).contains("hash 100%")
          .containsPattern("upload: sending 17\\.0 MiB to its digest key, \\d:\\d\\d:\\d\\d")
          .containsPattern("stored 17\\.0 MiB in \\d+\\.\\d\\d s \\([0-9.]+ [KMG]iB/s; hash"
              + " \\d+\\.\\d\\d s; upload \\d+\\.\\d\\d s\\)");
      String written = putOnATerminal(launcher, 4, "--ref big-4 ");
      assertThat(written).contains("hash 100%").contains("upload 100%")
          .containsPattern("commit: copying 17\\.0 MiB to its digest key, \\d:\\d\\d:\\d\\d")
          .containsPattern("stored 17\\.0 MiB in \\d+\\.\\d\\d s \\([0-9.]+ [KMG]iB/s; hash"
              + " \\d+\\.\\d\\d s; upload \\d+\\.\\d\\d s; commit \\d+\\.\\d\\d s\\)");
    }
  }

  /** Puts 17 MiB of seeded bytes with stderr on a pseudo-terminal; returns what it showed. */
  private String putOnATerminal(Launcher launcher, int seed, String options) throws Exception {
    byte[] content = new byte[17 << 20];
    new Random(seed).nextBytes(content);
    Path big = Files.write(tmp.resolve("big-" + seed + ".bin"), content);
    Path digestFile = tmp.resolve("digest-" + seed + ".txt");
    Path screen = tmp.resolve("screen-" + seed + ".txt");
    Map<String, String> childEnv = new HashMap<>(env);
    childEnv.put("AWS_ACCESS_KEY_ID", "coffer");
    childEnv.put("AWS_SECRET_ACCESS_KEY", "coffer");
    childEnv.put("COFFER_CDS", "0");
    // script(1) runs the command on a pseudo-terminal and copies what it shows into the file.
    Launcher.Run run = launcher.run(List.of("script", "-qec", "bin/coffer put " + options + big
        + " > " + digestFile, screen.toString()), childEnv);
    assertThat(run.code()).as(Files.readString(screen)).isZero();
    assertThat(Files.readString(digestFile)).isEqualTo(Digest.of(content) + "\n");
    return Files.readString(screen).replace('\r', '\n');
  }

  /** A file that cannot be read fails before anything is stored: no ingest is left (CLI-2). */
  @Test
  void anUnreadableFileFailsInOneLineAndLeavesNoIngest() throws Exception {
    byte[] content = new byte[17 << 20];
    Path locked = Files.write(tmp.resolve("locked.bin"), content);
    Files.setPosixFilePermissions(locked, java.nio.file.attribute.PosixFilePermissions
        .fromString("---------"));
    // Root reads any file; without its capabilities it cannot, as any other user.
    List<String> dropRoot = "root".equals(System.getProperty("user.name"))
        ? List.of("setpriv", "--bounding-set", "-all", "--inh-caps", "-all") : List.of();
    Result put = runChildAs(dropRoot, new byte[0], "put", locked.toString());
    assertThat(put.code()).isEqualTo(ExitCode.IO.code);
    assertThat(put.stderr()).isEqualTo("coffer put: cannot read " + locked
        + ": permission denied; check its permissions\n");
    assertThat(run("ingest", "ls", "--json").json()).isEmpty();
  }

  /**
   * A blob whose record is there but whose object was removed behind the store's back reads as
   * a one-line explanation with what to do, and doing it stores the content again.
   */
  @Test
  void aBlobWhoseObjectIsGoneSaysWhatHappenedAndHowToRestoreIt() throws Exception {
    byte[] content = "object gone\n".getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(content);
    assertThat(run(content, "put", "-q").code()).isZero();
    try (var s3 = S3Mock.get().client()) {
      s3.deleteObject(b -> b.bucket(bucket).key(prefix + "blobs/sha256/" + digest.hex()));
    }

    Result get = run("get", digest.toString(), "--no-cache");
    assertThat(get.code()).isEqualTo(ExitCode.NOT_FOUND.code);
    assertThat(get.stderr()).isEqualTo("coffer get: the content of blob " + digest + " is missing"
        + " from the bucket, though its record is there (deleted outside coffer?); 'coffer fsck'"
        + " lists such blobs; to store it again: coffer rm " + digest + ", then put the same"
        + " content\n");

    assertThat(run("rm", digest.toString()).code()).isZero();
    assertThat(run(content, "put", "-q").code()).isZero();
    Result again = run("get", digest.toString(), "--no-cache");
    assertThat(again.code()).as(again.stderr()).isZero();
    assertThat(again.stdout()).isEqualTo(content);
  }
}
