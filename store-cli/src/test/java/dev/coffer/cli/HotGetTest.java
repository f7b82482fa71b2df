package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.memory.MemoryStores;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer get} of content a reader serves as verified (a sealed cache entry): handed over
 * with {@link ReaderAt#transferTo} and not hashed again, unless the reader falls back to unverified
 * content mid-way (invariant CLI-6 of docs/architecture.md).
 */
class HotGetTest {
  private static final byte[] BLOB = "verified once, at install\n".getBytes(StandardCharsets.UTF_8);

  private final ContentStore memory = MemoryStores.open();
  private final Digest digest = memory.put(BLOB, null, Map.of()).digest();
  private final AtomicInteger transfers = new AtomicInteger();
  @TempDir
  Path tmp;

  @Test
  void verifiedContentIsTransferredToStdoutAndToAFileWithoutHashing() throws IOException {
    // Wrong bytes claimed as verified pass unhashed: proof that nothing hashed them again.
    byte[] other = "a cache entry that rotted!\n".getBytes(StandardCharsets.UTF_8);
    Cli cli = new Cli(serving(other, false));

    Cli.Result stdout = cli.run("get", digest.toString(), "-q");
    assertThat(stdout.code()).as(stdout.stderr()).isZero();
    assertThat(stdout.stdout()).isEqualTo(other);

    Path file = tmp.resolve("out.bin");
    Cli.Result toFile = cli.run("get", digest.toString(), "-q", "-o", file.toString());
    assertThat(toFile.code()).as(toFile.stderr()).isZero();
    assertThat(file).hasBinaryContent(other);
    assertThat(transfers.get()).isEqualTo(2);
  }

  @Test
  void aReaderThatFallsBackMidWayHasTheBlobHashedAsTheStoreServesIt() {
    byte[] other = "a cache entry that rotted!\n".getBytes(StandardCharsets.UTF_8);
    Cli cli = new Cli(serving(other, true));

    Cli.Result get = cli.run("get", digest.toString(), "-q");

    assertThat(get.code()).isEqualTo(ExitCode.DATA_LOSS.code);
    assertThat(get.stderr()).contains("content " + digest + " is corrupt: its bytes hash to ");
  }

  @Test
  void unverifiedContentIsHashedAsBefore() {
    Cli cli = new Cli(memory);
    Cli.Result get = cli.run("get", digest.toString(), "-q");
    assertThat(get.code()).as(get.stderr()).isZero();
    assertThat(get.stdout()).isEqualTo(BLOB);
  }

  /**
   * The memory store, whose readers claim to serve verified content and serve {@code bytes}; with
   * {@code fallBack}, the claim ends after the first transfer (as a cache reader's does when its
   * entry fails) and reads then serve {@code bytes} too.
   */
  private ContentStore serving(byte[] bytes, boolean fallBack) {
    return (ContentStore) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("readerAt")) {
            memory.readerAt((Descriptor) args[0]).close();
            return new ClaimingReader(bytes, fallBack);
          }
          try {
            return method.invoke(memory, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  private final class ClaimingReader implements ReaderAt {
    private final byte[] bytes;
    private final boolean fallBack;
    private boolean verified = true;

    ClaimingReader(byte[] bytes, boolean fallBack) {
      this.bytes = bytes;
      this.fallBack = fallBack;
    }

    @Override
    public int read(ByteBuffer dst, long position) {
      if (position >= bytes.length) {
        return -1;
      }
      int n = (int) Math.min(dst.remaining(), bytes.length - position);
      dst.put(bytes, (int) position, n);
      return n;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      transfers.incrementAndGet();
      verified = !fallBack;
      return ReaderAt.super.transferTo(position, count, target);
    }

    @Override
    public boolean servesVerifiedContent() {
      return verified;
    }

    @Override
    public long size() {
      return bytes.length;
    }

    @Override
    public void close() {}
  }
}
