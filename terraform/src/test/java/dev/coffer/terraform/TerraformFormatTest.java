package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code terraform fmt -check}: runs where a terraform binary is installed, reported as skipped elsewhere. */
class TerraformFormatTest {

  @Test
  void everyTerraformFileIsCanonicallyFormatted() throws IOException {
    Path terraform = TerraformCli.requireBinary("terraform fmt -check -recursive");

    TerraformCli.Result result = TerraformCli.run(terraform, Layout.ROOT,
        List.of("fmt", "-check", "-recursive", "-diff", "-no-color", "."));

    assertThat(result.exitCode())
        .as("terraform fmt -check -recursive found unformatted files (run terraform fmt -recursive):%n%s",
            result.output())
        .isZero();
  }
}
