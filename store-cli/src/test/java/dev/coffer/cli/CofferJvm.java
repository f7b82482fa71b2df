package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the command in a JVM of its own, as {@code bin/coffer} would without its daemon: for tests
 * of what only a process's own environment reaches (the SDK reads credentials and settings from
 * it, not from the environment the command is given).
 */
final class CofferJvm {

  private CofferJvm() {}

  /**
   * Runs {@code args} with {@code HOME} set to {@code tmp} and only {@code vars} of Coffer's and
   * AWS' variables set; asserts that it exits 0 and returns its standard output.
   */
  static String run(Path tmp, Map<String, String> vars, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", testClassPath(),
        Coffer.class.getName()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    ProcessBuilder java = new ProcessBuilder(command)
        .redirectOutput(out.toFile()).redirectError(err.toFile());
    Map<String, String> env = java.environment();
    env.keySet().removeIf(k -> k.startsWith("COFFER_") || k.startsWith("AWS_"));
    env.put("HOME", tmp.toString());
    env.putAll(vars);
    Process process = java.start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", args) + ": " + Files.readString(err))
        .isZero();
    return Files.readString(out);
  }

  /** The class path of the tests (surefire may run them from a manifest-only jar). */
  private static String testClassPath() {
    String path = System.getProperty("surefire.test.class.path");
    return path != null && !path.isBlank() ? path
        : System.getProperty("java.class.path").replace(' ', File.pathSeparatorChar);
  }
}
