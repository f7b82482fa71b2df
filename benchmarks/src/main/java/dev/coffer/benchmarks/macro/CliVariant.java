package dev.coffer.benchmarks.macro;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Another build of the command, or the same one with other JVM options, run beside
 * {@code bin/coffer} in the cold-read, walk and tree cases, so that a change is measured against
 * what it replaces within one run ({@code BENCH_CLI_VARIANTS}).
 *
 * @param label the variant's name in the contender, as in {@code coffer get --no-cache (CLI,
 *     LABEL)}
 * @param executable another copy's {@code bin/coffer}, or null for this repository's
 * @param javaOptions {@code COFFER_JAVA_OPTS} for it (empty for none)
 * @param environment variables set for it besides, in order (say {@code COFFER_DAEMON=0}: the
 *     same build run without its command daemon)
 */
record CliVariant(String label, String executable, String javaOptions,
    Map<String, String> environment) {

  CliVariant {
    environment = Map.copyOf(environment);
  }

  /** A variant that sets no variables besides {@code COFFER_JAVA_OPTS}. */
  CliVariant(String label, String executable, String javaOptions) {
    this(label, executable, javaOptions, Map.of());
  }

  /**
   * Parses {@code LABEL=[/path/to/bin/coffer] [NAME=value]... [JVM options]} entries separated by
   * {@code ;}, say {@code main=/tmp/main/bin/coffer;c1=-XX:TieredStopAtLevel=1;cold=COFFER_DAEMON=0}.
   * A first word that is an absolute path is the executable; the words after it of the form
   * {@code NAME=value} (a name of capitals, digits and {@code _}) are variables set for it; the
   * rest are the options. A label is a word of letters, digits, {@code .}, {@code _} and {@code -},
   * starting with a letter or digit.
   */
  static List<CliVariant> parse(String text) {
    List<CliVariant> variants = new ArrayList<>();
    for (String entry : text.split(";")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      String label = eq < 0 ? "" : entry.substring(0, eq).trim();
      if (!label.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
        throw new IllegalArgumentException("invalid BENCH_CLI_VARIANTS entry \"" + entry.trim()
            + "\": expected LABEL=[/path/to/bin/coffer] [JVM options]");
      }
      String rest = entry.substring(eq + 1).trim();
      String executable = null;
      if (rest.startsWith("/")) {
        int space = rest.indexOf(' ');
        executable = space < 0 ? rest : rest.substring(0, space);
        rest = space < 0 ? "" : rest.substring(space + 1).trim();
      }
      Map<String, String> environment = new LinkedHashMap<>();
      while (rest.matches("[A-Z_][A-Z0-9_]*=\\S*(\\s.*)?")) {
        int space = rest.indexOf(' ');
        String word = space < 0 ? rest : rest.substring(0, space);
        environment.put(word.substring(0, word.indexOf('=')), word.substring(word.indexOf('=') + 1));
        rest = space < 0 ? "" : rest.substring(space + 1).trim();
      }
      variants.add(new CliVariant(label, executable, rest, environment));
    }
    return List.copyOf(variants);
  }
}
