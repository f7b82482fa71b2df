package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.cli.Cli.Result;
import dev.coffer.store.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer get --no-cache} hashes the blob exactly once (INT-2): the S3 store's reader
 * verifies the in-order read as it passes and says so, and the command does not hash it again.
 * Passes are counted by a SHA-256 provider installed ahead of the JDK's for the duration of the
 * get, which records every digest it completes.
 */
class GetHashPassesTest {
  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);

  @AfterEach
  void close() throws Exception {
    connector.close();
  }

  @Test
  void aWholeGetWithoutTheCacheHashesTheBlobOnce() throws Exception {
    // Larger than the S3 reader's read-ahead threshold, so the hash runs beside the transfer.
    byte[] content = new byte[(9 << 20) + 12345];
    new Random(25).nextBytes(content);
    Path file = tmp.resolve("blob");
    Files.write(file, content);
    Result put = cli.run("put", "-q", "--no-cache", file.toString());
    assertThat(put.code()).as(put.stderr()).isZero();
    Digest digest = Digest.of(content);

    Path out = tmp.resolve("out");
    List<String> digests = countingDigests(() -> {
      Result get = cli.run("get", "-q", "--no-cache", digest.toString(), "-o", out.toString());
      assertThat(get.code()).as(get.stderr()).isZero();
    });

    assertThat(out).hasBinaryContent(content);
    String hex = digest.toString().substring(digest.toString().indexOf(':') + 1);
    assertThat(digests).as("passes that hashed the whole blob").filteredOn(hex::equals)
        .hasSize(1);
  }

  @Test
  void aRangedGetOfTheWholeBlobIsNotHashed() throws Exception {
    byte[] content = new byte[1 << 20];
    new Random(22).nextBytes(content);
    Path file = tmp.resolve("blob");
    Files.write(file, content);
    assertThat(cli.run("put", "-q", "--no-cache", file.toString()).code()).isZero();
    Digest digest = Digest.of(content);

    List<String> digests = countingDigests(() -> {
      Result get = cli.run("get", "-q", "--no-cache", digest.toString(), "--range", "0-");
      assertThat(get.code()).as(get.stderr()).isZero();
      assertThat(get.stdout()).isEqualTo(content);
    });

    String hex = digest.toString().substring(digest.toString().indexOf(':') + 1);
    // The reader hashes a read from byte 0 whatever the caller asked for; the command does not.
    assertThat(digests).filteredOn(hex::equals).hasSizeLessThanOrEqualTo(1);
  }

  /** The hex of every SHA-256 digest completed in this JVM while {@code action} ran. */
  private static List<String> countingDigests(Runnable action) {
    List<String> done = new CopyOnWriteArrayList<>();
    Provider counting = new Provider("CountingSha256", "1", "counts SHA-256 passes") {
      {
        putService(new Service(this, "MessageDigest", "SHA-256",
            CountingSha256.class.getName(), List.of(), null) {
          @Override
          public Object newInstance(Object parameter) {
            return new CountingSha256(done);
          }
        });
      }
    };
    Security.insertProviderAt(counting, 1);
    try {
      action.run();
    } finally {
      Security.removeProvider(counting.getName());
    }
    return done;
  }

  /** SHA-256 by the JDK's own provider, recording each digest it completes. */
  static final class CountingSha256 extends MessageDigest {
    private final MessageDigest real;
    private final List<String> done;

    CountingSha256(List<String> done) {
      super("SHA-256");
      this.done = done;
      try {
        this.real = MessageDigest.getInstance("SHA-256", "SUN");
      } catch (NoSuchAlgorithmException | java.security.NoSuchProviderException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    protected void engineUpdate(byte input) {
      real.update(input);
    }

    @Override
    protected void engineUpdate(byte[] input, int offset, int len) {
      real.update(input, offset, len);
    }

    @Override
    protected void engineUpdate(java.nio.ByteBuffer input) {
      real.update(input);
    }

    @Override
    protected byte[] engineDigest() {
      byte[] d = real.digest();
      done.add(HexFormat.of().formatHex(d));
      return Arrays.copyOf(d, d.length);
    }

    @Override
    protected void engineReset() {
      real.reset();
    }

    @Override
    protected int engineGetDigestLength() {
      return real.getDigestLength();
    }
  }
}
