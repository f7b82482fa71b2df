package dev.coffer.terraform;

import java.nio.file.Path;

/** Where the Terraform sources sit, relative to this module's directory (the tests' working directory). */
final class Layout {

  static final Path ROOT = Path.of("").toAbsolutePath();
  static final Path MODULE = ROOT.resolve("modules/coffer-bucket");
  static final Path BUILD_FARM = ROOT.resolve("examples/build-farm");
  static final Path LOCALSTACK = ROOT.resolve("examples/localstack");
  static final Path CONFIG_EXAMPLE = ROOT.resolve("examples/coffer-config.example.json");
  static final Path README = ROOT.resolve("README.md");

  private Layout() {}
}
