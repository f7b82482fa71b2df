package dev.coffer.benchmarks.macro;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** What the harness ran on, from /proc where it exists. */
final class Machine {
  private Machine() {}

  /** The 1, 5 and 15 minute load averages, or "?" off Linux. */
  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return parts[0] + ", " + parts[1] + ", " + parts[2];
    } catch (IOException | ArrayIndexOutOfBoundsException e) {
      return "?";
    }
  }

  /** Whether a load average shows more than 1.5 runnable tasks per core over the last minute. */
  static boolean busy(String loadAverage) {
    try {
      double oneMinute = Double.parseDouble(loadAverage.split(",")[0].trim());
      return oneMinute > 1.5 * Runtime.getRuntime().availableProcessors();
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** CPU model, cores, memory and operating system. */
  static String describe() {
    String cpu = "?";
    String memory = "?";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst().orElse("?");
      memory = Files.readAllLines(Path.of("/proc/meminfo")).stream()
          .filter(l -> l.startsWith("MemTotal")).map(l -> l.replaceAll("\\D", ""))
          .map(kb -> String.format(Locale.ROOT, "%.0f GiB", Long.parseLong(kb) / 1048576.0))
          .findFirst().orElse("?");
    } catch (IOException e) {
      // Not Linux: leave the question marks.
    }
    return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + memory
        + " RAM, " + System.getProperty("os.name") + " " + System.getProperty("os.version");
  }
}
