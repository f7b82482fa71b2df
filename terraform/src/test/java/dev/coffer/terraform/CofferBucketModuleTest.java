package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The safety properties of the bucket the module creates, read from its HCL. */
class CofferBucketModuleTest {

  private static final String KMS_KEY =
      "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  private static HclConfig module;

  @BeforeAll
  static void load() throws IOException {
    module = HclConfig.load(Layout.MODULE);
  }

  @Test
  void providerAndTerraformVersionsArePinned() {
    Block terraform = module.blocks("terraform").get(0);
    assertThat(terraform.attribute("required_version")).isEqualTo(">= 1.5.0, < 2.0.0");
    @SuppressWarnings("unchecked")
    Map<String, Object> aws = (Map<String, Object>) terraform.block("required_providers").attribute("aws");
    assertThat(aws).containsEntry("source", "hashicorp/aws").containsEntry("version", "~> 6.40");
  }

  @Test
  void forceDestroyIsOffByDefault() {
    Block bucket = module.resource("aws_s3_bucket", "this");
    assertThat(bucket.expression("force_destroy")).isEqualTo("var.force_destroy");
    assertThat(module.evaluate(bucket.attribute("force_destroy"), Map.of())).isEqualTo(false);
  }

  @Test
  void bucketNameIsExactOrGeneratedFromPrefix() {
    Block bucket = module.resource("aws_s3_bucket", "this");
    assertThat(module.evaluate(bucket.attribute("bucket"), Map.of())).isNull();
    assertThat(module.evaluate(bucket.attribute("bucket_prefix"), Map.of())).isEqualTo("coffer-");

    Map<String, Object> named = Map.of("var.bucket_name", "farm-blobs");
    assertThat(module.evaluate(bucket.attribute("bucket"), named)).isEqualTo("farm-blobs");
    assertThat(module.evaluate(bucket.attribute("bucket_prefix"), named)).isNull();
  }

  @Test
  void publicAccessIsBlockedEveryWay() {
    Block block = module.resource("aws_s3_bucket_public_access_block", "this");
    assertThat(block.attributes())
        .containsEntry("block_public_acls", true)
        .containsEntry("block_public_policy", true)
        .containsEntry("ignore_public_acls", true)
        .containsEntry("restrict_public_buckets", true);
    assertThat(block.expression("bucket")).isEqualTo("aws_s3_bucket.this.id");
  }

  @Test
  void bucketOwnerOwnsEveryObject() {
    Block controls = module.resource("aws_s3_bucket_ownership_controls", "this");
    assertThat(controls.block("rule").attribute("object_ownership")).isEqualTo("BucketOwnerEnforced");
  }

  @Test
  void defaultEncryptionIsSseS3WithoutAKey() {
    Block rule = module.resource("aws_s3_bucket_server_side_encryption_configuration", "this").block("rule");
    Block defaults = rule.block("apply_server_side_encryption_by_default");

    assertThat(module.evaluate(defaults.attribute("sse_algorithm"), Map.of())).isEqualTo("AES256");
    assertThat(module.evaluate(defaults.attribute("kms_master_key_id"), Map.of())).isNull();
    assertThat(module.evaluate(rule.attribute("bucket_key_enabled"), Map.of())).isEqualTo(false);
  }

  @Test
  void aKmsKeySelectsSseKmsWithBucketKeys() {
    Block rule = module.resource("aws_s3_bucket_server_side_encryption_configuration", "this").block("rule");
    Block defaults = rule.block("apply_server_side_encryption_by_default");
    Map<String, Object> withKey = Map.of("var.kms_key_arn", KMS_KEY);

    assertThat(module.evaluate(defaults.attribute("sse_algorithm"), withKey)).isEqualTo("aws:kms");
    assertThat(module.evaluate(defaults.attribute("kms_master_key_id"), withKey)).isEqualTo(KMS_KEY);
    assertThat(module.evaluate(rule.attribute("bucket_key_enabled"), withKey)).isEqualTo(true);
  }

