package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the CLI in-process over an in-memory store and checks outputs, stored bytes and exit codes. */
class CofferCommandTest {

  private final ContentStore store = MemoryStores.open();
  private final Map<String, String> env = new HashMap<>();
  @TempDir
  Path tmp;

  record Result(int code, byte[] stdout, String stderr) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    JsonNode json() throws Exception {
      return new ObjectMapper().readTree(stdout);
    }
  }

  private Result run(byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    env.putIfAbsent("HOME", tmp.toString());
    int code = Coffer.run(args, new ByteArrayInputStream(stdin), new PrintStream(out, true),
        new PrintStream(err, true), env, (settings, notices) -> store, false);
    return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  private Result run(String... args) {
    return run(new byte[0], args);
  }

  @Test
  void putFromStdinThenGetReturnsTheSameBytes() {
    byte[] content = "hello coffer\n".getBytes(StandardCharsets.UTF_8);
    Result put = run(content, "put", "-");
    assertThat(put.code()).isZero();
    assertThat(put.out().trim()).isEqualTo(Digest.of(content).toString());
    assertThat(put.stderr()).contains("stored 13 B");

    Result get = run("get", Digest.of(content).toString());
    assertThat(get.code()).isZero();
    assertThat(get.stdout()).isEqualTo(content);
  }

  @Test
  void putOfAFileWithLabelsAndExpectedDigestThenGetToAFileAndARange() throws Exception {
    byte[] content = new byte[3 * (1 << 20) + 17];
    new Random(7).nextBytes(content);
    Path file = tmp.resolve("artefact.bin");
    Files.write(file, content);
    Digest digest = Digest.of(content);

    Result put = run("put", file.toString(), "--label", "team=ci", "-l", "kind=test",
        "--expect", digest.toString(), "--json");
    assertThat(put.code()).as(put.stderr()).isZero();
    JsonNode json = put.json();
    assertThat(json.get("digest").asText()).isEqualTo(digest.toString());
    assertThat(json.get("size").asLong()).isEqualTo(content.length);
    assertThat(json.get("stored").asBoolean()).isTrue();
    assertThat(store.info(digest).labels()).containsEntry("team", "ci").containsEntry("kind", "test");

    Path out = tmp.resolve("copy.bin");
    assertThat(run("get", digest.toString(), "-o", out.toString()).code()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(content);

    Result range = run("get", digest.toString(), "--range", "10-19");
    assertThat(range.stdout()).isEqualTo(java.util.Arrays.copyOfRange(content, 10, 20));
    Result tail = run("get", digest.toString(), "--range", (content.length - 5) + "-");
    assertThat(tail.stdout()).isEqualTo(
        java.util.Arrays.copyOfRange(content, content.length - 5, content.length));

    Result again = run("put", file.toString(), "--json");
    assertThat(again.code()).isZero();
    assertThat(again.json().get("stored").asBoolean()).isFalse();
  }

  @Test
  void putFromStdinResumesAnIngestWithoutWritingItsBytesTwice() {
    byte[] content = "abcdef".getBytes(StandardCharsets.UTF_8);
    try (Writer w = store.writer("resume-me", Descriptor.UNKNOWN)) {
      w.write(content, 0, 3);
    }
    Result put = run(content, "put", "--ref", "resume-me", "--json");
    assertThat(put.code()).as(put.stderr()).isZero();
    Digest digest = Digest.of(content);
    assertThat(store.info(digest).size()).isEqualTo(6);
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(content);

    try (Writer w = store.writer("short", Descriptor.UNKNOWN)) {
      w.write(content);
    }
    Result tooShort = run("ab".getBytes(StandardCharsets.UTF_8), "put", "--ref", "short");
    assertThat(tooShort.code()).isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(tooShort.stderr()).contains("shorter than the 6 bytes");
  }

  @Test
  void putOfStoredContentStillSetsItsLabels() throws Exception {
    Digest digest = put("labelled later", Map.of());
    Result put = run("labelled later".getBytes(StandardCharsets.UTF_8), "put", "--expect",
        digest.toString(), "-l", "team=ci", "--json");
    assertThat(put.code()).as(put.stderr()).isZero();
    assertThat(put.json().get("stored").asBoolean()).isFalse();
    assertThat(put.json().get("size").asLong()).isEqualTo(14);
    assertThat(store.info(digest).labels()).containsEntry("team", "ci");
  }

  @Test
  void getToAPipeWritesIntoItAndNeverReplacesIt() throws Exception {
    byte[] content = "through a pipe".getBytes(StandardCharsets.UTF_8);
    Digest digest = put("through a pipe", Map.of());
    Path fifo = tmp.resolve("fifo");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    java.util.concurrent.CompletableFuture<byte[]> drained =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try {
            return Files.readAllBytes(fifo);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
    Result get = run("get", digest.toString(), "-o", fifo.toString());
    assertThat(get.code()).as(get.stderr()).isZero();
    assertThat(drained.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(content);
    assertThat(Files.isRegularFile(fifo, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.readAttributes(fifo, java.nio.file.attribute.BasicFileAttributes.class).isOther())
        .as("still a pipe").isTrue();
  }

  @Test
  void putWithTheWrongExpectedDigestFailsWithFailedPreconditionAndStoresNothing() {
    Digest wrong = Digest.of("other".getBytes(StandardCharsets.UTF_8));
    Result put = run("abc".getBytes(StandardCharsets.UTF_8), "put", "--expect", wrong.toString(),
        "--ref", "r1");
    assertThat(put.code()).isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(put.stderr()).isEqualTo("coffer put: stdin has digest "
        + Digest.of("abc".getBytes(StandardCharsets.UTF_8)) + ", not the expected " + wrong
        + "; nothing stored; ingest \"r1\" keeps its 3 bytes: a put --ref r1 of the whole input"
        + " resumes it, or remove it with: coffer ingest abort r1\n");
    java.util.List<Digest> all = new java.util.ArrayList<>();
    store.walk(i -> all.add(i.digest()));
    assertThat(all).isEmpty();
  }

  @Test
  void lsFiltersByLabelAndPrintsJson() throws Exception {
    Digest a = put("a", Map.of("team", "ci"));
    Digest b = put("b", Map.of("team", "web"));
    put("c", Map.of());

    Result ls = run("ls", "--filter", "labels.team==ci", "--json");
    assertThat(ls.code()).isZero();
    JsonNode array = ls.json();
    assertThat(array).hasSize(1);
    assertThat(array.get(0).get("digest").asText()).isEqualTo(a.toString());

    Result either = run("ls", "-f", "labels.team==ci", "-f", "labels.team==web");
    assertThat(either.out().lines()).hasSize(2).anyMatch(l -> l.startsWith(b.toString()));
    assertThat(run("ls").out().lines()).hasSize(3);
  }

  @Test
  void labelSetsAndRemovesLabels() throws Exception {
    Digest a = put("a", Map.of("keep", "1", "drop", "2"));
    Result label = run("label", a.toString(), "new=3", "--remove", "drop", "--json");
    assertThat(label.code()).as(label.stderr()).isZero();
    assertThat(store.info(a).labels()).containsOnly(Map.entry("keep", "1"), Map.entry("new", "3"));
    assertThat(label.json().get("labels").get("new").asText()).isEqualTo("3");
  }

  @Test
  void refDerefLinkUnlinkAndRm() throws Exception {
    Digest manifest = putReferenced("manifest");
    Digest layer = putReferenced("layer");

    assertThat(run("ref", layer.toString()).out()).contains("\t2");
    assertThat(run("link", layer.toString(), manifest.toString()).code()).isZero();
    assertThat(store.info(manifest).links()).containsExactly(layer);
    assertThat(store.info(layer).refCount()).isEqualTo(2);

    Result unlink = run("unlink", layer.toString(), manifest.toString(), "--json");
    assertThat(unlink.code()).isZero();
    assertThat(store.info(layer).refCount()).isEqualTo(1);

    Result deref = run("deref", layer.toString(), "--json");
    assertThat(deref.json().get("removed").asBoolean()).isTrue();
    assertThat(run("info", layer.toString()).code()).isEqualTo(ExitCode.NOT_FOUND.code);

    assertThat(run("rm", manifest.toString()).code()).isZero();
    assertThat(run("info", manifest.toString()).code()).isEqualTo(ExitCode.NOT_FOUND.code);
  }

  @Test
  void ingestLsStatusAndAbort() throws Exception {
    Writer writer = store.writer("build-42", Descriptor.UNKNOWN);
    writer.write(new byte[100]);
    writer.close();

    Result ls = run("ingest", "ls", "--filter", "ref~=^build-", "--json");
    assertThat(ls.code()).isZero();
    assertThat(ls.json()).hasSize(1);
    assertThat(ls.json().get(0).get("offset").asLong()).isEqualTo(100);
    assertThat(run("ingest", "status", "build-42").out()).contains("offset:    100");

    assertThat(run("ingest", "abort", "build-42").code()).isZero();
    assertThat(store.listStatuses()).isEmpty();
    assertThat(run("ingest", "abort", "build-42").code()).isEqualTo(ExitCode.NOT_FOUND.code);
  }

  @Test
  void errorsAreOneLineWithADistinctExitCode() {
    Result notFound = run("get", Digest.of(new byte[] {1}).toString());
    assertThat(notFound.code()).isEqualTo(ExitCode.NOT_FOUND.code);
    assertThat(notFound.stderr().lines()).hasSize(1);
    assertThat(notFound.stderr()).contains(Digest.of(new byte[] {1}).toString());

    Result invalid = run("info", "sha256:nothex");
    assertThat(invalid.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(invalid.stderr()).contains("sha256:nothex").doesNotContain("Exception");

    Result badFilter = run("ls", "--filter", "labels.\"unterminated");
    assertThat(badFilter.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(badFilter.stderr()).contains("invalid filter");

    Result debug = run("info", "sha256:nothex", "--debug");
    assertThat(debug.stderr()).contains("InvalidArgumentException");

    assertThat(run("no-such-command").code()).isEqualTo(ExitCode.USAGE.code);
    assertThat(run("get", "sha256:" + "0".repeat(64), "--range", "9-1").code())
        .isEqualTo(ExitCode.NOT_FOUND.code);
  }

  @Test
  void helpListsTheExitCodes() {
    Result help = run("--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("Exit codes:").contains(" 4  not found")
        .contains("put").contains("ingest");
  }

  @Test
  void configFileIsReadAndMalformedConfigIsAConfigError() throws Exception {
    Path config = tmp.resolve("coffer.json");
    Files.writeString(config, "{ not json");
    Result bad = run("ls", "--config", config.toString());
    assertThat(bad.code()).isEqualTo(ExitCode.CONFIG.code);
    assertThat(bad.stderr()).contains(config.toString());
  }

  @Test
  void helpFooterNamesEveryConfigurationVariable() {
    Result help = run("--help");
    String footer = help.out().substring(help.out().indexOf("Configuration (highest first):"));
    for (ConfigSources.Key key : ConfigSources.Key.values()) {
      assertThat(footer).as("the help footer names " + key).contains(key.variable());
    }
  }

  @Test
  void everyCommandSummaryInHelpIsWholeAndEveryCommandTakesHelp() {
    Result help = run("--help");
    assertThat(help.code()).isZero();
    List<String> lines = help.out().lines().toList();
    int commands = lines.indexOf("Commands:");
    int end = lines.indexOf("Configuration (highest first):");
    assertThat(commands).isPositive();
    List<String> summaries = new java.util.ArrayList<>();
    for (String line : lines.subList(commands + 1, end)) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("            ")) {
        summaries.set(summaries.size() - 1, summaries.get(summaries.size() - 1) + " "
            + line.trim());
      } else {
        summaries.add(line.trim());
      }
    }
    assertThat(summaries).hasSize(19).allSatisfy(summary -> assertThat(summary).endsWith("."));
    for (String line : lines.subList(end + 1, lines.size())) {
      assertThat(line).as("a footer line that was not cut").matches("|  .*|Exit codes:");
    }
    assertThat(lines.subList(lines.indexOf("Exit codes:") + 1, lines.size()).stream()
        .filter(l -> !l.isEmpty()).toList())
        .hasSize(ExitCode.values().length).allMatch(l -> l.matches(" {2,3}\\d{1,2}  \\S.*"));
    for (String command : List.of("put", "get", "info", "ls", "label", "rm", "ref", "deref",
        "link", "unlink", "ingest", "gc", "fsck", "cache", "serve", "stats", "du")) {
      Result commandHelp = run(command, "--help");
      assertThat(commandHelp.code()).as(command + " --help: " + commandHelp.stderr()).isZero();
      assertThat(commandHelp.out()).startsWith("Usage: coffer " + command);
    }
    assertThat(run("ingest", "abort", "--help").out()).startsWith("Usage: coffer ingest abort");
  }

  @Test
  void cacheStatsPrintsJson() throws Exception {
    Path cacheDir = tmp.resolve("cache");
    try (ContentStore cached = dev.coffer.store.cache.CachingStores.builder(MemoryStores.open())
        .config(dev.coffer.store.cache.CacheConfig.builder().directory(cacheDir).build())
        .build()) {
      env.put("COFFER_CACHE_DIR", cacheDir.toString());
      Cli cli = new Cli(cached);
      cli.env.putAll(env);
      Cli.Result stats = cli.run("cache", "stats", "--json");
      assertThat(stats.code()).as(stats.stderr()).isZero();
      JsonNode json = stats.json();
      assertThat(json.get("totalLoadSeconds").asDouble()).isZero();
      assertThat(json.get("diskHits").asLong()).isZero();
      assertThat(json.get("diskDegraded").asBoolean()).isFalse();
      assertThat(json.get("directory").asText()).isEqualTo(cacheDir.toString());
      assertThat(json.get("diskMaxBytes").asLong()).isEqualTo(Settings.DEFAULT_DISK_CACHE_BYTES);
    }
  }

  @Test
  void gcTakesTheSameDurationsAsTheEnvironment() {
    for (String age : List.of("1h", "90m", "7d", "PT12H")) {
      Result gc = run("gc", "--ingest-age", age, "--dry-run");
      assertThat(gc.code()).as(age + ": " + gc.stderr()).isZero();
    }
    Result bad = run("gc", "--ingest-age", "soon");
    assertThat(bad.code()).isEqualTo(ExitCode.USAGE.code);
    assertThat(bad.stderr()).contains("invalid duration \"soon\": expected a duration such as"
        + " 90s, 15m, 2h, 7d or PT15M");
  }

  @Test
  void ingestErrorsNameTheWholeCommand() {
    assertThat(run("ingest", "status", "nope").stderr())
        .isEqualTo("coffer ingest status: no ingest with ref \"nope\"\n");
    assertThat(run("ingest", "abort", "nope").stderr())
        .isEqualTo("coffer ingest abort: no ingest with ref \"nope\"\n");
  }

  @Test
  void filtersOnUnknownFieldsOrWithUnknownOperatorsAreInvalid() {
    Result operator = run("ls", "--filter", "labels.team===ci");
    assertThat(operator.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(operator.stderr()).isEqualTo("coffer ls: invalid filter \"labels.team===ci\" at"
        + " position 11: unsupported operator \"===\": expected an operator (==, !=, ~=, <, >)\n");
    Result field = run("ls", "--filter", "labels.team==ci", "--filter", "foo==bar");
    assertThat(field.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(field.stderr()).isEqualTo("coffer ls: invalid filter \"foo==bar\": unknown field"
        + " \"foo\"; blobs have digest, createdAt, updatedAt,"
        + " lastUsedAt and labels.<key>\n");
    Result bare = run("ls", "--filter", "labels");
    assertThat(bare.stderr()).isEqualTo("coffer ls: invalid filter \"labels\": field \"labels\""
        + " needs a key (labels.<key>); blobs have digest, createdAt, updatedAt,"
        + " lastUsedAt and labels.<key>\n");
    Result ingest = run("ingest", "ls", "--filter", "digest==x");
    assertThat(ingest.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(ingest.stderr()).isEqualTo("coffer ingest ls: invalid filter \"digest==x\":"
        + " unknown field \"digest\"; ingests have ref\n");
    assertThat(run("ls", "--filter", "digest", "--filter", "labels.\"a.b\"~=x").code()).isZero();
  }

  @Test
  void infoJsonSaysTheBlobIsLive() throws Exception {
    Digest a = put("a", Map.of());
    JsonNode info = run("info", a.toString(), "--json").json();
    assertThat(info.get("state").asText()).isEqualTo("live");
    assertThat(run("ls", "--json").json().get(0).get("state").asText()).isEqualTo("live");
  }

  @Test
  void aMissingConfigFileIsNamedOnceWithWhatToDo() {
    Path missing = tmp.resolve("missing.json");
    Result ls = run("ls", "--config", missing.toString());
    assertThat(ls.code()).isEqualTo(ExitCode.CONFIG.code);
    assertThat(ls.stderr()).isEqualTo("coffer ls: config file " + missing + " does not exist;"
        + " check --config or COFFER_CONFIG\n");
  }

  @Test
  void serveWithoutABucketNamesTheEmbeddedServersBucket() throws Exception {
    Path socket = tmp.resolve("coffer.sock");
    Path state = tmp.resolve("state");
    CountDownLatch serving = new CountDownLatch(1);
    ByteArrayOutputStream err = new ByteArrayOutputStream() {
      @Override
      public synchronized void write(byte[] b, int off, int len) {
        super.write(b, off, len);
        if (toString(StandardCharsets.UTF_8).contains("coffer: serving")) {
          serving.countDown();
        }
      }
    };
    env.put("HOME", tmp.toString());
    int[] code = {-1};
    Thread serve = new Thread(() -> code[0] = Coffer.run(new String[] {"serve",
        "--containerd-socket", socket.toString(), "--holder-id", "host-1", "--state-dir",
        state.toString()}, new ByteArrayInputStream(new byte[0]),
        new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(err, true), env,
        (settings, notices) -> store, false));
    serve.start();
    assertThat(serving.await(30, TimeUnit.SECONDS)).as("started: %s", err).isTrue();
    serve.interrupt(); // as SIGTERM would: the server stops and says so
    serve.join(TimeUnit.SECONDS.toMillis(30));

    assertThat(serve.isAlive()).isFalse();
    assertThat(code[0]).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8).lines()).containsExactly(
        "coffer: serving containerd's content service on unix://" + socket + " (mode 0600)"
            + " (the embedded server's bucket coffer; holder host-1, holds in "
            + state.resolve("holds").resolve("host-1") + ")",
        "coffer: stopped serving " + socket);
  }

  private Digest put(String text, Map<String, String> labels) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    Content.writeBlob(store, "ref-" + text, new ByteArrayInputStream(bytes),
        Descriptor.of(Digest.of(bytes), bytes.length), labels);
    return Digest.of(bytes);
  }

  private Digest putReferenced(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    try (Writer w = store.writer("ref-" + text, Descriptor.UNKNOWN)) {
      w.write(bytes);
      return w.commitAndRef(bytes.length, null, Map.of()).digest();
    }
  }
}
