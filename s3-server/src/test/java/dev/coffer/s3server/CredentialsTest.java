package dev.coffer.s3server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The installation's credentials file (invariant SEC-10). */
class CredentialsTest {
  @TempDir
  Path dir;

  @Test
  void createdOnceRandomAndPrivate() throws IOException {
    Path file = dir.resolve("credentials");
    Credentials first = Credentials.loadOrCreate(file);
    assertThat(Files.getPosixFilePermissions(file))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Credentials.loadOrCreate(file)).isEqualTo(first);
    assertThat(Credentials.read(file)).isEqualTo(first);
    assertThat(first.accessKeyId()).hasSize(20);
    assertThat(first.secretAccessKey()).hasSize(40);
    assertThat(Credentials.loadOrCreate(dir.resolve("other"))).isNotEqualTo(first);
    assertThat(first.toString()).doesNotContain(first.secretAccessKey());
    assertThat(Files.readString(file)).contains("[default]",
        "aws_access_key_id = " + first.accessKeyId(),
        "aws_secret_access_key = " + first.secretAccessKey());
    try (var leftovers = Files.list(dir)) {
      assertThat(leftovers.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("credentials", "other");
    }
  }

  @Test
  void aFileOthersCanReadIsRefused() throws IOException {
    Path file = dir.resolve("credentials");
    Credentials.loadOrCreate(file);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> Credentials.read(file)).isInstanceOf(IOException.class)
        .hasMessageContaining("chmod 600");
  }

  @Test
  void aLinkOrAnEmptyFileIsRefused() throws IOException {
    Path target = dir.resolve("target");
    Credentials.loadOrCreate(target);
    Path link = Files.createSymbolicLink(dir.resolve("link"), target);
    assertThatThrownBy(() -> Credentials.read(link)).isInstanceOf(IOException.class)
        .hasMessageContaining("not a regular file");
    Path empty = Files.createFile(dir.resolve("empty"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    assertThatThrownBy(() -> Credentials.read(empty)).isInstanceOf(IOException.class)
        .hasMessageContaining("aws_access_key_id");
  }
}
