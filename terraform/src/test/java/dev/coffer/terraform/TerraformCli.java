package dev.coffer.terraform;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code terraform} binary found on {@code PATH}, for the checks that need no provider (fmt, and
 * plan over provider-less configurations). Nothing here runs {@code terraform init} or reaches a registry.
 */
final class TerraformCli {

  private static final long TIMEOUT_SECONDS = 60;
  private static final Set<String> ANNOUNCED_SKIPS = ConcurrentHashMap.newKeySet();

  /** What a run printed (stdout and stderr interleaved) and its exit code. */
  record Result(int exitCode, String output) {}

  private TerraformCli() {}

  static Optional<Path> binary() {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String directory : path.split(File.pathSeparator)) {
      if (directory.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(directory, "terraform");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * Aborts the calling test where no binary is installed: reported as skipped, with the reason, and
   * announced once per check on the build's console (surefire counts skips but does not print reasons).
   */
  static Path requireBinary(String check) {
    Optional<Path> binary = binary();
    if (binary.isEmpty() && ANNOUNCED_SKIPS.add(check)) {
      System.err.println("WARNING: " + check + " SKIPPED: no terraform binary on PATH");
    }
    assumeTrue(binary.isPresent(), check + " SKIPPED: no terraform binary on PATH");
    return binary.get();
  }

  static Result run(Path binary, Path workingDirectory, List<String> arguments) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.addAll(arguments);
    Path output = Files.createTempFile("terraform", ".out");
    try {
      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(workingDirectory.toFile())
          .redirectErrorStream(true)
          .redirectOutput(output.toFile());
      // No version check against checkpoint-api.hashicorp.com, no interactive prompts.
      builder.environment().put("CHECKPOINT_DISABLE", "1");
      builder.environment().put("TF_IN_AUTOMATION", "1");
      builder.environment().put("TF_INPUT", "0");
      Process process = builder.start();
      try {
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IOException(command + " did not finish in " + TIMEOUT_SECONDS + " s");
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running " + command, e);
      }
      return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
