package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pins the client configuration document ({@code coffer_config_json}) that the library and the CLI read:
 * its keys, their types and where each value comes from. The document is rendered from the module's
 * {@code coffer_config} local for sample values and compared with the documented example and with what
 * Terraform itself printed for the same values.
 */
class CofferConfigDocumentTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String BUCKET = "coffer-build-farm-20261122190000000000000001";
  private static final String KMS_KEY =
      "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  /** The sample the example file shows: a generated bucket name, the default prefix, SSE-KMS. */
  private static final Map<String, Object> SAMPLE = sample();

  /**
   * {@code terraform console} (1.11) printed this for {@code jsonencode(local.coffer_config)} with the
   * sample values: compact, keys in lexicographic order.
   */
  private static final String TERRAFORM_RENDERING = "{\"bucket\":\"" + BUCKET + "\",\"endpoint\":null,"
      + "\"kmsKeyArn\":\"" + KMS_KEY + "\",\"pathStyle\":false,\"prefix\":\"coffer/\","
      + "\"region\":\"eu-west-1\",\"version\":1}";

  private static HclConfig module;

  @BeforeAll
  static void load() throws IOException {
    module = HclConfig.load(Layout.MODULE);
  }

  private static Map<String, Object> sample() {
    Map<String, Object> sample = new HashMap<>();
    sample.put("aws_s3_bucket.this.id", BUCKET);
    sample.put("aws_s3_bucket.this.region", "eu-west-1");
    sample.put("var.kms_key_arn", KMS_KEY);
    return Map.copyOf(sample);
  }

  /** What {@code jsonencode(local.coffer_config)} yields for the bindings (jsonencode sorts keys). */
  private static String render(Map<String, Object> bindings) throws IOException {
    Map<?, ?> config = (Map<?, ?>) module.evaluate(module.local("coffer_config"), bindings);
    return JSON.writeValueAsString(new TreeMap<>(config));
  }

  @Test
  void theOutputIsTheJsonEncodingOfTheConfigLocal() {
    assertThat(module.output("coffer_config_json").expression("value"))
        .isEqualTo("jsonencode(local.coffer_config)");
  }

  @Test
  void theConfigHasExactlyTheDocumentedKeysAndSources() {
    Map<?, ?> config = (Map<?, ?>) module.local("coffer_config");
    Map<String, String> sources = new TreeMap<>();
    config.forEach((key, value) -> sources.put((String) key, String.valueOf(value)));

    assertThat(sources).isEqualTo(Map.of(
        "version", "1",
        "bucket", "aws_s3_bucket.this.id",
        "prefix", "var.prefix",
        "region", "aws_s3_bucket.this.region",
        "endpoint", "var.client_endpoint",
        "pathStyle", "var.client_path_style",
        "kmsKeyArn", "var.kms_key_arn"));
  }

  @Test
  void renderingForTheSampleEqualsTerraformsOutput() throws IOException {
    assertThat(render(SAMPLE)).isEqualTo(TERRAFORM_RENDERING);
  }

  @Test
  void theDocumentedExampleRoundTrips() throws IOException {
    JsonNode example = JSON.readTree(Files.readString(Layout.CONFIG_EXAMPLE));
    JsonNode rendered = JSON.readTree(render(SAMPLE));

    assertThat(rendered).isEqualTo(example);
    List<String> exampleKeys = new ArrayList<>();
    example.fieldNames().forEachRemaining(exampleKeys::add);
    assertThat(exampleKeys).containsExactlyInAnyOrderElementsOf(((Map<?, ?>) module.local("coffer_config"))
        .keySet().stream().map(String::valueOf).toList());
  }

  @Test
  void unsetOptionsAreNullOrFalseAndTypesAreStable() throws IOException {
    JsonNode defaults = JSON.readTree(render(Map.of(
        "aws_s3_bucket.this.id", BUCKET, "aws_s3_bucket.this.region", "us-east-2")));

    assertThat(defaults.get("version").isInt()).isTrue();
    assertThat(defaults.get("version").intValue()).isEqualTo(1);
    assertThat(defaults.get("bucket").textValue()).isEqualTo(BUCKET);
    assertThat(defaults.get("prefix").textValue()).isEqualTo("coffer/");
    assertThat(defaults.get("region").textValue()).isEqualTo("us-east-2");
    assertThat(defaults.get("endpoint").isNull()).isTrue();
    assertThat(defaults.get("pathStyle").isBoolean()).isTrue();
    assertThat(defaults.get("pathStyle").booleanValue()).isFalse();
    assertThat(defaults.get("kmsKeyArn").isNull()).isTrue();

    JsonNode local = JSON.readTree(render(Map.of(
        "aws_s3_bucket.this.id", "coffer-local", "aws_s3_bucket.this.region", "us-east-1",
        "var.client_endpoint", "http://localhost:4566", "var.client_path_style", true, "var.prefix", "")));
    assertThat(local.get("endpoint").textValue()).isEqualTo("http://localhost:4566");
    assertThat(local.get("pathStyle").booleanValue()).isTrue();
    assertThat(local.get("prefix").textValue()).isEmpty();
  }

  @Test
  void theReadmeDocumentsEveryKey() throws IOException {
    String readme = Files.readString(Layout.README);
    for (Object key : ((Map<?, ?>) module.local("coffer_config")).keySet()) {
      assertThat(readme).as("README row for " + key).containsPattern("(?m)^\\| `" + key + "` \\|");
    }
  }
}
