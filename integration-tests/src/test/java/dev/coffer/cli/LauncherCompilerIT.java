package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compiler settings {@code bin/coffer} gives {@code put} and {@code get}: with its directives
 * file (the optimising compiler for the JDK's hashes and checksums only), low tier-4 thresholds, so
 * that the request path, which the directives keep from the optimising compiler, leaves the client
 * compiler's profiling tier early (docs/benchmarks.md, "The request path out of the profiling
 * tier"); without the file, the raised thresholds that keep the optimising compiler to the hot
 * loops. The VM's flags are read from its log file ({@code -XX:+LogVMOutput}), since the launcher
 * keeps the VM's own output off stdout.
 */
class LauncherCompilerIT {

  /** A line of -XX:+PrintFlagsFinal: its type, name and value. */
  private static final Pattern FLAG = Pattern.compile("^\\s*\\S+ (\\w+)\\s+= (\\S+)\\s",
      Pattern.MULTILINE);

  @TempDir
  Path tmp;

  @Test
  void putAndGetLeaveTheProfilingTierEarlyWithTheDirectives() throws Exception {
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      for (String command : new String[] {"put", "get"}) {
        assertThat(tier4Thresholds(launcher, command, true)).as(command).isEqualTo(Map.of(
            "Tier4InvocationThreshold", 500L,
            "Tier4MinInvocationThreshold", 100L,
            "Tier4CompileThreshold", 1000L));
      }
    }
  }

  @Test
  void withoutTheDirectivesTheThresholdsStayRaised() throws Exception {
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      Files.delete(launcher.root().resolve("bin/coffer-put.directives.json"));
      assertThat(tier4Thresholds(launcher, "put", false)).isEqualTo(Map.of(
          "Tier4InvocationThreshold", 100_000L,
          "Tier4MinInvocationThreshold", 100_000L,
          "Tier4CompileThreshold", 120_000L));
    }
  }

  /**
   * put and get run the parallel collector, with a young generation of 256 MiB where there are 4
   * GiB of memory or more; ls keeps the serial one; a collector named in COFFER_JAVA_OPTS is the
   * one put runs.
   */
  @Test
  void putAndGetRunTheParallelCollectorWithABoundedYoungGeneration() throws Exception {
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      for (String command : new String[] {"put", "get"}) {
        Map<String, String> flags = flags(launcher, command, "");
        assertThat(flags).as(command).containsEntry("UseParallelGC", "true");
        if (Launcher.fourGibOrMore()) {
          assertThat(flags).as(command).containsEntry("MaxNewSize", String.valueOf(256L << 20))
              .containsEntry("NewSize", String.valueOf(256L << 20));
        }
      }
      assertThat(flags(launcher, "ls", "")).containsEntry("UseParallelGC", "false")
          .containsEntry("UseSerialGC", "true");
      Map<String, String> own = flags(launcher, "put", " -XX:+UseSerialGC");
      assertThat(own).containsEntry("UseSerialGC", "true").containsEntry("UseParallelGC", "false");
    }
  }

  /**
   * The tier-4 thresholds of {@code bin/coffer COMMAND --help}'s VM, checking with {@code quiet}
   * that its stdout carries the help alone (the VM's output kept off it, as with the directives).
   */
  private Map<String, Long> tier4Thresholds(Launcher launcher, String command, boolean quiet)
      throws Exception {
    Map<String, Long> found = new TreeMap<>();
    flags(launcher, command, "", quiet).forEach((name, value) -> {
      if (name.matches("Tier4(Invocation|MinInvocation|Compile)Threshold")) {
        found.put(name, Long.parseLong(value));
      }
    });
    return found;
  }

  /** The flags of {@code bin/coffer COMMAND --help}'s VM, with {@code extra} JVM options. */
  private Map<String, String> flags(Launcher launcher, String command, String extra)
      throws Exception {
    return flags(launcher, command, extra, false);
  }

  /**
   * The flags of {@code bin/coffer COMMAND --help}'s VM, with {@code extra} JVM options, read from
   * its log file; with {@code quiet}, checks that its stdout carries the help alone.
   */
  private Map<String, String> flags(Launcher launcher, String command, String extra,
      boolean quiet) throws Exception {
    Path log = tmp.resolve(command + extra.hashCode() + "-vm.log");
    Launcher.Run run = launcher.bash("bin/coffer " + command + " --help", Map.of(
        "HOME", tmp.toString(),
        "COFFER_CDS", "0",
        "COFFER_JAVA_OPTS", "-XX:+UnlockDiagnosticVMOptions -XX:+LogVMOutput -XX:LogFile=" + log
            + " -XX:+PrintFlagsFinal" + extra));
    assertThat(run.code()).as(run.stderr()).isZero();
    if (quiet) {
      assertThat(new String(run.stdout(), StandardCharsets.UTF_8))
          .startsWith("Usage: coffer " + command).doesNotContain("Tier4");
    }
    Matcher found = FLAG.matcher(Files.readString(log));
    Map<String, String> flags = new TreeMap<>();
    while (found.find()) {
      flags.put(found.group(1), found.group(2));
    }
    return flags;
  }
}
