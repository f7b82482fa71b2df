package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The module's validation blocks, evaluated by Terraform itself: the module's {@code variables.tf} alone
 * needs no provider, so {@code terraform plan} runs on a copy of it without {@code init} or network.
 * Skipped (and reported as such) where no terraform binary is installed.
 */
class VariableValidationTest {

  @TempDir
  static Path variablesOnly;

  @BeforeAll
  static void copyVariables() throws IOException {
    Files.copy(Layout.MODULE.resolve("variables.tf"), variablesOnly.resolve("variables.tf"));
  }

  @ParameterizedTest(name = "{0} = \"{1}\" is accepted: {2}")
  @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
      "prefix | coffer/ | true",
      "prefix | farm/eu-west/store_1/ | true",
      "prefix | '' | true",
      "prefix | coffer | false",
      "prefix | /coffer/ | false",
      "prefix | coffer//x/ | false",
      "prefix | farm/*/ | false",
      "prefix | ../up/ | false",
      "prefix | has space/ | false",
      "bucket_name | coffer-build-farm | true",
      "bucket_name | Coffer_Bucket | false",
      "bucket_name | ab | false",
      "bucket_name_prefix | coffer-ci- | true",
      "bucket_name_prefix | this-bucket-name-prefix-is-far-too-long-for-s3 | false",
      "kms_key_arn | arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab | true",
      "kms_key_arn | alias/coffer | false",
      "abort_incomplete_multipart_days | 1 | true",
      "abort_incomplete_multipart_days | 0 | false",
      "abort_incomplete_multipart_days | 2.5 | false",
      "abort_incomplete_multipart_days | 366 | false",
      "ingest_expiration_days | 30 | true",
      "ingest_expiration_days | 0 | false",
      "iam_policy_path | /ci/coffer/ | true",
      "iam_policy_path | ci | false",
      "client_endpoint | http://localhost:4566 | true",
      "client_endpoint | localhost:4566 | false",
      "client_endpoint | https://s3.example.com/some/path | false",
      "noncurrent_version_expiration_days | 30 | true",
      "noncurrent_version_expiration_days | 0 | false",
      "noncurrent_version_expiration_days | 1.5 | false",
      "access_log_bucket | coffer-access-logs | true",
      "access_log_bucket | Logs_Bucket | false",
      "access_log_prefix | s3/coffer/ | true",
      "access_log_prefix | has space/ | false",
  })
  void validationAcceptsOnlySaneValues(String variable, String value, boolean accepted) throws IOException {
    Path terraform = TerraformCli.requireBinary("terraform plan over the module's variables");
    List<String> arguments = new ArrayList<>(List.of("plan", "-input=false", "-lock=false", "-no-color"));
    arguments.add("-var=" + variable + "=" + value);

    TerraformCli.Result result = TerraformCli.run(terraform, variablesOnly, arguments);

    if (accepted) {
      assertThat(result.exitCode()).as(result.output()).isZero();
    } else {
      assertThat(result.exitCode()).as(result.output()).isNotZero();
      assertThat(result.output()).contains("Invalid value for variable").contains("var." + variable);
    }
  }
}
