package dev.coffer.store.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.InvalidArgumentException;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk tier: one file per blob under {@code blobs/<algorithm>/<hex>}, fills staged in
 * {@code tmp/}, and an index of entries and their sizes in a Caffeine cache bounded by total bytes.
 *
 * <p>Every change of a digest's file happens inside the index's per-key compute (install, removal)
 * or its eviction listener, which Caffeine runs inside that same atomic step; so the index and the
 * files never disagree about a digest, and an eviction cannot delete a file just installed again.
 * Open readers keep reading a deleted file (POSIX unlink semantics).
 */
final class DiskTier implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(DiskTier.class);
  private static final FileAttribute<?> PRIVATE_DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  private static final int KIB = 1024;

  private final Path root;
  private final Path blobs;
  private final Path tmp;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final StatsCounter stats;
  private final AtomicLong bytes = new AtomicLong();
  private final Cache<Digest, Entry> index;

  /**
   * An index record: the entry's size, and whether its content was verified against its digest
   * by this process (a fill or a copied write is; an entry found at start is not until its first
   * open).
   */
  private record Entry(long size, boolean verified) {}

  private DiskTier(Path root, FileChannel lockChannel, FileLock lock, long maxBytes,
      Executor executor, StatsCounter stats) {
    this.root = root;
    this.blobs = root.resolve("blobs");
    this.tmp = root.resolve("tmp");
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.stats = stats;
    // Weighed in KiB rounded up so blobs beyond 2 GiB still weigh their size; the bound rounds
    // down, so the real bytes on disk never exceed maxBytes once eviction has run.
    this.index = Caffeine.newBuilder()
        .maximumWeight(maxBytes / KIB)
        .weigher((Digest digest, Entry entry) ->
            (int) Math.min(Integer.MAX_VALUE, (entry.size() + KIB - 1) / KIB))
        .evictionListener((Digest digest, Entry entry, RemovalCause cause) -> {
          if (digest != null && entry != null && cause.wasEvicted()) {
            deleteFile(digest, entry.size());
            stats.diskEvictions.increment();
          }
        })
        .executor(executor)
        .build();
  }

  /**
   * Opens the tier in {@code root}, creating its directories with mode 0700, taking its lock file,
   * removing leftover fills and indexing the blobs already there.
   *
   * @throws IOException if the directory cannot be created, written or locked
   */
  static DiskTier open(Path root, long maxBytes, Executor executor, StatsCounter stats)
      throws IOException {
    createPrivateDirectory(root);
    Path blobs = root.resolve("blobs");
    createPrivateDirectory(blobs);
    for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
      createPrivateDirectory(blobs.resolve(algorithm.label()));
    }
    createPrivateDirectory(root.resolve("tmp"));
    FileChannel lockChannel = FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock;
    String holder = "another process";
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
      holder = "another cache in this process";
    } catch (IOException | RuntimeException e) {
      closeQuietly(lockChannel, e);
      throw e;
    }
    if (lock == null) {
      lockChannel.close();
      throw new FileSystemException(root.toString(), null, "in use by " + holder);
    }
    DiskTier tier = new DiskTier(root, lockChannel, lock, maxBytes, executor, stats);
    try {
      tier.removeLeftoverFills();
      tier.rebuildIndex();
    } catch (IOException | RuntimeException e) {
      tier.close();
      throw e;
    }
    return tier;
  }

  /** The file of a blob's entry. */
  Path pathOf(Digest digest) {
    return blobs.resolve(digest.algorithm().label()).resolve(digest.hex());
  }

  /** A new empty staging file (mode 0600) whose name starts with {@code prefix}. */
  Path newStagingFile(String prefix) throws IOException {
    return Files.createTempFile(tmp, prefix + "-", ".part");
  }

  /** Bytes of blob content held now. */
  long bytes() {
    return bytes.get();
  }

  /** Whether an entry for {@code digest} is indexed (without counting as an access). */
  boolean contains(Digest digest) {
    return index.asMap().containsKey(digest);
  }

  /**
   * Opens the entry of {@code digest} for reading if it is valid: its file exists and has
   * {@code expectedSize} bytes, and its content has the digest if {@code verify} is set or the
   * entry was found at start and is opened for the first time. An invalid entry is counted as
   * corrupt and evicted.
   *
   * @return a channel positioned nowhere in particular (use positional reads), or null on a miss
   */
  FileChannel open(Digest digest, long expectedSize, boolean verify) {
    Entry indexed = index.getIfPresent(digest);
    if (indexed == null) {
      return null;
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(pathOf(digest), StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      LOG.warn("cache entry {} vanished from {}; fetching it again", digest, root);
      remove(digest);
      return null;
    } catch (IOException e) {
      LOG.warn("cannot open cache entry {} in {}; reading through", digest, root, e);
      return null;
    }
    String problem;
    try {
      long actual = channel.size();
      if (actual != expectedSize || actual != indexed.size()) {
        problem = "has " + actual + " bytes instead of " + expectedSize;
      } else if ((verify || !indexed.verified())
          && !digestOf(channel, digest.algorithm()).equals(digest)) {
        problem = "does not match its digest";
      } else {
        if (!indexed.verified()) {
          index.asMap().computeIfPresent(digest,
              (d, entry) -> entry.equals(indexed) ? new Entry(entry.size(), true) : entry);
        }
        return channel;
      }
    } catch (IOException e) {
      problem = "cannot be read (" + e + ")";
    }
    closeQuietly(channel, null);
    LOG.warn("cache entry {} in {} {}; evicting and fetching it again", digest, root, problem);
    stats.corruptEntries.increment();
    remove(digest);
    return null;
  }

  /**
   * Moves the verified staging file {@code staged} atomically into place as the entry of
   * {@code digest} and indexes it; a crash leaves either no entry or the whole verified file.
   *
   * @throws IOException if the move fails (the staging file is left for the caller to delete)
   */
  void install(Digest digest, Path staged, long size) throws IOException {
    try {
      index.asMap().compute(digest, (d, old) -> {
        try {
          Files.move(staged, pathOf(d), StandardCopyOption.ATOMIC_MOVE,
              StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        bytes.addAndGet(size - (old == null ? 0 : old.size()));
        return new Entry(size, true);
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    // Evict now, in this thread: Caffeine may otherwise defer the work (to its executor, or when
    // another thread holds its eviction lock), leaving the directory over its bound meanwhile.
    index.cleanUp();
  }

  /** Removes the entry of {@code digest} and deletes its file, if there is one. */
  void remove(Digest digest) {
    index.asMap().computeIfPresent(digest, (d, entry) -> {
      deleteFile(d, entry.size());
      return null;
    });
  }

  /** Removes every entry and deletes its file. */
  void clear() {
    for (Digest digest : List.copyOf(index.asMap().keySet())) {
      remove(digest);
    }
  }

  /** Runs pending evictions now. */
  void cleanUp() {
    index.cleanUp();
  }

  /** Releases the directory's lock; the entries stay for the next instance. Idempotent. */
  @Override
  public void close() throws IOException {
    try {
      if (lock.isValid()) {
        lock.release();
      }
    } finally {
      lockChannel.close();
    }
  }

  private void deleteFile(Digest digest, long size) {
    try {
      Files.deleteIfExists(pathOf(digest));
    } catch (IOException e) {
      LOG.warn("cannot delete cache entry {} in {}", digest, root, e);
    }
    bytes.addAndGet(-size);
  }

  private void removeLeftoverFills() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
      for (Path file : files) {
        Files.deleteIfExists(file);
      }
    }
  }

  /** Indexes the entries already on disk, least recently modified first, so a restart is warm. */
  private void rebuildIndex() throws IOException {
    record Found(Digest digest, long size, long modified) {}
    List<Found> found = new ArrayList<>();
    for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
      Path directory = blobs.resolve(algorithm.label());
      try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
        for (Path file : files) {
          BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
          Digest digest = parseDigest(algorithm, file.getFileName().toString());
          if (digest == null || !attributes.isRegularFile()) {
            LOG.warn("ignoring {}: not a cache entry", file);
            continue;
          }
          found.add(new Found(digest, attributes.size(), attributes.lastModifiedTime().toMillis()));
        }
      }
    }
    found.sort(Comparator.comparingLong(Found::modified));
    for (Found entry : found) {
      index.asMap().compute(entry.digest(), (d, old) -> {
        bytes.addAndGet(entry.size() - (old == null ? 0 : old.size()));
        // Written by an earlier process, perhaps cut short by a crash: verified on first open.
        return new Entry(entry.size(), false);
      });
    }
    LOG.debug("indexed {} cache entries ({} bytes) in {}", found.size(), bytes.get(), root);
  }

  private static Digest parseDigest(DigestAlgorithm algorithm, String hex) {
    try {
      return new Digest(algorithm, hex);
    } catch (InvalidArgumentException e) {
      return null;
    }
  }

  /** The digest of a whole file, read through positional reads. */
  static Digest digestOf(FileChannel channel, DigestAlgorithm algorithm) throws IOException {
    MessageDigest hasher = algorithm.newHasher();
    ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
    long position = 0;
    int n;
    while ((n = channel.read(buffer, position)) > 0) {
      buffer.flip();
      hasher.update(buffer);
      buffer.clear();
      position += n;
    }
    return Digest.fromHasher(algorithm, hasher.digest());
  }

  private static void createPrivateDirectory(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      return;
    }
    if (directory.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.createDirectories(directory, PRIVATE_DIRECTORY);
    } else {
      Files.createDirectories(directory);
    }
  }

  private static void closeQuietly(Closeable closeable, Throwable primary) {
    try {
      closeable.close();
    } catch (IOException e) {
      if (primary != null) {
        primary.addSuppressed(e);
      }
    }
  }
}
