package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class-data-sharing archive {@code bin/coffer} maps is the same whatever command ran first
 * after a build: recorded by a fixed training run ({@code bin/coffer-cds-train}: a {@code put -r},
 * a {@code get -r}, a {@code put} and a {@code get} against a throwaway embedded server), started in
 * the background by the first command, quietly (docs/benchmarks.md, "One archive for every first
 * command"). The archive's classes are read with the JVM's own listing of a shared archive.
 */
class LauncherArchiveIT {

  private static final Pattern SHARED_CLASS = Pattern.compile("^\\s*\\d+: (\\S+) ",
      Pattern.MULTILINE);

  @TempDir
  Path tmp;

  @Test
  void afterTheReadmesFirstCommandTheArchiveHoldsTheClassesOfTheTreeCommands() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Path temp = Files.createDirectories(tmp.resolve("temp"));
    Map<String, String> env = Map.of("HOME", home.toString(), "TMPDIR", temp.toString());
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      Launcher.Run first = launcher.bash("bin/coffer put README.md | xargs bin/coffer get", env);
      assertThat(first.code()).as(first.stderr()).isZero();
      assertThat(first.stdout())
          .isEqualTo(Files.readAllBytes(launcher.root().resolve("README.md")));
      assertThat(first.stderr()).doesNotContainIgnoringCase("archive")
          .doesNotContainIgnoringCase("cds").doesNotContain("warning");

      launcher.awaitTraining();
      Launcher.Run next = launcher.bash("bin/coffer --version", env);
      assertThat(next.code()).as(next.stderr()).isZero();
      assertThat(next.stderr()).isEmpty();

      Path target = launcher.root().toRealPath().resolve("store-cli/target");
      assertThat(sharedClasses(target)).contains(
          "dev.coffer.store.tree.TreePut", // put -r
          "dev.coffer.store.tree.FileCopies", // get -r
          "dev.coffer.cli.PutCommand",
          "dev.coffer.cli.GetCommand",
          "picocli.CommandLine"); // an old class file, which only a static archive holds
      try (var files = Files.list(target)) {
        assertThat(files.map(f -> f.getFileName().toString()).collect(Collectors.toSet()))
            .as("the archive adopted, no claim, log or failure left")
            .isEqualTo(Set.of("coffer.jar", "coffer.jsa", "lib"));
      }
      try (var left = Files.list(temp)) {
        assertThat(left.toList()).as("the training's directory and server, removed").isEmpty();
      }
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  @Test
  void withTheArchiveTurnedOffNothingIsTrainedOrRecorded() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    try (Launcher launcher = Launcher.copyInto(tmp)) {
      Launcher.Run first = launcher.bash("bin/coffer put README.md | xargs bin/coffer get",
          Map.of("HOME", home.toString(), "COFFER_CDS", "0"));
      assertThat(first.code()).as(first.stderr()).isZero();
      try (var files = Files.list(launcher.root().resolve("store-cli/target"))) {
        assertThat(files.map(f -> f.getFileName().toString()).toList())
            .containsExactlyInAnyOrder("coffer.jar", "lib");
      }
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  /** The classes the archive in {@code target} holds, by the JVM's listing of it. */
  private Set<String> sharedClasses(Path target) throws Exception {
    Path archive = target.resolve("coffer.jsa");
    assertThat(archive).isRegularFile();
    Path listing = tmp.resolve("shared.txt");
    Process java = new ProcessBuilder(List.of("java", "-XX:SharedArchiveFile=" + archive,
        "-XX:+PrintSharedArchiveAndExit", "-XX:+PrintSharedDictionary", "-Xlog:disable",
        "-cp", target.resolve("coffer.jar").toString()))
        .redirectErrorStream(true).redirectOutput(listing.toFile()).start();
    assertThat(java.waitFor()).as(Files.readString(listing)).isZero();
    Matcher classes = SHARED_CLASS.matcher(Files.readString(listing, StandardCharsets.UTF_8));
    Set<String> found = new java.util.TreeSet<>();
    while (classes.find()) {
      found.add(classes.group(1));
    }
    return found;
  }
}
