package dev.coffer.benchmarks.macro;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliArchiveTest {
  private static final Instant BUILT = Instant.parse("2026-12-03T16:00:00Z");

  @TempDir
  Path root;

  private Path target;
  private Path launcher;

  @BeforeEach
  void layOut() throws Exception {
    target = Files.createDirectories(root.resolve("store-cli/target"));
    launcher = Files.createDirectories(root.resolve("bin")).resolve("coffer");
    Files.writeString(launcher, "");
    stamp(Files.writeString(target.resolve("coffer.jar"), "jar"), BUILT);
  }

  @Test
  void waitsWhileTheTrainingRunsAndEndsWhenARunHasAdoptedItsArchive() throws Exception {
    Path claim = stamp(Files.writeString(target.resolve("coffer.jsa.4242"), ""),
        BUILT.plusSeconds(1));
    AtomicInteger runs = new AtomicInteger();
    boolean ready = CliArchive.await(launcher, () -> {
      if (runs.incrementAndGet() == 3) { // the training has ended: this run adopts its archive
        Files.move(claim, target.resolve("coffer.jsa"));
      }
      return null;
    }, Duration.ZERO, Duration.ofMinutes(1));
    assertThat(ready).isTrue();
    assertThat(runs).hasValue(3);
  }

  @Test
  void anArchiveOlderThanTheJarIsNotReady() throws Exception {
    stamp(Files.writeString(target.resolve("coffer.jsa"), "old"), BUILT.minusSeconds(60));
    assertThat(CliArchive.await(launcher, () -> null, Duration.ZERO, Duration.ZERO)).isFalse();
  }

  @Test
  void aFailedTrainingIsNotWaitedFor() throws Exception {
    stamp(Files.writeString(target.resolve("coffer-cds.failed"), ""), BUILT.plusSeconds(1));
    AtomicInteger runs = new AtomicInteger();
    assertThat(CliArchive.await(launcher, runs::incrementAndGet, Duration.ZERO,
        Duration.ofMinutes(1))).isFalse();
    assertThat(runs).hasValue(0);
  }

  private static Path stamp(Path file, Instant time) throws Exception {
    Files.setLastModifiedTime(file, FileTime.from(time));
    return file;
  }
}
