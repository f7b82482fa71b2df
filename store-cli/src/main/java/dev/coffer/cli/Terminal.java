package dev.coffer.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether standard error is a terminal: progress bars go there, so they show whenever it is one,
 * wherever standard output goes ({@code coffer put big > digest.txt} still shows its bar).
 */
final class Terminal {
  private Terminal() {}

  /** Set by {@code bin/coffer} from the shell's own test ({@code [ -t 2 ]}): true or false. */
  static final String PROPERTY = "coffer.stderr.terminal";

  /**
   * Whether stderr is a terminal: the launcher's answer if it gave one, else whether file
   * descriptor 2 names a terminal device (Linux), else whether the JVM has a console.
   */
  static boolean stderr() {
    String told = System.getProperty(PROPERTY);
    if (told != null && !told.isEmpty()) {
      return Boolean.parseBoolean(told);
    }
    try {
      return isTerminalDevice(Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString());
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return System.console() != null;
    }
  }

  /** Whether {@code device}, the target of a file descriptor's link, is a terminal. */
  static boolean isTerminalDevice(String device) {
    return device.startsWith("/dev/pts/") || device.startsWith("/dev/tty")
        || device.equals("/dev/console");
  }
}
