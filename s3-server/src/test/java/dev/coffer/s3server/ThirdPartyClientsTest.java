package dev.coffer.s3server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coffer.s3sim.Storage;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * Other S3 clients read what the store wrote through the server, signing with the installation's
 * credentials file as the README shows: the AWS CLI and rclone, each skipped (with the reason
 * printed) where it is not installed. One blob is a single PutObject, the other a multipart upload.
 */
class ThirdPartyClientsTest {
  @TempDir
  Path dir;

  private EmbeddedS3Server server;
  private Path credentialsFile;
  private Credentials credentials;
  private final Map<Digest, byte[]> blobs = new HashMap<>();

  @BeforeEach
  void writeWithTheStore() throws IOException {
    credentialsFile = dir.resolve("credentials");
    credentials = Credentials.loadOrCreate(credentialsFile);
    server = EmbeddedS3Server.builder().storage(Storage.onDisk(dir.resolve("data")))
        .credentials(credentials).bucket("coffer").start();
    S3StoreConfig config = S3StoreConfig.builder().bucket("coffer").prefix("p/")
        .region("us-east-1").pathStyle(true).endpoint(server.endpoint()).partSize(5 << 20)
        .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(
            credentials.accessKeyId(), credentials.secretAccessKey())))
        .build();
    try (ContentStore store = S3Stores.open(config)) {
      byte[] small = "what coffer wrote\n".getBytes(StandardCharsets.UTF_8);
      byte[] large = new byte[(5 << 20) * 2 + 12345];
      new Random(3).nextBytes(large);
      for (byte[] content : List.of(small, large)) {
        blobs.put(store.putAndRef(content, null, Map.of()).digest(), content);
      }
    }
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static String key(Digest digest) {
    return "p/blobs/" + digest.algorithm().label() + "/" + digest.hex();
  }

  @Test
  void theAwsCliReadsWhatTheStoreWrote() throws Exception {
    assumeInstalled("aws");
    Map<String, String> env = Map.of("AWS_SHARED_CREDENTIALS_FILE", credentialsFile.toString(),
        "AWS_CONFIG_FILE", "/dev/null", "AWS_DEFAULT_REGION", "us-east-1",
        "AWS_EC2_METADATA_DISABLED", "true");
    // One command lists the blobs and copies each (the AWS CLI takes seconds to start).
    Path out = dir.resolve("aws");
    Result cp = run(env, "aws", "--endpoint-url", server.endpoint().toString(), "s3", "cp",
        "--recursive", "s3://coffer/p/blobs/", out.toString());
    assertThat(cp.code()).as(cp.output()).isZero();
    for (Map.Entry<Digest, byte[]> blob : blobs.entrySet()) {
      assertThat(Files.readAllBytes(out.resolve(blob.getKey().algorithm().label())
          .resolve(blob.getKey().hex()))).isEqualTo(blob.getValue());
    }
    // Without the credentials file the same CLI is refused.
    Result anonymous = run(Map.of("AWS_CONFIG_FILE", "/dev/null", "AWS_DEFAULT_REGION",
        "us-east-1", "AWS_EC2_METADATA_DISABLED", "true"), "aws", "--no-sign-request",
        "--endpoint-url", server.endpoint().toString(), "s3", "ls", "s3://coffer/");
    assertThat(anonymous.code()).isNotZero();
    assertThat(anonymous.output()).contains("AccessDenied");
  }

  @Test
  void rcloneReadsWhatTheStoreWrote() throws Exception {
    assumeInstalled("rclone");
    Path config = Files.createFile(dir.resolve("rclone.conf"));
    Map<String, String> env = Map.of("RCLONE_CONFIG", config.toString(),
        "RCLONE_CONFIG_EMB_TYPE", "s3", "RCLONE_CONFIG_EMB_PROVIDER", "Other",
        "RCLONE_CONFIG_EMB_ACCESS_KEY_ID", credentials.accessKeyId(),
        "RCLONE_CONFIG_EMB_SECRET_ACCESS_KEY", credentials.secretAccessKey(),
        "RCLONE_CONFIG_EMB_ENDPOINT", server.endpoint().toString(),
        "RCLONE_CONFIG_EMB_REGION", "us-east-1", "RCLONE_CONFIG_EMB_FORCE_PATH_STYLE", "true",
        // The server answers ListObjectsV2 only; rclone asks v1 of an "Other" provider.
        "RCLONE_CONFIG_EMB_LIST_VERSION", "2");
    for (Map.Entry<Digest, byte[]> blob : blobs.entrySet()) {
      Path out = dir.resolve("rclone-" + blob.getKey().hex());
      Result copy = run(env, "rclone", "copyto", "emb:coffer/" + key(blob.getKey()),
          out.toString());
      assertThat(copy.code()).as(copy.output()).isZero();
      assertThat(Files.readAllBytes(out)).isEqualTo(blob.getValue());
    }
    Result lsf = run(env, "rclone", "lsf", "emb:coffer/p/blobs/sha256/");
    assertThat(lsf.code()).as(lsf.output()).isZero();
    blobs.keySet().forEach(d -> assertThat(lsf.output()).contains(d.hex()));
  }

  private static void assumeInstalled(String program) {
    boolean found = false;
    for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      found |= Files.isExecutable(Path.of(entry, program));
    }
    if (!found) {
      System.out.println("skipped: " + program + " is not installed (not on PATH)");
    }
    assumeTrue(found, program + " is not installed (not on PATH)");
  }

  private record Result(int code, String output) {}

  private Result run(Map<String, String> env, String... command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(command)))
        .redirectErrorStream(true).directory(dir.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("RCLONE_"));
    builder.environment().putAll(env);
    Process process = builder.start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(2, TimeUnit.MINUTES)).isTrue();
    return new Result(process.exitValue(), output);
  }
}
