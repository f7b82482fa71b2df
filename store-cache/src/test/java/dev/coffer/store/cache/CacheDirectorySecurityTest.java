package dev.coffer.store.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SEC-4: the disk tier trusts nothing another user could have placed: a cache directory that is not
 * private is refused, entries are never opened through links, and what is installed under a
 * digest is the very file that was written and verified.
 */
class CacheDirectorySecurityTest {

  @TempDir
  Path temp;

  @Test
  void refusesADirectoryOthersOrItsGroupCanWrite() throws IOException {
    for (String mode : new String[] {"rwxrwxrwx", "rwxrwx---"}) {
      Path directory = Files.createDirectory(temp.resolve("cache-" + mode));
      Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString(mode));
      ContentStore backing = MemoryStores.open();
      assertThatThrownBy(() -> CachingStores.builder(backing)
          .config(CacheConfig.builder().directory(directory).build()).build())
          .isInstanceOf(FailedPreconditionException.class)
          .hasMessage("cache directory " + directory + " is writable by "
              + (mode.endsWith("rwx") ? "others" : "its group") + " (mode "
              + (mode.endsWith("rwx") ? "0777" : "0770") + "); make it private (chmod 700 "
              + directory + ") or use another cache directory");
      assertThat(directory.resolve("blobs")).doesNotExist();
    }
  }

  @Test
  void refusesADirectoryOfAnotherUser() throws IOException {
    Path directory = Files.createDirectory(temp.resolve("theirs"));
    try {
      Files.setAttribute(directory, "unix:uid", 65534);
    } catch (IOException e) {
      assumeTrue(false, "changing a directory's owner needs root: " + e);
    }
    ContentStore backing = MemoryStores.open();
    assertThatThrownBy(() -> CachingStores.builder(backing)
        .config(CacheConfig.builder().directory(directory).build()).build())
        .isInstanceOf(FailedPreconditionException.class)
        .hasMessageStartingWith("cache directory " + directory + " belongs to user id 65534")
        .hasMessageEndingWith("use a cache directory of your own");
  }

  @Test
  void aCacheDirectoryThatIsALinkIsRefused() throws IOException {
    Path real = Files.createDirectory(temp.resolve("real"));
    Path link = Files.createSymbolicLink(temp.resolve("link"), real);
    ContentStore backing = MemoryStores.open();
    assertThatThrownBy(() -> CachingStores.builder(backing)
        .config(CacheConfig.builder().directory(link).build()).build())
        .isInstanceOf(FailedPreconditionException.class)
        .hasMessageContaining(link.toString()).hasMessageContaining("is not a directory");
  }

  @Test
  void anEntryReplacedByALinkIsNeverReadThroughIt() throws IOException {
    ContentStore backing = MemoryStores.open();
    byte[] blob = bytes(1 << 20, 1);
    Digest digest = store(backing, blob);
    Path directory = temp.resolve("cache");
    try (CachedContentStore cache = cache(backing, directory)) {
      assertThat(Content.readBlob(cache, Descriptor.of(digest))).isEqualTo(blob);
      Path entry = directory.resolve("blobs/sha256/" + digest.hex());
      assertThat(entry).isRegularFile();
      // Someone swaps the verified entry for a link to bytes of their own, of the same size.
      Path forged = Files.write(temp.resolve("forged"), bytes(blob.length, 2));
      Files.delete(entry);
      Files.createSymbolicLink(entry, forged);

      assertThat(Content.readBlob(cache, Descriptor.of(digest))).isEqualTo(blob);
    }
    // A restart does not index a link either.
    Path entry = directory.resolve("blobs/sha256/" + digest.hex());
    if (!Files.isSymbolicLink(entry)) {
      Files.deleteIfExists(entry);
      Files.createSymbolicLink(entry, temp.resolve("forged"));
    }
    try (CachedContentStore cache = cache(backing, directory)) {
      assertThat(cache.stats().diskBytes()).isZero();
      assertThat(Content.readBlob(cache, Descriptor.of(digest))).isEqualTo(blob);
    }
  }

  @Test
  void aStagingFileSwappedBeforeInstallIsNotInstalled() throws IOException {
    Path directory = temp.resolve("cache");
    byte[] blob = bytes(64 << 10, 3);
    Digest digest = Digest.of(blob);
    StatsCounter stats = new StatsCounter();
    try (DiskTier disk = DiskTier.open(directory, 1 << 30, Runnable::run, Runnable::run, stats)) {
      StagingFile staged = disk.newStagingFile("fill");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(staged.path())))
          .isEqualTo("rw-------");
      staged.channel().write(ByteBuffer.wrap(blob), 0);
      // After the bytes were hashed through the channel, another file takes the staged name.
      Path other = Files.write(directory.resolve("tmp/other"), bytes(blob.length, 4));
      Files.move(other, staged.path(), StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);

      assertThatThrownBy(() -> disk.install(digest, staged, blob.length))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(digest.toString())
          .hasMessageContaining("not the file that was written and verified");
      assertThat(disk.contains(digest)).isFalse();
      assertThat(disk.pathOf(digest)).doesNotExist();
      assertThat(disk.bytes()).isZero();
      staged.discard();

      // The file written through its channel is installed and readable.
      StagingFile good = disk.newStagingFile("fill");
      good.channel().write(ByteBuffer.wrap(blob), 0);
      disk.install(digest, good, blob.length);
      good.close();
      assertThat(Files.readAllBytes(disk.pathOf(digest))).isEqualTo(blob);
      assertThat(Files.isSymbolicLink(disk.pathOf(digest))).isFalse();
      assertThat(disk.open(digest, blob.length, true)).isNotNull().satisfies(c -> c.close());
    }
  }

  @Test
  void createdDirectoriesArePrivate() throws IOException {
    Path directory = temp.resolve("new/cache");
    try (CachedContentStore cache = cache(MemoryStores.open(), directory)) {
      for (Path d : new Path[] {directory, directory.resolve("blobs"),
          directory.resolve("blobs/sha256"), directory.resolve("tmp")}) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d,
            LinkOption.NOFOLLOW_LINKS))).as("%s", d).isEqualTo("rwx------");
      }
    }
  }

  private static CachedContentStore cache(ContentStore backing, Path directory) {
    return CachingStores.builder(backing)
        .config(CacheConfig.builder().directory(directory).memoryMaxBytes(0).build())
        .executor(Runnable::run)
        .build();
  }

  private static Digest store(ContentStore store, byte[] blob) {
    Digest digest = Digest.of(blob);
    Content.writeBlob(store, "blob", new ByteArrayInputStream(blob),
        Descriptor.of(digest, blob.length), Map.of());
    return digest;
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }
}
