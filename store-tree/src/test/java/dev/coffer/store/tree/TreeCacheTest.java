package dev.coffer.store.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreeCacheTest {

  @TempDir Path tmp;

  private static byte[] blob(int i) {
    return ("{\"tree\":" + i + "}").getBytes(UTF_8);
  }

  @Test
  void aBlobKeptIsReadBackOnlyWhole() throws IOException {
    Path dir = tmp.resolve("cache/tree-blobs");
    TreeCache cache = TreeCache.in(dir);
    Digest d = Digest.of(blob(1));
    assertThat(cache.read(d, blob(1).length)).isNull(); // nothing kept yet

    cache.keep(d, blob(1));

    assertThat(cache.read(d, blob(1).length)).isEqualTo(blob(1));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(d.hex()))))
        .isEqualTo("rw-------");
    assertThat(cache.read(d, blob(1).length + 1)).isNull(); // not the size the record says
    Files.write(dir.resolve(d.hex()), blob(2)); // same length, other bytes
    assertThat(cache.read(d, blob(1).length)).isNull();
    cache.keep(d, blob(1));
    Files.setPosixFilePermissions(dir.resolve(d.hex()),
        PosixFilePermissions.fromString("rw-rw-rw-")); // others could have written it
    assertThat(cache.read(d, blob(1).length)).isNull();
  }

  @Test
  void theBlobsUsedLeastRecentlyGoBeyondTheBound() throws IOException {
    Path dir = tmp.resolve("blobs");
    TreeCache cache = TreeCache.in(dir);
    List<Digest> kept = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (int i = 0; i < TreeCache.MAX_BLOBS; i++) {
      Digest d = Digest.of(blob(i));
      cache.keep(d, blob(i));
      Files.setLastModifiedTime(dir.resolve(d.hex()), FileTime.fromMillis(now - 100_000 + i));
      kept.add(d);
    }
    // Read (so used) now: the oldest but one becomes the most recent.
    assertThat(cache.read(kept.get(0), blob(0).length)).isEqualTo(blob(0));

    Digest last = Digest.of(blob(-1));
    cache.keep(last, blob(-1));

    try (var files = Files.list(dir)) {
      assertThat(files.count()).isEqualTo(TreeCache.MAX_BLOBS);
    }
    assertThat(cache.read(kept.get(1), blob(1).length)).isNull(); // the least recently used
    assertThat(cache.read(kept.get(0), blob(0).length)).isEqualTo(blob(0));
    assertThat(cache.read(last, blob(-1).length)).isEqualTo(blob(-1));
  }
}
