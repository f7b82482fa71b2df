package dev.coffer.benchmarks.macro;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliDaemonsTest {

  @Test
  void stopsTheJavaProcessesRecordedUnderEachHomeAndLeavesOthers(@TempDir Path work)
      throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process daemon = new ProcessBuilder(java.toString(), "-version").start();
    Process waiting = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
        Waiting.class.getName()).start();
    Process other = new ProcessBuilder("sleep", "300").start();
    try {
      daemon.waitFor(30, TimeUnit.SECONDS);
      Path dir = Files.createDirectories(work.resolve("coffer-home-S3Proxy/daemon"));
      Files.writeString(dir.resolve("a.pid"), waiting.pid() + "\n");
      Files.writeString(dir.resolve("b.pid"), other.pid() + "\n");
      Files.writeString(dir.resolve("c.pid"), daemon.pid() + "\n");
      Files.writeString(dir.resolve("d.pid"), "not a pid\n");

      assertThat(CliDaemons.stopAll(work)).containsExactly(waiting.pid());
      assertThat(waiting.isAlive()).isFalse();
      assertThat(other.isAlive()).as("not a java process: left alone").isTrue();
    } finally {
      waiting.destroyForcibly();
      other.destroyForcibly();
    }
  }

  @Test
  void aWorkDirectoryWithoutDaemonsStopsNothing(@TempDir Path work) throws Exception {
    Files.createDirectories(work.resolve("coffer-home-S3Mock"));
    assertThat(CliDaemons.stopAll(work)).isEmpty();
  }

  /** Stands for a daemon: a JVM that waits until it is stopped. */
  static final class Waiting {
    public static void main(String[] args) throws Exception {
      System.in.read();
      Thread.sleep(Long.MAX_VALUE);
    }
  }
}
