package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The config document is the Terraform module's: version 1 and a bucket, a prefix the module
 * would accept; and an endpoint that sends credentials in the clear draws a warning.
 */
class ConfigDocumentTest {

  @TempDir
  Path tmp;

  private Settings resolve(String document) throws Exception {
    Path config = Files.writeString(tmp.resolve("coffer.json"), document);
    return ParsedSettings.resolve(new Settings.Flags(config.toString(), null, null, null, null, null,
        null, null, null), Map.of("HOME", tmp.toString()));
  }

  @Test
  void aDocumentWithoutVersionOneIsRefused() {
    Path config = tmp.resolve("coffer.json");
    assertThatThrownBy(() -> resolve("{\"bucket\": \"b\"}"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid config file " + config + ": no \"version\" (expected 1, as the"
            + " Terraform module's coffer_config_json)");
    assertThatThrownBy(() -> resolve("{\"version\": 2, \"bucket\": \"b\"}"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid config file " + config + ": version 2 is not supported (expected 1)");
    assertThatThrownBy(() -> resolve("{\"version\": \"1\", \"bucket\": \"b\"}"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("version \"1\"");
  }

  @Test
  void aDocumentWithoutABucketIsRefusedInsteadOfFallingBackToTheEmbeddedServer() {
    for (String document : new String[] {"{\"version\": 1}", "{\"version\": 1, \"bucket\": \"\"}",
        "{\"version\": 1, \"bucket\": null}", "{\"version\": 1, \"bucket\": 7}"}) {
      assertThatThrownBy(() -> resolve(document)).as(document)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("coffer.json: no \"bucket\"");
    }
  }

  @Test
  void theCliExitsWithAConfigErrorEvenWhenQuiet() throws Exception {
    Path config = Files.writeString(tmp.resolve("coffer.json"), "{\"version\": 1}");
    ContentStore store = MemoryStores.open();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Coffer.run(new String[] {"ls", "-q", "--config", config.toString()},
        new ByteArrayInputStream(new byte[0]), new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(err, true), Map.of("HOME", tmp.toString()),
        (settings, notices) -> store, false);
    assertThat(code).isEqualTo(ExitCode.CONFIG.code);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("coffer ls: invalid config file "
        + config + ": no \"bucket\" (a config file names the bucket; without one, leave out"
        + " --config to use the embedded server)\n");
  }

  @Test
  void prefixesAreTheTerraformModulesOnes() throws Exception {
    assertThat(resolve("{\"version\": 1, \"bucket\": \"b\", \"prefix\": \"farm/eu/\"}").prefix())
        .isEqualTo("farm/eu/");
    for (String prefix : new String[] {"/abs/", "a//b/", "../x/", ".hidden/", "sp ace/", "a*/",
        "_x/", "p/" + "a".repeat(600) + "/"}) {
      assertThatThrownBy(() -> ParsedSettings.resolve(new Settings.Flags(null, "b", prefix, null, null,
          null, null, null, null), Map.of("HOME", tmp.toString())))
          .as(prefix).isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("invalid prefix \"" + prefix.substring(0,
              Math.min(prefix.length(), 80)));
    }
  }

  @Test
  void plainHttpToAnotherMachineDrawsAWarning() {
    assertThat(Settings.insecureEndpointWarning("http://minio.internal:9000")).contains(
        "the endpoint http://minio.internal:9000 is plain http to another machine: requests and"
            + " content cross the network unencrypted; use https");
    assertThat(Settings.insecureEndpointWarning("http://192.0.2.7:9000")).isPresent();
    for (String quiet : new String[] {"http://127.0.0.1:9000", "http://localhost:4566",
        "http://[::1]:9000", "http://127.8.9.10", "https://s3.example.com", "HTTPS://x"}) {
      assertThat(Settings.insecureEndpointWarning(quiet)).as(quiet).isEmpty();
    }
    assertThat(Settings.insecureEndpointWarning(null)).isEmpty();
  }

  @Test
  void theWarningIsPrintedEvenWhenQuiet() {
    ContentStore store = MemoryStores.open();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Coffer.run(new String[] {"ls", "-q", "--bucket", "b", "--endpoint",
        "http://minio.internal:9000"}, new ByteArrayInputStream(new byte[0]),
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true),
        Map.of("HOME", tmp.toString()), (settings, notices) -> store, false);
    assertThat(code).isZero();
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("coffer: warning: the endpoint"
        + " http://minio.internal:9000 is plain http to another machine: requests and content"
        + " cross the network unencrypted; use https\n");
  }
}