  @Test
  void customerProvidedKeysAreBlockedWhateverTheDefaultEncryption() {
    Block rule = module.resource("aws_s3_bucket_server_side_encryption_configuration", "this").block("rule");
    assertThat(rule.attribute("blocked_encryption_types")).isEqualTo(List.of("SSE-C"));
  }

  @Test
  void serverAccessLoggingIsOptionalAndGoesToTheGivenBucket() {
    Block logging = module.resource("aws_s3_bucket_logging", "this");
    assertThat(module.evaluate(logging.attribute("count"), Map.of())).isEqualTo(new java.math.BigDecimal("0"));
    assertThat(module.evaluate(logging.attribute("count"), Map.of("var.access_log_bucket", "logs")))
        .isEqualTo(new java.math.BigDecimal("1"));
    assertThat(logging.expression("bucket")).isEqualTo("aws_s3_bucket.this.id");
    assertThat(logging.expression("target_bucket")).isEqualTo("var.access_log_bucket");
    assertThat(logging.expression("target_prefix"))
        .isEqualTo("coalesce(var.access_log_prefix, \"${aws_s3_bucket.this.id}/\")");
    assertThat(module.variable("access_log_bucket").attribute("default")).isNull();
  }

  @Test
  void bucketPolicyDeniesEveryRequestWithoutTls() {
    Block document = module.data("aws_iam_policy_document", "bucket");
    List<Block> insecure = document.blocks("statement").stream()
        .filter(s -> s.blocks("condition").stream()
            .anyMatch(c -> "aws:SecureTransport".equals(c.attribute("variable"))))
        .toList();
    assertThat(insecure).hasSize(1);
    Block statement = insecure.get(0);

    assertThat(statement.attribute("effect")).isEqualTo("Deny");
    assertThat(statement.attribute("actions")).isEqualTo(List.of("s3:*"));
    assertThat(statement.block("principals").attributes())
        .containsEntry("type", "*")
        .containsEntry("identifiers", List.of("*"));
    assertThat(statement.block("condition").attributes())
        .containsEntry("test", "Bool")
        .containsEntry("values", List.of("false"));
    assertThat(module.evaluate(statement.attribute("resources"),
            Map.of("aws_s3_bucket.this.arn", "arn:aws:s3:::farm-blobs")))
        .isEqualTo(List.of("arn:aws:s3:::farm-blobs", "arn:aws:s3:::farm-blobs/*"));

    Block policy = module.resource("aws_s3_bucket_policy", "this");
    assertThat(policy.expression("policy")).isEqualTo("data.aws_iam_policy_document.bucket.json");
    assertThat(policy.expression("bucket")).isEqualTo("aws_s3_bucket.this.id");
  }

  @Test
  void versioningIsOptionalAndOffByDefault() {
    Block versioning = module.resource("aws_s3_bucket_versioning", "this");
    assertThat(module.evaluate(versioning.attribute("count"), Map.of())).isEqualTo(BigDecimal.ZERO);
    assertThat(module.evaluate(versioning.attribute("count"), Map.of("var.versioning_enabled", true)))
        .isEqualTo(BigDecimal.ONE);
    assertThat(versioning.block("versioning_configuration").attribute("status")).isEqualTo("Enabled");
  }

  @Test
  void everyTunableVariableIsValidated() {
    for (String name : List.of("bucket_name", "bucket_name_prefix", "prefix", "kms_key_arn",
        "abort_incomplete_multipart_days", "ingest_expiration_days", "iam_policy_name_prefix",
        "iam_policy_path", "client_endpoint")) {
      Block variable = module.variable(name);
      assertThat(variable.blocks("validation")).as(name).hasSize(1);
      assertThat(variable.block("validation").expression("condition")).as(name).contains("var." + name);
    }
  }
}
