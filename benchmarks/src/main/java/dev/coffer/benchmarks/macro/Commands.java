package dev.coffer.benchmarks.macro;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the command-line contenders (coffer, aws, rclone, cat) as child processes. */
final class Commands {
  private static final File DISCARD = new File("/dev/null");

  private final Path errors;

  /** @param errors where a child's stderr goes; its tail is the error of a failed run */
  Commands(Path errors) {
    this.errors = errors;
  }

  /** Runs {@code command} with {@code env} added, stdout discarded (or to {@code stdout}). */
  void run(List<String> command, Map<String, String> env, Path stdout)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(DISCARD))
        .redirectOutput(stdout == null ? ProcessBuilder.Redirect.to(DISCARD)
            : ProcessBuilder.Redirect.to(stdout.toFile()))
        .redirectError(errors.toFile());
    // An inherited CA bundle makes rclone fail before any request; the servers speak plain HTTP.
    builder.environment().remove("AWS_CA_BUNDLE");
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(30, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IOException(command.get(0) + " did not finish within 30 minutes");
    }
    if (process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " exited with " + process.exitValue()
          + ": " + tail());
    }
  }

  /** The first line of a command's output, or a note that it could not run. */
  static String version(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(30, TimeUnit.SECONDS);
      return out.lines().findFirst().orElse("?").strip();
    } catch (IOException e) {
      return "not found (" + command[0] + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  private String tail() throws IOException {
    List<String> lines = Files.readAllLines(errors, StandardCharsets.UTF_8);
    List<String> last = new ArrayList<>(lines.subList(Math.max(0, lines.size() - 3),
        lines.size()));
    return String.join(" | ", last);
  }
}
