package dev.coffer.store.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier indexes the entries an earlier instance left after the cache is built, not
 * before: each test holds that indexing task and looks at the cache before and after it ran.
 */
class DiskIndexRebuildTest {
  private static final int KIB = 1024;
  private static final long MIB = 1024 * 1024;

  @TempDir
  Path temp;

  private CountingStore counting;
  private Path directory;
  private final List<Runnable> indexing = new CopyOnWriteArrayList<>();
  private final List<CachedContentStore> caches = new ArrayList<>();

  @BeforeEach
  void setUp() {
    counting = CountingStore.over(MemoryStores.open());
    directory = temp.resolve("cache");
  }

  @AfterEach
  void tearDown() {
    caches.forEach(CachedContentStore::close);
    counting.close();
  }

  @Test
  void aCachedBlobIsReadFromDiskBeforeTheIndexIsRebuilt() {
    List<byte[]> blobs = cachedByAnEarlierInstance(3, 100 * KIB, 64 * MIB);
    int opensBefore = counting.readerOpens();

    CachedContentStore cache = cacheWithIndexingHeld(64 * MIB);
    assertThat(indexing).as("indexing left for later, not done by the build").hasSize(1);
    byte[] first = blobs.get(0);
    assertThat(read(cache, Digest.of(first))).isEqualTo(first);
    assertThat(counting.readerOpens()).as("served from disk, not fetched").isEqualTo(opensBefore);
    assertThat(cache.statsNow().diskHits()).isEqualTo(1);
    assertThat(cache.statsNow().diskBytes()).isEqualTo(first.length);

    runIndexing();
    CacheStats stats = cache.stats();
    assertThat(stats.diskBytes()).isEqualTo(3 * 100 * KIB).isEqualTo(bytesOnDisk());
    for (byte[] blob : blobs) {
      assertThat(read(cache, Digest.of(blob))).isEqualTo(blob);
    }
    assertThat(counting.readerOpens()).isEqualTo(opensBefore);
    assertThat(cache.stats().diskHits()).isEqualTo(4);
  }

  @Test
  void theByteBoundHoldsOnceTheIndexIsRebuilt() {
    int blobSize = 600 * KIB;
    long bound = 3 * MIB;
    cachedByAnEarlierInstance(12, blobSize, 64 * MIB);

    CachedContentStore cache = cacheWithIndexingHeld(bound);
    assertThat(bytesOnDisk()).as("over the new bound until indexed").isEqualTo(12L * blobSize);
    runIndexing();
    CacheStats stats = cache.stats();
    assertThat(bytesOnDisk()).isLessThanOrEqualTo(bound).isEqualTo(stats.diskBytes());
    assertThat(stats.diskEvictions()).isEqualTo(12 - bound / blobSize);
  }

  @Test
  void aBlobDeletedBeforeTheIndexIsRebuiltLeavesNoEntry() {
    List<byte[]> blobs = cachedByAnEarlierInstance(2, 10 * KIB, 64 * MIB);
    Digest deleted = Digest.of(blobs.get(0));

    CachedContentStore cache = cacheWithIndexingHeld(64 * MIB);
    cache.delete(deleted);
    assertThat(entry(deleted)).doesNotExist();
    runIndexing();
    assertThat(cache.stats().diskBytes()).isEqualTo(10 * KIB).isEqualTo(bytesOnDisk());
  }

  @Test
  void anEntryChangedOnDiskIsVerifiedWhenReadBeforeTheIndexIsRebuilt() throws IOException {
    byte[] blob = cachedByAnEarlierInstance(1, 10 * KIB, 64 * MIB).get(0);
    Digest digest = Digest.of(blob);
    byte[] flipped = blob.clone();
    flipped[100] ^= 1;
    Files.write(entry(digest), flipped); // same size; the write voids the entry's seal
    int opensBefore = counting.readerOpens();

    CachedContentStore cache = cacheWithIndexingHeld(64 * MIB);
    assertThat(read(cache, digest)).isEqualTo(blob);
    assertThat(counting.readerOpens()).as("fetched again").isEqualTo(opensBefore + 1);
    assertThat(cache.statsNow().corruptEntries()).isEqualTo(1);
    runIndexing();
    assertThat(entry(digest)).hasBinaryContent(blob);
    assertThat(cache.stats().diskBytes()).isEqualTo(blob.length).isEqualTo(bytesOnDisk());
  }

