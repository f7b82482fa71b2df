package dev.coffer.benchmarks.macro;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The command daemons {@code bin/coffer} started for the contenders: one per coffer home and
 * environment, each recorded as {@code COFFER_HOME/daemon/KEY.pid}. The harness stops them when it
 * ends, so that none outlives the run (they would otherwise wait out their idle time).
 */
final class CliDaemons {
  private CliDaemons() {}

  /**
   * Stops every daemon recorded under the coffer homes in {@code work} ({@code coffer-home-*}) and
   * waits for each to end.
   *
   * @return the process ids stopped
   */
  static List<Long> stopAll(Path work) throws IOException, InterruptedException {
    List<Long> stopped = new ArrayList<>();
    try (DirectoryStream<Path> homes = Files.newDirectoryStream(work, "coffer-home-*")) {
      for (Path home : homes) {
        stopped.addAll(stop(home.resolve("daemon")));
      }
    }
    return stopped;
  }

  /** Stops the daemons whose pid files are in {@code dir}; none when it does not exist. */
  static List<Long> stop(Path dir) throws IOException, InterruptedException {
    List<Long> stopped = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return stopped;
    }
    try (DirectoryStream<Path> pids = Files.newDirectoryStream(dir, "*.pid")) {
      for (Path file : pids) {
        Optional<ProcessHandle> daemon = pid(file).flatMap(ProcessHandle::of)
            .filter(p -> p.info().command().map(c -> c.endsWith("java")).orElse(false));
        if (daemon.isPresent()) {
          daemon.get().destroy();
          try {
            daemon.get().onExit().get(30, TimeUnit.SECONDS);
          } catch (ExecutionException | TimeoutException e) {
            daemon.get().destroyForcibly();
          }
          stopped.add(daemon.get().pid());
        }
      }
    }
    return stopped;
  }

  private static Optional<Long> pid(Path file) throws IOException {
    try {
      return Optional.of(Long.parseLong(Files.readString(file).strip()));
    } catch (NumberFormatException | java.nio.file.NoSuchFileException e) {
      return Optional.empty();
    }
  }
}
