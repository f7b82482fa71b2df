package dev.coffer.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * A process's file mode creation mask (umask), which a JVM cannot ask for: the command daemon
 * learns its own from the kernel's status of the process where there is one (Linux's {@code
 * /proc/self/status}, line {@code Umask:}), or from the launcher that started it ({@code --umask},
 * the shell's {@code umask}), and compares it with each client's ({@link DaemonPolicy}). A umask
 * is an int from 0 to 0777. Stateless; thread-safe.
 */
final class Umask {
  private Umask() {}

  /** The largest umask: every permission bit masked. */
  static final int MAX = 0777;

  private static final Path STATUS = Path.of("/proc/self/status");

  /**
   * Parses a umask as the shell's {@code umask} prints it: one to four octal digits (e.g.
   * {@code 0022}), at most {@link #MAX}.
   *
   * @throws IllegalArgumentException if {@code text} is not one
   */
  static int parse(String text) {
    if (!text.matches("[0-7]{1,4}")) {
      throw new IllegalArgumentException("not a umask (octal, as `umask` prints it): " + text);
    }
    int umask = Integer.parseInt(text, 8);
    if (umask > MAX) {
      throw new IllegalArgumentException("not a umask (at most 0777): " + text);
    }
    return umask;
  }

  /** {@code umask} as the shell prints it: four octal digits. */
  static String format(int umask) {
    return String.format("%04o", umask);
  }

  /** This process's umask, from the kernel's status of it; empty where it does not say. */
  static OptionalInt ofProcess() {
    try {
      return fromStatus(Files.readString(STATUS, StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return OptionalInt.empty();
    }
  }

  /**
   * The umask in {@code status}, the text of a Linux {@code /proc/PID/status} (its {@code Umask:}
   * line, since Linux 4.7); empty if it has none or it is not one.
   */
  static OptionalInt fromStatus(String status) {
    for (String line : status.split("\n")) {
      if (line.startsWith("Umask:")) {
        try {
          return OptionalInt.of(parse(line.substring("Umask:".length()).strip()));
        } catch (IllegalArgumentException e) {
          return OptionalInt.empty();
        }
      }
    }
    return OptionalInt.empty();
  }
}
