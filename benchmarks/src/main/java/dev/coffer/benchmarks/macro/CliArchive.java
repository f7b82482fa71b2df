package dev.coffer.benchmarks.macro;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

/**
 * Waits for a copy of {@code bin/coffer} to have its class-data-sharing archive ready, so that no
 * measured run starts without it or beside its recording: after a build the launcher records it in
 * the background ({@code bin/coffer-cds-train}) and a later run adopts it (an older launcher
 * records it on its first run, and the next adopts it: the same wait ends at once).
 */
final class CliArchive {
  private CliArchive() {}

  /**
   * Calls {@code adopt} (a command of the copy whose launcher is {@code launcher}) every
   * {@code interval} until the copy's {@code store-cli/target/coffer.jsa} is newer than its jar and
   * no recording is under way, for at most {@code limit}.
   *
   * @return whether the archive is ready; false at once when the copy's training failed
   *     ({@code coffer-cds.failed} newer than the jar), or when {@code limit} has passed
   */
  static boolean await(Path launcher, Callable<?> adopt, Duration interval, Duration limit)
      throws Exception {
    Path target = launcher.toAbsolutePath().getParent().getParent().resolve("store-cli/target");
    Instant end = Instant.now().plus(limit);
    while (!ready(target)) {
      if (newerThanTheJar(target, "coffer-cds.failed") || Instant.now().isAfter(end)) {
        return false;
      }
      Thread.sleep(interval.toMillis());
      adopt.call();
    }
    return true;
  }

  private static boolean ready(Path target) throws IOException {
    if (!newerThanTheJar(target, "coffer.jsa")) {
      return false;
    }
    try (var files = Files.list(target)) {
      return files.noneMatch(f -> f.getFileName().toString().startsWith("coffer.jsa."));
    }
  }

  private static boolean newerThanTheJar(Path target, String name) throws IOException {
    Path file = target.resolve(name);
    Path jar = target.resolve("coffer.jar");
    return Files.exists(file) && Files.exists(jar)
        && Files.getLastModifiedTime(file).compareTo(Files.getLastModifiedTime(jar)) > 0;
  }
}
