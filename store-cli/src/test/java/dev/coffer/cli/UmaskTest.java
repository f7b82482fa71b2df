package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A umask as the shell prints it and as the kernel's status of the process says it. */
class UmaskTest {
  @TempDir
  Path tmp;

  @Test
  void theShellsFormIsParsedAndAnythingElseRefused() {
    assertThat(Umask.parse("0022")).isEqualTo(022);
    assertThat(Umask.parse("077")).isEqualTo(077);
    assertThat(Umask.parse("0")).isZero();
    assertThat(Umask.parse("0777")).isEqualTo(0777);
    assertThat(Umask.format(022)).isEqualTo("0022");
    assertThat(Umask.format(0)).isEqualTo("0000");
    for (String bad : List.of("", "1000", "01777", "0o22", "08", "u=rwx,g=rx,o=rx", " 022",
        "00022")) {
      assertThatThrownBy(() -> Umask.parse(bad)).as("\"%s\"", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void theStatusUmaskLineIsRead() {
    assertThat(Umask.fromStatus("Name:\tjava\nUmask:\t0027\nState:\tS (sleeping)\n"))
        .hasValue(027);
    assertThat(Umask.fromStatus("Name:\tjava\nState:\tS (sleeping)\n")).as("before Linux 4.7")
        .isEmpty();
    assertThat(Umask.fromStatus("Umask:\tsoon\n")).isEmpty();
  }

  /** Where the kernel says it, the umask is the one a new directory's mode shows. */
  @Test
  void theProcesssUmaskIsTheOneItsNewDirectoriesGet() throws Exception {
    OptionalInt own = Umask.ofProcess();
    assumeTrue(own.isPresent(), "the kernel says the process's umask");
    Path dir = Files.createDirectory(tmp.resolve("probe"));
    int mode = 0;
    for (PosixFilePermission p : Files.getPosixFilePermissions(dir)) {
      mode |= 0400 >> p.ordinal();
    }
    assertThat(Umask.format(0777 & ~mode)).isEqualTo(Umask.format(own.getAsInt()));
  }
}
