package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.memory.MemoryStores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code coffer get}: ranges at the edges, the file it writes, and what it leaves behind
 * (invariant CLI-3 of docs/architecture.md).
 */
class GetCommandTest {
  private static final byte[] THIRTEEN = "hello coffer\n".getBytes(StandardCharsets.UTF_8);

  private final ContentStore store = MemoryStores.open();
  private final Cli cli = new Cli(store);
  @TempDir
  Path tmp;
  private Digest thirteen;
  private Digest empty;

  @BeforeEach
  void blobs() {
    cli.env.put("HOME", tmp.toString());
    thirteen = store.put(THIRTEEN, null, Map.of()).digest();
    empty = store.put(new byte[0], null, Map.of()).digest();
  }

  @ParameterizedTest(name = "{0} of {1} bytes")
  @CsvSource(delimiter = ';', value = {
      "0-; 13; 'hello coffer\n'",
      "6-11; 13; coffer",
      "6-100; 13; 'coffer\n'",
      "12-; 13; '\n'",
      "13-; 13; ''",
      "0-; 0; ''"})
  void rangesReadTheirBytesAndAnOpenRangeMayStartAtTheEnd(String range, int size,
      String expected) {
    Cli.Result get = cli.run("get", (size == 0 ? empty : thirteen).toString(), "--range", range,
        "-q");
    assertThat(get.code()).as(get.stderr()).isZero();
    assertThat(get.out()).isEqualTo(expected);
    assertThat(get.stderr()).isEmpty();
  }

  @ParameterizedTest(name = "{0} of {1} bytes")
  @CsvSource(delimiter = ';', value = {
      "14-; 13; invalid range \"14-\": it starts past the end of the blob, which has 13 bytes"
          + " (0-12)",
      "13-20; 13; invalid range \"13-20\": it starts past the end of the blob, which has 13"
          + " bytes (0-12)",
      "1-; 0; invalid range \"1-\": it starts past the end of the blob, which is empty",
      "0-0; 0; invalid range \"0-0\": it starts past the end of the blob, which is empty",
      "9-1; 13; invalid range \"9-1\": expected START-END or START- (byte offsets from 0,"
          + " START <= END)",
      "-5; 13; invalid range \"-5\": expected START-END or START- (byte offsets from 0,"
          + " START <= END)",
      "+1-2; 13; invalid range \"+1-2\": expected START-END or START- (byte offsets from 0,"
          + " START <= END)"})
  void rangesOutsideTheBlobSaySoNamingItsBytes(String range, int size, String message) {
    Cli.Result get = cli.run("get", (size == 0 ? empty : thirteen).toString(), "--range", range);
    assertThat(get.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(get.out()).isEmpty();
    assertThat(get.errLines()).containsExactly("coffer get: " + message);
  }

  @Test
  void aNewFileGetsTheUmasksPermissionsAndAReplacedOneKeepsItsOwn() throws Exception {
    int umask = Integer.parseInt(new String(new ProcessBuilder("sh", "-c", "umask").start()
        .getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim(), 8);
    Path fresh = tmp.resolve("fresh.txt");
    assertThat(cli.run("get", thirteen.toString(), "-o", fresh.toString()).code()).isZero();
    assertThat(mode(fresh)).isEqualTo(0666 & ~umask);

    Path existing = Files.writeString(tmp.resolve("existing.txt"), "old");
    Files.setPosixFilePermissions(existing, PosixFilePermissions.fromString("rw-r-----"));
    assertThat(cli.run("get", thirteen.toString(), "-o", existing.toString()).code()).isZero();
    assertThat(Files.readAllBytes(existing)).isEqualTo(THIRTEEN);
    assertThat(mode(existing)).isEqualTo(0640);
  }

  @Test
  void partFilesOfGetsThatDiedAreRemovedByTheNextGetAndALiveOnesAreKept() throws Exception {
    Path target = tmp.resolve("out.bin");
    Process ended = new ProcessBuilder("true").start();
    assertThat(ended.waitFor(30, TimeUnit.SECONDS)).isTrue();
    Process running = new ProcessBuilder("sleep", "60").start();
    try {
      Path dead = Files.writeString(tmp.resolve(".out.bin." + ended.pid() + "@" + Hosts.name()
          + ".part"), "half");
      Path live = Files.writeString(tmp.resolve(".out.bin." + running.pid() + "@" + Hosts.name()
          + ".part"), "half");
      Path otherHost = Files.writeString(tmp.resolve(".out.bin." + ended.pid()
          + "@another-host.part"), "half");
      Path otherName = Files.writeString(tmp.resolve(".other.bin." + ended.pid() + "@"
          + Hosts.name() + ".part"), "half");

      Cli.Result get = cli.run("get", thirteen.toString(), "-o", target.toString());

      assertThat(get.code()).as(get.stderr()).isZero();
      assertThat(Files.readAllBytes(target)).isEqualTo(THIRTEEN);
      assertThat(dead).doesNotExist();
      assertThat(live).exists();
      assertThat(otherHost).exists();
      assertThat(otherName).exists();
      try (var files = Files.list(tmp)) {
        assertThat(files.map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrder("out.bin", live.getFileName().toString(),
                otherHost.getFileName().toString(), otherName.getFileName().toString());
      }
    } finally {
      running.destroy();
    }
  }

  @Test
  void aMissingOutputDirectoryIsNamedNotTheTemporaryFile() {
    Path target = tmp.resolve("no-such-dir").resolve("x.txt");
    Cli.Result get = cli.run("get", thirteen.toString(), "-o", target.toString());
    assertThat(get.code()).isEqualTo(ExitCode.IO.code);
    assertThat(get.errLines()).containsExactly("coffer get: cannot write " + target
        + ": directory " + target.getParent() + " does not exist; create it first");
  }

  private static int mode(Path file) throws Exception {
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= 1 << (8 - p.ordinal());
    }
    return mode;
  }
}
