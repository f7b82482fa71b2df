package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The examples use the module as documented and wire what they claim to. */
class ExamplesTest {

  @Test
  void buildHostsGetTheWriterPolicyThroughAnInstanceProfile() throws IOException {
    HclConfig farm = HclConfig.load(Layout.BUILD_FARM);

    assertThat(farm.module("coffer").attribute("source")).isEqualTo("../../modules/coffer-bucket");
    Block attachment = farm.resource("aws_iam_role_policy_attachment", "build_host_writer");
    assertThat(attachment.expression("policy_arn")).isEqualTo("module.coffer.writer_policy_arn");
    assertThat(attachment.expression("role")).isEqualTo("aws_iam_role.build_host.name");
    assertThat(farm.resource("aws_iam_instance_profile", "build_host").expression("role"))
        .isEqualTo("aws_iam_role.build_host.name");
    assertThat(farm.resource("aws_iam_role", "build_host").expression("assume_role_policy"))
        .isEqualTo("data.aws_iam_policy_document.build_host_assume_role.json");

    Block trust = farm.data("aws_iam_policy_document", "build_host_assume_role").block("statement");
    assertThat(trust.attribute("actions")).isEqualTo(List.of("sts:AssumeRole"));
    assertThat(trust.block("principals").attributes())
        .containsEntry("type", "Service")
        .containsEntry("identifiers", List.of("ec2.amazonaws.com"));
    assertThat(farm.output("coffer_config_json").expression("value")).isEqualTo("module.coffer.coffer_config_json");
  }

  @Test
  void localStackProviderReachesEveryServiceThroughOneEndpoint() throws IOException {
    HclConfig local = HclConfig.load(Layout.LOCALSTACK);
    Block provider = local.provider("aws");

    assertThat(provider.attributes())
        .containsEntry("access_key", "test")
        .containsEntry("secret_key", "test")
        .containsEntry("s3_use_path_style", true)
        .containsEntry("skip_credentials_validation", true)
        .containsEntry("skip_metadata_api_check", true)
        .containsEntry("skip_requesting_account_id", true);
    Map<String, Object> endpoints = provider.block("endpoints").attributes();
    assertThat(endpoints).containsOnlyKeys("s3", "iam", "sts", "kms");
    assertThat(endpoints.values()).allSatisfy(e -> assertThat(e).hasToString("var.localstack_endpoint"));

    Block module = local.module("coffer");
    assertThat(module.attribute("source")).isEqualTo("../../modules/coffer-bucket");
    assertThat(module.expression("client_endpoint")).isEqualTo("var.localstack_endpoint");
    assertThat(module.attribute("client_path_style")).isEqualTo(true);
    assertThat(local.evaluate(local.variable("localstack_endpoint").attribute("default"), Map.of()))
        .isEqualTo("http://localhost:4566");
  }

  @Test
  void examplesPinTheSameProviderAsTheModule() throws IOException {
    for (HclConfig config : List.of(HclConfig.load(Layout.MODULE), HclConfig.load(Layout.BUILD_FARM),
        HclConfig.load(Layout.LOCALSTACK))) {
      Block terraform = config.blocks("terraform").get(0);
      assertThat(terraform.attribute("required_version")).isEqualTo(">= 1.5.0, < 2.0.0");
      assertThat(terraform.block("required_providers").attribute("aws"))
          .isEqualTo(Map.of("source", "hashicorp/aws", "version", "~> 6.40"));
    }
  }
}
