package dev.coffer.store.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.memory.MemoryStores;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SEC-2 and SEC-3: the socket and the hold directory are private whatever the umask: a server started under
 * {@code umask 000} (in a child JVM, since a JVM cannot change its own umask) still creates a 0600
 * socket in a 0700 directory, and 0700 hold directories; directories others can write are refused.
 */
class SocketPermissionsTest {

  @TempDir
  Path dir;

  @Test
  void socketAndHoldDirectoryArePrivateUnderUmask000() throws Exception {
    Path socket = dir.resolve("run/coffer/coffer.sock");
    Path holds = dir.resolve("state/holds/host-1");
    Process child = startUnderUmask000(socket.toString(), holds.toString());
    try {
      assertThat(mode(socket)).isEqualTo("rw-------");
      assertThat(isSocket(socket)).isTrue();
      assertThat(mode(socket.getParent())).isEqualTo("rwx------");
      assertThat(mode(socket.getParent().getParent())).isEqualTo("rwx------");
      assertThat(mode(holds)).isEqualTo("rwx------");
      assertThat(mode(holds.getParent())).isEqualTo("rwx------");
      // No staging directory left next to the socket.
      try (var entries = Files.list(socket.getParent())) {
        assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("coffer.sock");
      }
    } finally {
      stop(child);
    }
    assertThat(socket).doesNotExist();
  }

  @Test
  void aSocketGroupGetsMode0660AndTheGroup() throws Exception {
    Path socket = dir.resolve("coffer.sock");
    String group = Files.readAttributes(dir, PosixFileAttributes.class).group().getName();
    Process child = startUnderUmask000(socket.toString(), dir.resolve("holds").toString(), group);
    try {
      PosixFileAttributes attributes = Files.readAttributes(socket, PosixFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS);
      assertThat(PosixFilePermissions.toString(attributes.permissions())).isEqualTo("rw-rw----");
      assertThat(attributes.group().getName()).isEqualTo(group);
    } finally {
      stop(child);
    }
  }

  @Test
  void refusesASocketDirectoryOthersCanWrite() throws Exception {
    Path open = Files.createDirectory(dir.resolve("open"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path socket = open.resolve("coffer.sock");
    try (ContentStore store = MemoryStores.open()) {
      ContentServer server = ContentServer.builder(store).unixSocket(socket).build();
      assertThatThrownBy(server::start).isInstanceOf(IOException.class)
          .hasMessageContaining(open.toString())
          .hasMessageContaining("writable by others (mode 0777)")
          .hasMessageContaining("chmod go-w");
      server.close();
    }
    assertThat(socket).doesNotExist();
  }

  @Test
  void refusesAHoldDirectoryOthersCanWrite() throws Exception {
    Path holds = Files.createDirectory(dir.resolve("holds"));
    Files.setPosixFilePermissions(holds, PosixFilePermissions.fromString("rwxrwxrwx"));
    try (ContentStore store = MemoryStores.open()) {
      assertThatThrownBy(() -> ContentServer.builder(store).unixSocket(dir.resolve("s.sock"))
          .holdDirectory(holds).build())
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining(holds.toString())
          .hasMessageContaining("writable by others (mode 0777)");
    }
  }

  private static Process startUnderUmask000(String... args) throws IOException {
    List<String> command = new java.util.ArrayList<>(List.of("sh", "-c",
        "umask 000 && exec \"$0\" \"$@\"",
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), ServeInChild.class.getName()));
    command.addAll(List.of(args));
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line;
    StringBuilder seen = new StringBuilder();
    while ((line = out.readLine()) != null && !line.equals("READY")) {
      seen.append(line).append('\n');
    }
    assertThat(line).as("the child's output:%n%s", seen).isEqualTo("READY");
    return child;
  }

  private static void stop(Process child) throws InterruptedException, IOException {
    child.getOutputStream().close();
    if (!child.waitFor(30, TimeUnit.SECONDS)) {
      child.destroyForcibly();
    }
    assertThat(child.exitValue()).isZero();
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path,
        LinkOption.NOFOLLOW_LINKS));
  }

  private static boolean isSocket(Path path) throws IOException {
    return ((Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS)
        & 0170000) == 0140000;
  }
}
