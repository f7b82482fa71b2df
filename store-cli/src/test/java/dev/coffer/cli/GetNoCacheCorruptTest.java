package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.cli.Cli.Result;
import dev.coffer.store.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * {@code coffer get --no-cache} of a blob whose object was overwritten behind the store's back
 * with bytes of the same length (INT-2), on the simulated S3, large enough that the S3 reader
 * drains the GET on its read-ahead thread while the command hashes and writes: exit code 13 with
 * a message naming the digest and the bytes' actual digest; with {@code -o} no file, neither the
 * target nor a part file; to stdout the same exit code; and no read-ahead thread left behind.
 */
class GetNoCacheCorruptTest {
  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);

  @AfterEach
  void close() throws Exception {
    connector.close();
  }

  private static long readAheadThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("coffer-read-ahead") && t.isAlive()).count();
  }

  @Test
  void aCorruptBlobFailsTheGetWithDataLossAndWritesNoFile() throws Exception {
    byte[] content = new byte[(11 << 20) + 777];
    new Random(13).nextBytes(content);
    Path file = tmp.resolve("blob");
    Files.write(file, content);
    Result put = cli.run("put", "-q", "--no-cache", file.toString());
    assertThat(put.code()).as(put.stderr()).isZero();
    Digest digest = Digest.of(content);

    byte[] bad = content.clone();
    bad[bad.length - 1000] ^= 1;
    connector.inspector().putObject(b -> b.bucket(SimConnector.BUCKET)
        .key("blobs/sha256/" + digest.hex()), RequestBody.fromBytes(bad));
    long threads = readAheadThreads();

    Path out = tmp.resolve("out.bin");
    Result toFile = cli.run("get", "-q", "--no-cache", digest.toString(), "-o", out.toString());
    assertThat(toFile.code()).as(toFile.stderr()).isEqualTo(ExitCode.DATA_LOSS.code);
    assertThat(toFile.stderr()).contains(digest.toString()).contains(Digest.of(bad).toString());
    try (var files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("blob");
    }

    Result toStdout = cli.run("get", "-q", "--no-cache", digest.toString());
    assertThat(toStdout.code()).as(toStdout.stderr()).isEqualTo(ExitCode.DATA_LOSS.code);
    assertThat(toStdout.stderr()).contains(digest.toString()).contains("corrupt");
    assertThat(toStdout.stdout().length).isLessThan(content.length);

    assertThat(readAheadThreads()).isEqualTo(threads);
  }
}
