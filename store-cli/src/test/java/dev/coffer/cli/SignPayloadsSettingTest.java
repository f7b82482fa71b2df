package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3server.Credentials;
import dev.coffer.s3server.EmbeddedS3Server;
import dev.coffer.s3sim.Storage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command's {@code signPayloads} setting ({@code COFFER_SIGN_PAYLOADS}, the config file's
 * {@code signPayloads}) reaches the store it opens (INT-6 of docs/architecture.md): {@code coffer
 * put} in a JVM of its own, over {@code http://} to the embedded server (which checks signatures
 * and checksums), through a relay that keeps what crossed the wire. Off, the default, every body
 * goes as {@code UNSIGNED-PAYLOAD}; on, every one as SigV4's signed chunks; either way the blob
 * is stored and read back whole.
 */
class SignPayloadsSettingTest {

  @TempDir
  Path tmp;

  @Test
  void offBodiesGoUnsigned() throws Exception {
    assertThat(payloadModesOfAPut(Map.of())).containsOnly("UNSIGNED-PAYLOAD");
  }

  @Test
  void onFromTheEnvironmentBodiesGoSigned() throws Exception {
    assertThat(payloadModesOfAPut(Map.of("COFFER_SIGN_PAYLOADS", "true")))
        .containsOnly("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  }

  @Test
  void onFromTheConfigFileBodiesGoSigned() throws Exception {
    Path config = tmp.resolve("coffer.json");
    Files.writeString(config, "{\"version\": 1, \"bucket\": \"coffer\", \"signPayloads\": true}");
    assertThat(payloadModesOfAPut(Map.of("COFFER_CONFIG", config.toString())))
        .containsOnly("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  }

  /**
   * Runs {@code coffer put} of a small file and {@code coffer get} of it with {@code env} added,
   * checks the bytes read back, and returns the {@code x-amz-content-sha256} of each PutObject
   * sent with a body (the blob's and its record's; not tagging nor copies), one per request.
   */
  private List<String> payloadModesOfAPut(Map<String, String> env) throws Exception {
    Credentials credentials = Credentials.random();
    byte[] content = "signed or not".getBytes(StandardCharsets.UTF_8);
    Path file = Files.write(tmp.resolve("file"), content);
    try (EmbeddedS3Server server = EmbeddedS3Server.builder().storage(Storage.inMemory())
            .credentials(credentials).bucket("coffer").start();
        RecordingRelay relay = new RecordingRelay(server.endpoint())) {
      Map<String, String> vars = new java.util.HashMap<>(env);
      vars.put("COFFER_BUCKET", "coffer");
      vars.put("COFFER_ENDPOINT", relay.endpoint().toString());
      vars.put("AWS_REGION", "us-east-1");
      vars.put("AWS_ACCESS_KEY_ID", credentials.accessKeyId());
      vars.put("AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey());
      String digest = CofferJvm.run(tmp, vars, "put", "--no-cache", "-q", file.toString()).trim();
      Path back = tmp.resolve("back");
      CofferJvm.run(tmp, vars, "get", "--no-cache", digest, "-o", back.toString());
      assertThat(Files.readAllBytes(back)).isEqualTo(content);

      List<String> modes = new ArrayList<>();
      for (RecordingRelay.Request r : relay.requests()) {
        if (r.method().equals("PUT") && !r.target().contains("tagging")
            && !r.headers().containsKey("x-amz-copy-source")) {
          modes.add(r.headers().getOrDefault("x-amz-content-sha256", "none"));
        }
      }
      assertThat(relay.requests()).anyMatch(r -> r.method().equals("PUT")
          && r.target().contains(digest.substring("sha256:".length())));
      assertThat(modes).as("the blob's PutObject and its record's").hasSizeGreaterThanOrEqualTo(2);
      return modes;
    }
  }
}
