package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code coffer} command against the S3 store on S3Mock, in-process (through the same connector
 * as {@code main}) and as a child JVM, with the cache on.
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
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Coffer.run(args, new ByteArrayInputStream(stdin), new PrintStream(out, true),
        new PrintStream(err, true), env, new DefaultConnector(), false);
    return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  private Result run(String... args) {
    return run(new byte[0], args);
  }

  /** Runs {@code coffer} in a child JVM with this JVM's class path and the test environment. */
  private Result runChild(byte[] stdin, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(
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
    assertThat(run("link", web.toString(), ci.toString()).code()).isZero();
    assertThat(run("info", web.toString(), "--json").json().get("links").get(0).asText())
        .isEqualTo(ci.toString());
    assertThat(run("deref", web.toString()).code())
        .as("web was committed without a reference").isEqualTo(ExitCode.FAILED_PRECONDITION.code);
    assertThat(run("unlink", web.toString(), ci.toString()).code()).isZero();
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
}