  @Test
  void clearWaitsForTheIndexAndDeletesEveryEntry() {
    cachedByAnEarlierInstance(5, 10 * KIB, 64 * MIB);
    CachedContentStore cache = CachingStores.builder(counting)
        .config(config(64 * MIB))
        .executor(Runnable::run)
        .indexExecutor(task -> new Thread(task, "index-test").start())
        .build();
    caches.add(cache);
    cache.clear();
    assertThat(bytesOnDisk()).isZero();
    assertThat(cache.stats().diskBytes()).isZero();
  }

  @Test
  void aCacheThatFilledAnEntryEvictsDownToTheBoundBeforeItCloses() {
    int blobSize = 600 * KIB;
    long bound = 3 * MIB;
    cachedByAnEarlierInstance(12, blobSize, 64 * MIB);
    byte[] fresh = new byte[blobSize];
    new Random(99).nextBytes(fresh);
    Digest digest = Digest.of(fresh);
    Content.writeBlob(counting, "fresh", new ByteArrayInputStream(fresh),
        Descriptor.of(digest, blobSize), Map.of());

    CachedContentStore cache = cacheWithIndexingHeld(bound);
    assertThat(read(cache, digest)).isEqualTo(fresh);
    cache.close(); // the held indexing never ran: the close does it
    assertThat(bytesOnDisk()).isLessThanOrEqualTo(bound);
    runIndexing();
    assertThat(bytesOnDisk()).isLessThanOrEqualTo(bound).isGreaterThan(0);
  }

  @Test
  void indexingThatRunsAfterCloseChangesNothing() {
    cachedByAnEarlierInstance(12, 600 * KIB, 64 * MIB);
    CachedContentStore cache = cacheWithIndexingHeld(3 * MIB);
    cache.close();
    runIndexing();
    assertThat(bytesOnDisk()).as("nothing evicted without the directory's lock")
        .isEqualTo(12L * 600 * KIB);
  }

  // ---- helpers ----

  private CacheConfig config(long diskMaxBytes) {
    return CacheConfig.builder()
        .directory(directory)
        .memoryMaxBytes(0)
        .diskMaxBytes(diskMaxBytes)
        .build();
  }

  /** Blobs read once through a cache that is then closed, so that their entries stay on disk. */
  private List<byte[]> cachedByAnEarlierInstance(int count, int size, long diskMaxBytes) {
    List<byte[]> blobs = new ArrayList<>();
    try (CachedContentStore earlier = CachingStores.builder(CountingStore.over(counting))
        .config(config(diskMaxBytes))
        .executor(Runnable::run)
        .build()) {
      for (int i = 0; i < count; i++) {
        byte[] blob = new byte[size];
        new Random(i).nextBytes(blob);
        Digest digest = Digest.of(blob);
        Content.writeBlob(counting, "put-" + i, new ByteArrayInputStream(blob),
            Descriptor.of(digest, size), Map.of());
        assertThat(read(earlier, digest)).isEqualTo(blob);
        blobs.add(blob);
      }
    }
    return blobs;
  }

  private CachedContentStore cacheWithIndexingHeld(long diskMaxBytes) {
    CachedContentStore cache = CachingStores.builder(counting)
        .config(config(diskMaxBytes))
        .executor(Runnable::run)
        .fillExecutor(Runnable::run)
        .indexExecutor(indexing::add)
        .build();
    caches.add(cache);
    return cache;
  }

  private void runIndexing() {
    assertThat(indexing).hasSize(1);
    indexing.remove(0).run();
  }

  private static byte[] read(CachedContentStore cache, Digest digest) {
    return Content.readBlob(cache, Descriptor.of(digest));
  }

  private Path entry(Digest digest) {
    return directory.resolve("blobs").resolve(digest.algorithm().label()).resolve(digest.hex());
  }

  private long bytesOnDisk() {
    try (Stream<Path> files = Files.walk(directory.resolve("blobs"))) {
      return files.filter(Files::isRegularFile).mapToLong(file -> {
        try {
          return Files.size(file);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
