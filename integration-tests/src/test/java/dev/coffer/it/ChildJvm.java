package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Another host in a separate JVM on the test class path, to be killed in the midst of its work. */
final class ChildJvm {
  private ChildJvm() {}

  /** Starts {@code main} with {@code args}; its output and errors share one stream. */
  static Process start(Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  /** Echoes the child's output until it prints {@code READY}, and fails if it never does. */
  static void awaitReady(Process child) throws IOException {
    BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null && !line.equals("READY")) {
      System.out.println("child: " + line);
    }
    assertThat(line).as("the child's signal").isEqualTo("READY");
  }
}
