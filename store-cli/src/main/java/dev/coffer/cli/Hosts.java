package dev.coffer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This host's name, read without a network lookup, as a file-name-safe string. */
final class Hosts {
  private Hosts() {}

  private static volatile String name;

  /** The kernel's host name (of this UTS namespace, so each container has its own). */
  static String name() {
    String cached = name;
    if (cached == null) {
      String found;
      try {
        found = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
      } catch (IOException | RuntimeException e) {
        found = System.getenv().getOrDefault("HOSTNAME", "localhost");
      }
      found = found.replaceAll("[^A-Za-z0-9.-]", "_");
      cached = found.isEmpty() ? "localhost" : found;
      name = cached;
    }
    return cached;
  }
}
