package dev.coffer.store.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failing disk is reported with one warning, not one per read. Relies on slf4j-simple, this
 * module's test logger.
 */
class DiskWarningTest {

  @TempDir
  Path temp;

  @Test
  void failingDiskWarnsOnce() throws IOException {
    ContentStore backing = MemoryStores.open();
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      byte[] bytes = new byte[2 << 20];
      new Random(i).nextBytes(bytes);
      Digest digest = Digest.of(bytes);
      Content.writeBlob(backing, "blob-" + i, new ByteArrayInputStream(bytes),
          Descriptor.of(digest, bytes.length), Map.of());
      digests.add(digest);
    }
    Path directory = temp.resolve("cache");
    try (CachedContentStore cache = CachingStores.builder(backing)
        .config(CacheConfig.builder().directory(directory).build())
        .executor(Runnable::run)
        .build()) {
      Path tmp = directory.resolve("tmp");
      Files.delete(tmp);
      Files.write(tmp, new byte[] {1});
      PrintStream original = System.err;
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      // slf4j-simple writes to whatever System.err is at the time of each message.
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      try {
        for (Digest digest : digests) {
          assertThat(Digest.of(Content.readBlob(cache, Descriptor.of(digest)))).isEqualTo(digest);
        }
      } finally {
        System.setErr(original);
      }
      String log = captured.toString(StandardCharsets.UTF_8);
      assertThat(log.lines().filter(line -> line.contains("WARN")).count()).isEqualTo(1);
      assertThat(log).contains(directory.toString()).contains("reading through");
      assertThat(cache.stats().diskFailures()).isEqualTo(1);
      assertThat(cache.stats().diskDegraded()).isTrue();
    }
  }
}
