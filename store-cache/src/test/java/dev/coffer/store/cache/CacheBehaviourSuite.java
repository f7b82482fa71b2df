package dev.coffer.store.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Writer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache's behaviour over a backing store: tiers, single flight, bounds, restart, corruption,
 * degraded disks, writes and invalidation. Subclasses supply the backing store; each call to
 * {@link #createBacking()} must return an empty store, which the suite closes after the test. Test
 * methods are public so that a backend that differs on purpose can override one, saying why.
 */
public abstract class CacheBehaviourSuite {
  static final int KIB = 1024;
  static final int MIB = 1024 * KIB;

  @TempDir
  Path temp;

  private final AtomicLong nanos = new AtomicLong();
  private final List<CachedContentStore> caches = new ArrayList<>();
  private ContentStore backing;
  private CountingStore counting;
  private Path directory;

  /** A new, empty backing store. */
  protected abstract ContentStore createBacking();

  @BeforeEach
  void setUp() {
    backing = createBacking();
    counting = CountingStore.over(backing);
    directory = temp.resolve("cache");
  }

  @AfterEach
  void tearDown() {
    caches.forEach(CachedContentStore::close);
    backing.close();
  }

  /** The configuration of most tests: 64 KiB blobs in memory, 64 MiB on disk. */
  CacheConfig.Builder config() {
    return CacheConfig.builder()
        .directory(directory)
        .memoryMaxBytes(4 * MIB)
        .memoryMaxBlobBytes(64 * KIB)
        .diskMaxBytes(64 * MIB);
  }

  CachedContentStore cache(CacheConfig config) {
    CachedContentStore cache = CachingStores.builder(counting)
        .config(config)
        .executor(Runnable::run)
        .ticker(nanos::get)
        .build();
    caches.add(cache);
    return cache;
  }

  /**
   * A cache whose fills run on the thread that starts them: each fill has ended, installed or
   * failed, before its first reader opens it, as a fill on a fill thread does when its reader is
   * descheduled between starting it and opening it.
   */
  CachedContentStore cacheWithFillsEndedBeforeTheirReaderOpensThem(CacheConfig config) {
    CachedContentStore cache = CachingStores.builder(counting)
        .config(config)
        .executor(Runnable::run)
        .fillExecutor(Runnable::run)
        .ticker(nanos::get)
        .build();
    caches.add(cache);
    return cache;
  }

  static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Stores {@code bytes} in the backing store directly, as another host would. */
  Digest put(byte[] bytes) {
    Digest digest = Digest.of(bytes);
    Content.writeBlob(backing, "put-" + digest.hex(), new ByteArrayInputStream(bytes),
        Descriptor.of(digest, bytes.length), Map.of());
    return digest;
  }

  static byte[] read(ContentStore store, Digest digest) {
    return Content.readBlob(store, Descriptor.of(digest));
  }

  Path entry(Digest digest) {
    return directory.resolve("blobs").resolve(digest.algorithm().label()).resolve(digest.hex());
  }

  long bytesOnDisk() throws IOException {
    try (Stream<Path> files = Files.list(directory.resolve("blobs/sha256"))) {
      return files.mapToLong(file -> {
        try {
          return Files.size(file);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    }
  }

  static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.toList();
    }
  }

  // ---- tiers ----

  @Test
  public void smallBlobIsFetchedOnceThenServedFromMemory() {
    byte[] bytes = random(10 * KIB, 1);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());

    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(read(cache, digest)).isEqualTo(bytes);

    assertThat(counting.readerOpens()).isEqualTo(1);
    CacheStats stats = cache.stats();
    assertThat(stats.memoryMisses()).isEqualTo(1);
    assertThat(stats.memoryHits()).isEqualTo(2);
    assertThat(stats.memoryBytesServed()).isEqualTo(2L * bytes.length);
    assertThat(stats.backingBytesServed()).isEqualTo(bytes.length);
    assertThat(stats.memoryBytes()).isEqualTo(bytes.length);
    assertThat(entry(digest)).exists().hasBinaryContent(bytes);
  }

  /**
   * A read of a blob the caller knows to be held, with its size (a tree's file): the cache asks
   * the backing store for no info, neither on the miss nor on the hits after it, and fetches the
   * bytes once; small ones from memory after, large ones from disk. Before, every such read asked
   * the info first (a record read on S3), and the fetch looked the blob up again.
   */
  @Test
  public void aHeldReadAsksNoInfoAndFetchesOnce() {
    byte[] small = random(10 * KIB, 11);
    byte[] large = random(3 * MIB + 5, 12);
    Digest smallDigest = put(small);
    Digest largeDigest = put(large);
    CachedContentStore cache = cache(config().build());
    int infosBefore = counting.infoCalls();

    for (int i = 0; i < 3; i++) {
      assertThat(Content.readBlob(cache::readerAtHeld, Descriptor.of(smallDigest, small.length)))
          .isEqualTo(small);
      assertThat(Content.readBlob(cache::readerAtHeld, Descriptor.of(largeDigest, large.length)))
          .isEqualTo(large);
    }

    assertThat(counting.infoCalls()).as("info calls").isEqualTo(infosBefore);
    assertThat(counting.readerOpens()).as("backing readers").isEqualTo(2);
    assertThat(Files.exists(entry(largeDigest))).isTrue();
  }

  @Test
  public void largeBlobIsServedFromDiskWithRangedReads() {
    byte[] bytes = random(3 * MIB + 17, 2);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());

    assertThat(read(cache, digest)).isEqualTo(bytes);
    try (ReaderAt reader = cache.readerAt(digest)) {
      assertThat(reader.size()).isEqualTo(bytes.length);
      byte[] middle = new byte[100_000];
      assertThat(reader.read(middle, 0, middle.length, 2 * MIB - 5)).isEqualTo(middle.length);
      assertThat(middle).isEqualTo(Arrays.copyOfRange(bytes, 2 * MIB - 5, 2 * MIB - 5 + 100_000));
      byte[] tail = new byte[100];
      assertThat(reader.read(tail, 0, tail.length, bytes.length - 10)).isEqualTo(10);
      assertThat(Arrays.copyOf(tail, 10))
          .isEqualTo(Arrays.copyOfRange(bytes, bytes.length - 10, bytes.length));
      assertThat(reader.read(tail, 0, tail.length, bytes.length)).isEqualTo(-1);
    }

    assertThat(counting.readerOpens()).isEqualTo(1);
    CacheStats stats = cache.stats();
    assertThat(stats.diskMisses()).isEqualTo(1);
    assertThat(stats.diskHits()).isEqualTo(1);
    assertThat(stats.diskBytesServed()).isEqualTo(100_000 + 10);
    assertThat(stats.loads()).isEqualTo(1);
    assertThat(stats.diskBytes()).isEqualTo(bytes.length);
  }

  @Test
  public void directoryIsPrivateToItsOwner() throws IOException {
    cache(config().build());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)))
        .isEqualTo("rwx------");
  }

  @Test
  public void readerRefusesBadPositionsAndReadsAfterClose() {
    byte[] bytes = random(5 * KIB, 3);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    ReaderAt reader = cache.readerAt(digest);
    assertThatThrownBy(() -> reader.read(ByteBuffer.allocate(1), -1))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("-1");
    reader.close();
    reader.close();
    assertThatThrownBy(() -> reader.read(ByteBuffer.allocate(1), 0))
        .isInstanceOf(FailedPreconditionException.class).hasMessageContaining(digest.toString());
  }

  @Test
  public void unknownBlobIsNotFound() {
    CachedContentStore cache = cache(config().build());
    Digest missing = Digest.of(new byte[] {42});
    assertThatThrownBy(() -> cache.readerAt(missing)).isInstanceOf(NotFoundException.class);
    assertThat(cache.stats().loads()).isZero();
  }

  // ---- single flight and reads during a fill ----

  @Test
  public void concurrentReadersOfAColdLargeBlobCauseOneFetch() throws Exception {
    assertSingleFlight(4 * MIB + 3, config().build());
  }

  @Test
  public void concurrentReadersOfAColdSmallBlobCauseOneFetch() throws Exception {
    assertSingleFlight(20 * KIB, config().build());
  }

  @Test
  public void concurrentReadersOfAColdSmallBlobCauseOneFetchWithoutDisk() throws Exception {
    assertSingleFlight(20 * KIB, config().directory(null).build());
  }

  private void assertSingleFlight(int size, CacheConfig config) throws Exception {
    byte[] bytes = random(size, size);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config);
    int readers = 8;
    // Hold the fetch until every reader has asked, so none of them can find the blob cached.
    counting.closeGate(0);
    CountDownLatch asked = new CountDownLatch(readers);
    ExecutorService pool = Executors.newFixedThreadPool(readers);
    try {
      List<Future<byte[]>> results = new ArrayList<>();
      for (int i = 0; i < readers; i++) {
        results.add(pool.submit(() -> {
          asked.countDown();
          return read(cache, digest);
        }));
      }
      assertThat(asked.await(30, TimeUnit.SECONDS)).isTrue();
      // Gives the readers time to reach the cache, not a poll: the outcome does not depend on it.
      Thread.sleep(200);
      counting.openGate();
      for (Future<byte[]> result : results) {
        assertThat(result.get(60, TimeUnit.SECONDS)).isEqualTo(bytes);
      }
    } finally {
      counting.openGate();
      pool.shutdownNow();
    }
    assertThat(counting.readerOpens()).isEqualTo(1);
    assertThat(counting.bytesRead()).isEqualTo(size);
    assertThat(cache.stats().loads()).isEqualTo(1);
  }

  @Test
  public void fillsBeyondTheThreadBoundWaitForAThread() throws Exception {
    byte[] first = random(2 * MIB, 36);
    byte[] second = random(2 * MIB, 37);
    Digest firstDigest = put(first);
    Digest secondDigest = put(second);
    CachedContentStore cache = cache(config().fillThreads(1).build());
    counting.closeGate(0);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<byte[]> firstRead = pool.submit(() -> read(cache, firstDigest));
      Future<byte[]> secondRead = pool.submit(() -> read(cache, secondDigest));
      // One fill thread: the first blob's fetch starts, the second's not while the first is held.
      await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(30))
          .until(counting::readerOpens, opens -> opens == 1);
      counting.openGate();
      assertThat(firstRead.get(60, TimeUnit.SECONDS)).isEqualTo(first);
      assertThat(secondRead.get(60, TimeUnit.SECONDS)).isEqualTo(second);
    } finally {
      counting.openGate();
      pool.shutdownNow();
    }
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(cache.stats().loads()).isEqualTo(2);
  }

  @Test
  public void largeColdBlobIsReadableWhileItFills() throws Exception {
    byte[] bytes = random(4 * MIB, 4);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    counting.closeGate(Fill.CHUNK);
    try (ReaderAt reader = cache.readerAt(digest)) {
      byte[] head = new byte[64 * KIB];
      // The fill is held after its first chunk: this read can only finish from the filled prefix.
      int n = CompletableFuture.supplyAsync(() -> reader.read(head, 0, head.length, 1000))
          .get(30, TimeUnit.SECONDS);
      assertThat(n).isEqualTo(head.length);
      assertThat(head).isEqualTo(Arrays.copyOfRange(bytes, 1000, 1000 + head.length));
      assertThat(entry(digest)).doesNotExist();
      counting.openGate();
      byte[] tail = new byte[KIB];
      assertThat(reader.read(tail, 0, tail.length, bytes.length - KIB)).isEqualTo(KIB);
      assertThat(tail).isEqualTo(Arrays.copyOfRange(bytes, bytes.length - KIB, bytes.length));
    } finally {
      counting.openGate();
    }
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isEqualTo(1);
    assertThat(entry(digest)).hasBinaryContent(bytes);
  }

  // ---- bounds ----

  @Test
  public void diskTierStaysWithinItsBoundAndDeletesEvictedFiles() throws IOException {
    int blobSize = 600 * KIB;
    long bound = 3 * MIB;
    CachedContentStore cache = cache(config().memoryMaxBytes(0).diskMaxBytes(bound).build());
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      byte[] bytes = random(blobSize, 100 + i);
      Digest digest = put(bytes);
      digests.add(digest);
      assertThat(read(cache, digest)).isEqualTo(bytes);
      assertThat(bytesOnDisk()).isLessThanOrEqualTo(bound + blobSize);
      assertThat(cache.stats().diskBytes()).isEqualTo(bytesOnDisk());
    }
    CacheStats stats = cache.stats();
    assertThat(stats.diskEvictions()).isGreaterThan(0);
    long present = digests.stream().filter(d -> Files.exists(entry(d))).count();
    assertThat(present).isEqualTo(12 - stats.diskEvictions());
    assertThat(present * blobSize).isLessThanOrEqualTo(bound);
    assertThat(files(directory.resolve("tmp"))).isEmpty();
  }

  @Test
  public void concurrentReadersUnderEvictionAlwaysGetTheRightBytes() throws Exception {
    int blobSize = 600 * KIB;
    long bound = 2 * MIB;
    List<byte[]> blobs = new ArrayList<>();
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      blobs.add(random(blobSize, 300 + i));
      digests.add(put(blobs.get(i)));
    }
    CachedContentStore cache = cache(config().memoryMaxBytes(0).diskMaxBytes(bound).build());
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = t;
        results.add(pool.submit(() -> {
          Random random = new Random(seed);
          int checked = 0;
          for (int n = 0; n < 25; n++) {
            int i = random.nextInt(blobs.size());
            try (ReaderAt reader = cache.readerAt(digests.get(i))) {
              int position = random.nextInt(blobSize - KIB);
              byte[] part = new byte[KIB];
              assertThat(reader.read(part, 0, KIB, position)).isEqualTo(KIB);
              assertThat(part)
                  .isEqualTo(Arrays.copyOfRange(blobs.get(i), position, position + KIB));
              checked++;
            }
          }
          return checked;
        }));
      }
      for (Future<Integer> result : results) {
        assertThat(result.get(120, TimeUnit.SECONDS)).isEqualTo(25);
      }
    } finally {
      pool.shutdownNow();
    }
    // Fills still running for readers that only wanted a prefix finish before close returns.
    cache.close();
    assertThat(bytesOnDisk()).isLessThanOrEqualTo(bound + blobSize);
    assertThat(files(directory.resolve("tmp"))).isEmpty();
    for (int i = 0; i < blobs.size(); i++) {
      if (Files.exists(entry(digests.get(i)))) {
        assertThat(entry(digests.get(i))).hasBinaryContent(blobs.get(i));
      }
    }
  }

  @Test
  public void memoryTierStaysWithinItsBound() {
    int blobSize = 50 * KIB;
    CachedContentStore cache = cache(config().memoryMaxBytes(200 * KIB).build());
    for (int i = 0; i < 10; i++) {
      byte[] bytes = random(blobSize, 200 + i);
      assertThat(read(cache, put(bytes))).isEqualTo(bytes);
      assertThat(cache.stats().memoryBytes()).isLessThanOrEqualTo(200 * KIB);
    }
    assertThat(cache.stats().memoryEvictions()).isGreaterThan(0);
  }

  @Test
  public void blobLargerThanTheDiskBoundIsReadThrough() throws IOException {
    byte[] bytes = random(2 * MIB, 5);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().diskMaxBytes(MIB).build());
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(entry(digest)).doesNotExist();
    assertThat(cache.stats().backingBytesServed()).isEqualTo(2L * bytes.length);
  }

  // ---- restart and corruption ----

  /** Stores each blob, reads it through a first cache, and closes that cache, before a restart. */
  private List<Digest> cachedBeforeRestart(byte[]... blobs) {
    List<Digest> digests = new ArrayList<>();
    CachedContentStore first = cache(config().build());
    for (byte[] bytes : blobs) {
      Digest digest = put(bytes);
      assertThat(read(first, digest)).isEqualTo(bytes);
      digests.add(digest);
    }
    first.close();
    return digests;
  }

  @Test
  public void restartedCacheServesFromDiskWithoutFetching() {
    byte[] small = random(10 * KIB, 6);
    byte[] large = random(2 * MIB, 7);
    List<Digest> digests = cachedBeforeRestart(small, large);
    Digest smallDigest = digests.get(0);
    Digest largeDigest = digests.get(1);
    assertThat(counting.readerOpens()).isEqualTo(2);

    CachedContentStore second = cache(config().build());
    assertThat(second.stats().diskBytes()).isEqualTo(small.length + large.length);
    assertThat(read(second, smallDigest)).isEqualTo(small);
    assertThat(read(second, largeDigest)).isEqualTo(large);
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(second.stats().diskHits()).isEqualTo(2);
    assertThat(second.stats().loads()).isZero();
  }

  @Test
  public void restartRemovesLeftoverFills() throws IOException {
    CachedContentStore first = cache(config().build());
    first.close();
    Path leftover = directory.resolve("tmp").resolve("abc-123.part");
    Files.write(leftover, new byte[] {1, 2, 3});
    cache(config().build());
    assertThat(leftover).doesNotExist();
  }

  @Test
  public void secondCacheOnALockedDirectoryReadsThrough() {
    byte[] bytes = random(2 * MIB, 8);
    Digest digest = put(bytes);
    cache(config().build());
    CachedContentStore second = cache(config().build());
    assertThat(second.stats().diskDegraded()).isTrue();
    assertThat(read(second, digest)).isEqualTo(bytes);
    assertThat(entry(digest)).doesNotExist();
  }

  @Test
  public void truncatedEntryIsEvictedAndFetchedAgain() throws IOException {
    byte[] bytes = random(2 * MIB, 9);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    assertThat(read(cache, digest)).isEqualTo(bytes);
    try (FileChannel channel = FileChannel.open(entry(digest), StandardOpenOption.WRITE)) {
      channel.truncate(MIB);
    }

    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(cache.stats().corruptEntries()).isEqualTo(1);
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(entry(digest)).hasBinaryContent(bytes);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isEqualTo(2);
  }

  @Test
  public void entryTruncatedUnderAnOpenReaderFallsBackToTheBackingStore() throws IOException {
    byte[] bytes = random(2 * MIB, 10);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    assertThat(read(cache, digest)).isEqualTo(bytes);
    try (ReaderAt reader = cache.readerAt(digest)) {
      try (FileChannel channel = FileChannel.open(entry(digest), StandardOpenOption.WRITE)) {
        channel.truncate(MIB);
      }
      byte[] tail = new byte[KIB];
      assertThat(reader.read(tail, 0, tail.length, bytes.length - KIB)).isEqualTo(KIB);
      assertThat(tail).isEqualTo(Arrays.copyOfRange(bytes, bytes.length - KIB, bytes.length));
    }
    assertThat(cache.stats().corruptEntries()).isEqualTo(1);
    assertThat(entry(digest)).doesNotExist();
  }

  @Test
  public void flippedByteIsDetectedWhenVerifyingOnOpen() throws IOException {
    byte[] bytes = random(MIB, 11);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().verifyOnOpen(true).build());
    assertThat(read(cache, digest)).isEqualTo(bytes);
    flipByte(entry(digest), 12345);

    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(cache.stats().corruptEntries()).isEqualTo(1);
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(entry(digest)).hasBinaryContent(bytes);
  }

  @Test
  public void flippedByteIsDetectedOnTheFirstOpenAfterARestart() throws IOException {
    byte[] small = random(10 * KIB, 12);
    byte[] large = random(3 * MIB, 38);
    List<Digest> digests = cachedBeforeRestart(small, large);
    Digest smallDigest = digests.get(0);
    Digest largeDigest = digests.get(1);
    flipByte(entry(smallDigest), 0);
    flipByte(entry(largeDigest), 2 * MIB + 1);

    // Without verifyOnOpen: entries found at start are verified on their first open.
    CachedContentStore cache = cache(config().build());
    assertThat(read(cache, smallDigest)).isEqualTo(small);
    assertThat(read(cache, largeDigest)).isEqualTo(large);
    assertThat(cache.stats().corruptEntries()).isEqualTo(2);
    assertThat(counting.readerOpens()).isEqualTo(4);
    assertThat(entry(smallDigest)).hasBinaryContent(small);
    assertThat(entry(largeDigest)).hasBinaryContent(large);
  }

  @Test
  public void sealedEntryIsTrustedAfterARestartAndOnlyVerifyOnOpenHashesIt() throws IOException {
    byte[] large = random(3 * MIB, 39);
    Digest digest = cachedBeforeRestart(random(10 * KIB, 40), large).get(1);
    Assumptions.assumeTrue(EntrySeal.holds(entry(digest), digest),
        "this file system keeps no user extended attributes, so entries are not sealed");
    // Corruption that no write made (the medium's): the bytes change, the modification time not.
    FileTime sealed = Files.getLastModifiedTime(entry(digest));
    flipByte(entry(digest), 2 * MIB + 7);
    Files.setLastModifiedTime(entry(digest), sealed);

    // CLI-6: the seal stands for the hash taken at install, so the entry is served unhashed ...
    // (read positionally: Content.readBlob hashes what it read, and would catch it, INT-2)
    CachedContentStore trusting = cache(config().build());
    assertThatThrownBy(() -> read(trusting, digest)).isInstanceOf(DataLossException.class);
    byte[] served = readUnverified(trusting, digest);
    assertThat(served).hasSize(large.length).isNotEqualTo(large);
    assertThat(trusting.stats().corruptEntries()).isZero();
    trusting.close();
    // ... and verifyOnOpen is what finds such corruption.
    CachedContentStore verifying = cache(config().verifyOnOpen(true).build());
    assertThat(read(verifying, digest)).isEqualTo(large);
    assertThat(verifying.stats().corruptEntries()).isEqualTo(1);
  }

  @Test
  public void transferToHandsOverAVerifiedEntryAndFallsBackWhenItIsTruncated()
      throws IOException {
    byte[] bytes = random(3 * MIB, 41);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    try (ReaderAt filling = cache.readerAt(digest)) {
      assertThat(filling.servesVerifiedContent()).isFalse();
      assertThat(transferAll(filling, 0, bytes.length)).isEqualTo(bytes);
    }
    try (ReaderAt reader = cache.readerAt(digest)) {
      assertThat(reader.servesVerifiedContent()).isTrue();
      assertThat(transferAll(reader, MIB, 10)).isEqualTo(Arrays.copyOfRange(bytes, MIB, MIB + 10));
      long before = cache.stats().diskBytesServed();
      assertThat(transferAll(reader, 0, Long.MAX_VALUE)).isEqualTo(bytes);
      assertThat(cache.stats().diskBytesServed() - before).isEqualTo(bytes.length);
      try (FileChannel channel = FileChannel.open(entry(digest), StandardOpenOption.WRITE)) {
        channel.truncate(MIB);
      }
      assertThat(transferAll(reader, 0, bytes.length)).isEqualTo(bytes);
      assertThat(reader.servesVerifiedContent()).isFalse();
      assertThat(transferAll(reader, bytes.length, 5)).isEmpty();
    }
    assertThat(cache.stats().corruptEntries()).isEqualTo(1);
    assertThat(entry(digest)).doesNotExist();
  }

  private static byte[] transferAll(ReaderAt reader, long position, long count)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n = reader.transferTo(position, count, Channels.newChannel(out));
    assertThat(n).isEqualTo(out.size());
    return out.toByteArray();
  }

  private static void flipByte(Path file, long position) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, position);
      one.put(0, (byte) ~one.get(0)).rewind();
      channel.write(one, position);
    }
  }

  /**
   * Reads a whole blob with positional reads, without verifying it, so that what the cache serves
   * is seen as served (Content.readBlob would verify it again).
   */
  static byte[] readUnverified(ContentStore store, Digest digest) {
    try (ReaderAt reader = store.readerAt(Descriptor.of(digest))) {
      byte[] bytes = new byte[(int) reader.size()];
      int done = 0;
      while (done < bytes.length) {
        int n = reader.read(bytes, done, Math.min(64 * KIB, bytes.length - done), done);
        assertThat(n).isPositive();
        done += n;
      }
      return bytes;
    }
  }

  @Test
  public void fetchThatDoesNotMatchItsDigestFailsItsReadersWithDataLossAndIsNeverCached()
      throws IOException {
    // INT-4: a disk fill that fails verification fails its readers (at the end for those that
    // read its prefix), is counted, caches nothing, and the next read fetches again.
    byte[] bytes = random(2 * MIB, 13);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    counting.corruptReads(true);

    assertThatThrownBy(() -> readUnverified(cache, digest))
        .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString());
    assertThat(entry(digest)).doesNotExist();
    assertThat(files(directory.resolve("tmp"))).isEmpty();
    assertThat(cache.stats().loadFailures()).isEqualTo(1);
    assertThat(cache.stats().corruptLoads()).isEqualTo(1);

    counting.corruptReads(false);
    assertThat(readUnverified(cache, digest)).isEqualTo(bytes);
    assertThat(entry(digest)).hasBinaryContent(bytes);
    assertThat(counting.readerOpens()).isEqualTo(2);
  }

  @Test
  public void smallBlobThatDoesNotMatchItsDigestIsAnErrorNotAServedResult() {
    byte[] bytes = random(KIB, 31);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    counting.corruptReads(true);

    assertThatThrownBy(() -> readUnverified(cache, digest))
        .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString());
    assertThat(cache.stats().corruptLoads()).isEqualTo(1);
    assertThat(cache.stats().memoryBytes()).isZero();

    counting.corruptReads(false);
    assertThat(readUnverified(cache, digest)).isEqualTo(bytes);
    assertThat(readUnverified(cache, digest)).isEqualTo(bytes);
    assertThat(cache.stats().memoryHits()).isEqualTo(1);
  }

  @Test
  public void smallBlobWhoseFillFailedVerificationBeforeItsReaderOpenedItIsOneCorruptLoad() {
    // INT-4: the reader of a fill that already ended corrupt fails with that fill's DataLoss; it
    // does not fetch the blob a second time (which counted a second corrupt load).
    byte[] bytes = random(KIB, 33);
    Digest digest = put(bytes);
    CachedContentStore cache = cacheWithFillsEndedBeforeTheirReaderOpensThem(config().build());
    counting.corruptReads(true);

    assertThatThrownBy(() -> readUnverified(cache, digest))
        .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString());
    assertThat(counting.readerOpens()).isEqualTo(1);
    assertThat(cache.stats().corruptLoads()).isEqualTo(1);
    assertThat(cache.stats().loadFailures()).isEqualTo(1);
    assertThat(cache.stats().memoryBytes()).isZero();
    assertThat(entry(digest)).doesNotExist();

    counting.corruptReads(false);
    assertThat(readUnverified(cache, digest)).isEqualTo(bytes);
    assertThat(readUnverified(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(cache.stats().memoryHits()).isEqualTo(1);
    assertThat(entry(digest)).hasBinaryContent(bytes);
  }

  @Test
  public void largeBlobWhoseFillFailedVerificationBeforeItsReaderOpenedItIsNeverReadThrough() {
    // INT-4: a reader that finds its fill already ended corrupt must not read the backing store's
    // bytes through unverified.
    byte[] bytes = random(2 * MIB, 34);
    Digest digest = put(bytes);
    CachedContentStore cache = cacheWithFillsEndedBeforeTheirReaderOpensThem(config().build());
    counting.corruptReads(true);

    assertThatThrownBy(() -> readUnverified(cache, digest))
        .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString());
    assertThat(counting.readerOpens()).isEqualTo(1);
    assertThat(cache.stats().corruptLoads()).isEqualTo(1);
    assertThat(cache.stats().backingBytesServed()).isZero();
    assertThat(entry(digest)).doesNotExist();

    counting.corruptReads(false);
    assertThat(readUnverified(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(entry(digest)).hasBinaryContent(bytes);
  }

  @Test
  public void withoutADiskTierACorruptBlobFailsTheWholeReadThrough() {
    byte[] bytes = random(2 * MIB, 32);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().directory(null).build());
    counting.corruptReads(true);
    assertThatThrownBy(() -> read(cache, digest)).isInstanceOf(DataLossException.class);
  }

  // ---- degraded disk ----

  /** Makes a directory of the disk tier fail every use, even for root, whom chmod does not stop. */
  private static void replaceWithRegularFile(Path emptyDirectory) throws IOException {
    Files.delete(emptyDirectory);
    Files.write(emptyDirectory, new byte[] {1});
  }

  @Test
  public void directoryUnderARegularFileDegradesToReadThrough() throws IOException {
    Path file = Files.write(temp.resolve("not-a-directory"), new byte[] {1});
    byte[] large = random(2 * MIB, 14);
    byte[] small = random(KIB, 15);
    Digest largeDigest = put(large);
    Digest smallDigest = put(small);
    CachedContentStore cache = cache(config().directory(file.resolve("cache")).build());

    assertThat(read(cache, largeDigest)).isEqualTo(large);
    assertThat(read(cache, largeDigest)).isEqualTo(large);
    assertThat(read(cache, smallDigest)).isEqualTo(small);
    assertThat(read(cache, smallDigest)).isEqualTo(small);
    CacheStats stats = cache.stats();
    assertThat(stats.diskDegraded()).isTrue();
    assertThat(stats.diskFailures()).isEqualTo(1);
    assertThat(stats.memoryHits()).isEqualTo(1);
    assertThat(counting.readerOpens()).isEqualTo(3);
  }

  @Test
  public void diskThatFailsLaterDegradesToReadThrough() throws IOException {
    byte[] bytes = random(2 * MIB, 16);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    replaceWithRegularFile(directory.resolve("tmp"));

    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    CacheStats stats = cache.stats();
    assertThat(stats.diskDegraded()).isTrue();
    assertThat(stats.diskFailures()).isEqualTo(1);
    assertThat(counting.readerOpens()).isEqualTo(2);
    assertThat(entry(digest)).doesNotExist();
  }

  @Test
  public void fillThatCannotBeInstalledIsReadThroughByItsReaders() throws IOException {
    byte[] bytes = random(2 * MIB, 32);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    replaceWithRegularFile(directory.resolve("blobs/sha256"));

    assertThat(read(cache, digest)).isEqualTo(bytes);
    CacheStats stats = cache.stats();
    assertThat(stats.diskDegraded()).isTrue();
    assertThat(stats.diskFailures()).isEqualTo(1);
    assertThat(stats.loadFailures()).isEqualTo(1);
    assertThat(files(directory.resolve("tmp"))).isEmpty();
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isEqualTo(3);
  }

  @Test
  public void degradedDiskIsTriedAgainAfterTheRetryTime() throws IOException {
    byte[] bytes = random(2 * MIB, 17);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().degradedRetry(Duration.ZERO).build());
    Path tmp = directory.resolve("tmp");
    replaceWithRegularFile(tmp);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(cache.stats().diskFailures()).isEqualTo(1);

    Files.delete(tmp);
    Files.createDirectory(tmp);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(entry(digest)).hasBinaryContent(bytes);
    assertThat(cache.stats().diskDegraded()).isFalse();
  }

  // ---- writes ----

  @Test
  public void committedBlobIsPlacedInTheCache() {
    byte[] bytes = random(2 * MIB, 18);
    Digest digest = Digest.of(bytes);
    CachedContentStore cache = cache(config().build());
    Content.writeBlob(cache, "write-1", new ByteArrayInputStream(bytes),
        Descriptor.of(digest, bytes.length), Map.of());

    assertThat(entry(digest)).hasBinaryContent(bytes);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isZero();
    assertThat(cache.stats().diskHits()).isEqualTo(1);
  }

  @Test
  public void committedSmallBlobIsPlacedInMemoryWithoutADiskTier() {
    byte[] small = random(10 * KIB, 34);
    byte[] large = random(100 * KIB, 35);
    CachedContentStore cache = cache(config().directory(null).build());
    for (byte[] bytes : List.of(small, large)) {
      Content.writeBlob(cache, "write-" + bytes.length, new ByteArrayInputStream(bytes),
          Descriptor.of(Digest.of(bytes), bytes.length), Map.of());
    }

    assertThat(read(cache, Digest.of(small))).isEqualTo(small);
    assertThat(counting.readerOpens()).isZero();
    assertThat(cache.stats().memoryHits()).isEqualTo(1);
    assertThat(read(cache, Digest.of(large))).isEqualTo(large);
    assertThat(counting.readerOpens()).isEqualTo(1);
  }

  @Test
  public void putBlobIsPlacedInTheCache() {
    byte[] bytes = random(200 * KIB, 36);
    Digest digest = Digest.of(bytes);
    CachedContentStore cache = cache(config().build());
    assertThat(cache.putAndRef(bytes, digest, Map.of()).refCount()).isEqualTo(1);
    assertThatThrownBy(() -> cache.put(bytes, null, Map.of()))
        .isInstanceOf(AlreadyExistsException.class);
    assertThatThrownBy(() -> cache.put(random(10, 37), digest, Map.of()))
        .isInstanceOf(FailedPreconditionException.class);

    assertThat(entry(digest)).hasBinaryContent(bytes);
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isZero();
    assertThat(cache.info(digest).refCount()).isEqualTo(1);
    assertThat(backing.info(digest).refCount()).isEqualTo(1);
  }

  @Test
  public void putSmallBlobIsPlacedInMemoryWithoutADiskTier() {
    byte[] bytes = random(10 * KIB, 38);
    CachedContentStore cache = cache(config().directory(null).build());
    byte[] original = bytes.clone();
    Digest digest = cache.put(bytes, null, Map.of("k", "v")).digest();
    bytes[0] ^= 1; // the caller's array is its own again: the cache keeps a copy

    assertThat(read(cache, digest)).isEqualTo(original);
    assertThat(counting.readerOpens()).isZero();
    assertThat(cache.stats().memoryHits()).isEqualTo(1);
    assertThat(backing.info(digest).labels()).isEqualTo(Map.of("k", "v"));
  }

  @Test
  public void committedBlobIsNotCachedWhenDisabled() {
    byte[] bytes = random(2 * MIB, 19);
    Digest digest = Digest.of(bytes);
    CachedContentStore cache = cache(config().cacheOnCommit(false).build());
    Content.writeBlob(cache, "write-2", new ByteArrayInputStream(bytes),
        Descriptor.of(digest, bytes.length), Map.of());
    assertThat(entry(digest)).doesNotExist();
    assertThat(read(cache, digest)).isEqualTo(bytes);
    assertThat(counting.readerOpens()).isEqualTo(1);
  }

  @Test
  public void failedOrAbandonedWritesLeaveNoFiles() throws IOException {
    byte[] bytes = random(100 * KIB, 20);
    CachedContentStore cache = cache(config().build());
    try (Writer writer = cache.writer("write-3", Descriptor.UNKNOWN)) {
      writer.write(bytes);
      assertThatThrownBy(() -> writer.commit(bytes.length, Digest.of(new byte[1]), Map.of()))
          .isInstanceOf(FailedPreconditionException.class);
    }
    try (Writer writer = cache.writer("write-4", Descriptor.UNKNOWN)) {
      writer.write(bytes);
    }
    assertThat(files(directory.resolve("tmp"))).isEmpty();
    assertThat(files(directory.resolve("blobs/sha256"))).isEmpty();
  }

  @Test
  public void truncatedAndRewrittenIngestIsCachedWithTheRewrittenBytes() {
    byte[] bytes = random(100 * KIB, 21);
    Digest digest = Digest.of(bytes);
    CachedContentStore cache = cache(config().build());
    try (Writer writer = cache.writer("write-5", Descriptor.UNKNOWN)) {
      writer.write(random(5000, 22));
      writer.truncate(0);
      writer.write(bytes);
      writer.commit(bytes.length, digest, Map.of());
    }
    assertThat(entry(digest)).hasBinaryContent(bytes);
  }

  // ---- invalidation ----

  @Test
  public void referenceTakenByACommitIsVisibleAtOnce() {
    byte[] bytes = random(KIB, 33);
    Digest digest = put(bytes);
    for (boolean cacheOnCommit : new boolean[] {true, false}) {
      CachedContentStore cache = cache(config().cacheOnCommit(cacheOnCommit)
          .directory(temp.resolve("cache-" + cacheOnCommit)).build());
      long before = cache.info(digest).refCount();
      try (Writer writer = cache.writer("again-" + cacheOnCommit, Descriptor.UNKNOWN)) {
        writer.write(bytes);
        assertThat(writer.commitAndRef(bytes.length, digest, Map.of()).refCount())
            .isEqualTo(before + 1);
      }
      assertThat(cache.info(digest).refCount()).isEqualTo(before + 1);
    }
  }

  @Test
  public void deleteThroughTheCacheInvalidatesAtOnce() {
    byte[] bytes = random(2 * MIB, 23);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().build());
    assertThat(read(cache, digest)).isEqualTo(bytes);
    cache.delete(digest);
    assertThat(entry(digest)).doesNotExist();
    assertThatThrownBy(() -> cache.readerAt(digest)).isInstanceOf(NotFoundException.class)
        .hasMessageContaining(digest.toString());
    assertThatThrownBy(() -> cache.info(digest)).isInstanceOf(NotFoundException.class);
  }

  @Test
  public void derefToZeroThroughTheCacheInvalidatesTheBlobAndItsCascade() {
    byte[] parentBytes = random(KIB, 24);
    byte[] childBytes = random(2 * MIB, 25);
    CachedContentStore cache = cache(config().build());
    Digest parent = commitAndRef(cache, parentBytes);
    Digest child = commitAndRef(cache, childBytes);
    cache.link(child, parent);
    assertThat(read(cache, child)).isEqualTo(childBytes);
    assertThat(read(cache, parent)).isEqualTo(parentBytes);

    cache.deref(parent);
    assertThatThrownBy(() -> cache.readerAt(parent)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> cache.readerAt(child)).isInstanceOf(NotFoundException.class);
    assertThat(entry(parent)).doesNotExist();
    assertThat(entry(child)).doesNotExist();
  }

  @Test
  public void aLinkThroughTheCacheAsksTheBackingStoreNothingElse() {
    CachedContentStore cache = cache(config().build());
    Digest parent = commitAndRef(cache, random(KIB, 41));
    Digest child = commitAndRef(cache, random(KIB, 42));
    Digest other = commitAndRef(cache, random(KIB, 43));
    int infoCalls = counting.infoCalls();

    // A link never takes a blob's last reference (it holds the one it takes or finds), so there
    // is nothing to look up afterwards: one record change per call, not one more per target.
    cache.link(child, parent);
    cache.ref(child); // linking again passes (drops) a reference the caller holds
    cache.linkAll(java.util.List.of(child, other), parent);

    assertThat(counting.infoCalls()).isEqualTo(infoCalls);
    assertThat(cache.info(parent).links()).containsExactlyInAnyOrder(child, other);
    assertThat(cache.info(child).refCount()).isEqualTo(1);
    assertThat(cache.info(other).refCount()).isEqualTo(1);
  }

  private static Digest commitAndRef(ContentStore store, byte[] bytes) {
    Digest digest = Digest.of(bytes);
    try (Writer writer = store.writer("ref-" + digest.hex(), Descriptor.UNKNOWN)) {
      writer.write(bytes);
      return writer.commitAndRef(bytes.length, digest, Map.of()).digest();
    }
  }

  @Test
  public void blobDeletedByAnotherHostStopsBeingServedWhenItsInfoExpires() {
    byte[] bytes = random(2 * MIB, 26);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().infoTtl(Duration.ofSeconds(5)).build());
    assertThat(read(cache, digest)).isEqualTo(bytes);
    backing.delete(digest);

    // Within the time-to-live the cached info still vouches for the blob, as documented.
    nanos.addAndGet(Duration.ofSeconds(4).toNanos());
    assertThat(read(cache, digest)).isEqualTo(bytes);

    nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThatThrownBy(() -> cache.readerAt(digest)).isInstanceOf(NotFoundException.class);
    assertThat(entry(digest)).doesNotExist();
  }

  @Test
  public void openReadersOfABlobDeletedByAnotherHostStopAfterTheRecheckBound() throws IOException {
    byte[] small = random(KIB, 32);
    byte[] large = random(2 * MIB, 33);
    Digest smallDigest = put(small);
    Digest largeDigest = put(large);
    CachedContentStore cache = cache(config().infoTtl(Duration.ofSeconds(5)).build());
    assertThat(read(cache, smallDigest)).isEqualTo(small);
    assertThat(read(cache, largeDigest)).isEqualTo(large);
    try (ReaderAt memoryReader = cache.readerAt(smallDigest);
        ReaderAt diskReader = cache.readerAt(largeDigest)) {
      assertThat(diskReader.servesVerifiedContent()).as("a disk hit").isTrue();
      backing.delete(smallDigest);
      backing.delete(largeDigest);

      // Within the bound an open reader serves what it holds, asking nothing.
      nanos.addAndGet(CacheReader.RECHECK_AFTER.toNanos() - 1);
      long infos = counting.infoCalls();
      assertThat(readAll(memoryReader)).isEqualTo(small);
      assertThat(transferAll(diskReader)).isEqualTo(large);
      assertThat(counting.infoCalls()).isEqualTo(infos);

      nanos.incrementAndGet();
      assertThatThrownBy(() -> memoryReader.read(ByteBuffer.allocate(KIB), 0))
          .isInstanceOf(NotFoundException.class).hasMessageContaining(smallDigest.toString());
      assertThatThrownBy(() -> transferAll(diskReader))
          .isInstanceOf(NotFoundException.class).hasMessageContaining(largeDigest.toString());
      assertThatThrownBy(() -> diskReader.read(ByteBuffer.allocate(KIB), 0))
          .isInstanceOf(NotFoundException.class);
      assertThat(entry(largeDigest)).doesNotExist();
    }
  }

  @Test
  public void anOpenReaderOfAStoredBlobAsksItsInfoOncePerBound() {
    byte[] bytes = random(2 * MIB, 34);
    Digest digest = put(bytes);
    CachedContentStore cache = cache(config().infoTtl(Duration.ofSeconds(5)).build());
    try (ReaderAt reader = cache.readerAt(digest)) {
      assertThat(readAll(reader)).isEqualTo(bytes);
      long infos = counting.infoCalls();
      for (int second = 0; second < 130; second++) {
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(reader.read(ByteBuffer.allocate(KIB), second * KIB)).isEqualTo(KIB);
      }
      assertThat(counting.infoCalls() - infos).isEqualTo(2);
    }
  }

  private static byte[] readAll(ReaderAt reader) {
    ByteBuffer buffer = ByteBuffer.allocate((int) reader.size());
    while (buffer.hasRemaining()) {
      assertThat(reader.read(buffer, buffer.position())).isPositive();
    }
    return buffer.array();
  }

  private static byte[] transferAll(ReaderAt reader) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(reader.transferTo(0, reader.size(), Channels.newChannel(out)))
        .isEqualTo(reader.size());
    return out.toByteArray();
  }

  @Test
  public void infoIsAskedOnceWithinItsTimeToLive() {
    Digest digest = put(random(KIB, 27));
    CachedContentStore cache = cache(config().infoTtl(Duration.ofSeconds(5)).build());
    cache.info(digest);
    cache.info(digest);
    assertThat(counting.infoCalls()).isEqualTo(1);
    nanos.addAndGet(Duration.ofSeconds(6).toNanos());
    cache.info(digest);
    assertThat(counting.infoCalls()).isEqualTo(2);
  }

  @Test
  public void labelUpdateThroughTheCacheIsVisibleAtOnce() {
    Digest digest = put(random(KIB, 28));
    CachedContentStore cache = cache(config().build());
    assertThat(cache.info(digest).labels()).isEmpty();
    cache.update(dev.coffer.store.Info.forUpdate(digest, Map.of("k", "v")));
    assertThat(cache.info(digest).labels()).containsExactly(Map.entry("k", "v"));
  }

  @Test
  public void clearDropsEveryTier() throws IOException {
    byte[] small = random(KIB, 29);
    byte[] large = random(2 * MIB, 30);
    Digest smallDigest = put(small);
    Digest largeDigest = put(large);
    CachedContentStore cache = cache(config().build());
    read(cache, smallDigest);
    read(cache, largeDigest);
    cache.clear();
    assertThat(files(directory.resolve("blobs/sha256"))).isEmpty();
    assertThat(cache.stats().diskBytes()).isZero();
    assertThat(cache.stats().memoryBytes()).isZero();
    assertThat(read(cache, smallDigest)).isEqualTo(small);
    assertThat(counting.readerOpens()).isEqualTo(3);
  }

  @Test
  public void closedCacheRefusesCallsAndClosingTwiceIsHarmless() {
    Digest digest = put(random(KIB, 31));
    CachedContentStore cache = cache(config().build());
    cache.close();
    cache.close();
    assertThatThrownBy(() -> cache.readerAt(digest))
        .isInstanceOf(FailedPreconditionException.class);
  }
}
