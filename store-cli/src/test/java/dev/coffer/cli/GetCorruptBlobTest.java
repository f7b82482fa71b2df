package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer get} of a blob whose stored bytes do not match its digest (INT-2): exit code 13,
 * a message naming the digest, and no output file, neither a new one nor a changed old one.
 */
class GetCorruptBlobTest {
  @TempDir
  Path tmp;

  private final ContentStore memory = MemoryStores.open();

  /** The in-memory store, whose readers flip the first byte of every blob. */
  private final ContentStore corrupting = (ContentStore) Proxy.newProxyInstance(
      ContentStore.class.getClassLoader(), new Class<?>[] {ContentStore.class},
      (proxy, method, args) -> {
        Object result;
        try {
          result = method.invoke(memory, args);
        } catch (InvocationTargetException e) {
          throw e.getCause();
        }
        return result instanceof ReaderAt reader ? flipping(reader) : result;
      });

  private static ReaderAt flipping(ReaderAt reader) {
    return new ReaderAt() {
      @Override
      public int read(ByteBuffer dst, long position) {
        int start = dst.position();
        int n = reader.read(dst, position);
        if (n > 0 && position == 0) {
          dst.put(start, (byte) ~dst.get(start));
        }
        return n;
      }

      @Override
      public long size() {
        return reader.size();
      }

      @Override
      public void close() {
        reader.close();
      }
    };
  }

  private record Result(int code, String stderr) {}

  private Result run(String... args) {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", tmp.toString());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Coffer.run(args, new ByteArrayInputStream(new byte[0]),
        new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(err, true), env,
        (settings, notices) -> corrupting, false);
    return new Result(code, err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aCorruptBlobExitsWithDataLossAndWritesNoFile() throws Exception {
    byte[] content = new byte[3 * (1 << 20) + 1];
    new Random(5).nextBytes(content);
    Digest digest = memory.put(content, null, null).digest();

    Path fresh = tmp.resolve("fresh.bin");
    Result get = run("get", digest.toString(), "-o", fresh.toString());
    assertThat(get.code()).isEqualTo(ExitCode.DATA_LOSS.code).isEqualTo(13);
    assertThat(get.stderr()).contains(digest.toString());
    assertThat(fresh).doesNotExist();

    Path old = Files.write(tmp.resolve("old.bin"), new byte[] {1, 2, 3});
    assertThat(run("get", digest.toString(), "-o", old.toString()).code())
        .isEqualTo(ExitCode.DATA_LOSS.code);
    assertThat(old).hasBinaryContent(new byte[] {1, 2, 3});
    try (var files = Files.list(tmp)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .allMatch(name -> name.equals("old.bin") || !name.contains("bin"));
    }
    assertThat(run("get", digest.toString()).code()).isEqualTo(ExitCode.DATA_LOSS.code);
  }
}
