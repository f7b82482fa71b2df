package dev.coffer.store.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.sun.security.auth.module.UnixSystem;
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
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Over 400 lines: the index and the files it governs change together, in one class.
/**
 * The disk tier: one file per blob under {@code blobs/<algorithm>/<hex>}, fills staged in
 * {@code tmp/}, and an index of entries and their sizes in a Caffeine cache bounded by total bytes.
 *
 * <p>Every change of a digest's file happens inside the index's per-key compute (install, removal)
 * or its eviction listener, which Caffeine runs inside that same atomic step; so the index and the
 * files never disagree about a digest, and an eviction cannot delete a file just installed again.
 * Open readers keep reading a deleted file (POSIX unlink semantics).
 *
 * <p>The entries an earlier instance left are indexed after {@link #open} returns, by a task on
 * the executor it is given, so that a command does not list a large directory before it can
 * read. Until that task has run (see {@link #awaitIndexed()}):
 * <ul>
 *   <li>a lookup that misses the index looks at the digest's file itself (one {@code lstat}) and
 *       indexes what it finds, unverified, as the task would have; so a read is served from an
 *       entry found at start at once, verified on its first open as ever (CLI-6);
 *   <li>a digest whose file this instance installs, removes or evicts is left alone by the task,
 *       which indexes only what it listed and nobody touched since (both happen inside the key's
 *       compute, so they never interleave);
 *   <li>the index weighs only what it holds, so the directory may hold more than {@code maxBytes}
 *       by what is not indexed yet (at most what was there at open); the task's end evicts down
 *       to the bound, which then holds as before. An instance that installed an entry finishes
 *       the task before {@link #close()} releases the directory, so commands shorter than the
 *       indexing cannot together grow the directory past its bound; one that only read may
 *       stop it, leaving a directory over a bound lowered since for the next instance;
 *   <li>{@link #bytes()} counts the entries indexed so far, and {@link #clear()} waits for the
 *       task first.
 * </ul>
 * {@link #close()} stops the task (or finishes it, above) and waits for it before releasing the
 * directory's lock: no file is deleted by this instance once another process may hold the
 * directory.
 */
final class DiskTier implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(DiskTier.class);
  private static final FileAttribute<?> PRIVATE_DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  private static final FileAttribute<?> PRIVATE_FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int KIB = 1024;

  private final Path root;
  private final Path blobs;
  private final Path tmp;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final StatsCounter stats;
  private final AtomicLong bytes = new AtomicLong();
  private final Cache<Digest, Entry> index;
  /** Done once the entries found at open are indexed (or the tier closed first). */
  private final CompletableFuture<Void> indexed = new CompletableFuture<>();
  private final AtomicBoolean indexingStarted = new AtomicBoolean();
  /** Digests whose files this instance changed while indexing; null once indexed. */
  private volatile Set<Digest> touched = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;
  /** Whether this instance installed an entry: then it evicts down to the bound before closing. */
  private volatile boolean grew;

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
   * Opens the tier in {@code root}, creating its directories with mode 0700, taking its lock file
   * and removing leftover fills; the blobs already there are indexed by a task given to {@code
   * indexExecutor}, not before this returns (see the class comment). Existing directories must
   * belong to this process's user and not be writable by group or others: anyone else who could
   * write there could place or swap content under a digest's name.
   *
   * @throws UnsafeDirectoryException if a directory belongs to another user or others can write
   *     it, naming it and what to do
   * @throws IOException if the directory cannot be created, written or locked
   */
  static DiskTier open(Path root, long maxBytes, Executor executor, Executor indexExecutor,
      StatsCounter stats) throws IOException {
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
      indexExecutor.execute(tier::indexFoundEntries);
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

  /**
   * A new empty staging file (mode 0600) whose name starts with {@code prefix}, with the channel
   * it was created with.
   */
  StagingFile newStagingFile(String prefix) throws IOException {
    for (int attempt = 0; ; attempt++) {
      Path path = tmp.resolve(prefix + "-" + Long.toUnsignedString(RANDOM.nextLong()) + ".part");
      FileChannel channel;
      try {
        channel = FileChannel.open(path, Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
            PRIVATE_FILE);
      } catch (FileAlreadyExistsException e) {
        if (attempt < 10) {
          continue;
        }
        throw e;
      }
      try {
        Object key = Files.readAttributes(path, BasicFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS).fileKey();
        return new StagingFile(path, channel, key);
      } catch (IOException | RuntimeException e) {
        closeQuietly(channel, e);
        Files.deleteIfExists(path);
        throw e;
      }
    }
  }

  /**
   * Returns once the entries found at open are indexed and evicted down to the bound (at once
   * after {@link #close()}).
   */
  void awaitIndexed() {
    indexed.join();
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
   * entry was found at start and is opened for the first time without a seal that still holds
   * ({@link EntrySeal}). An invalid entry is counted as corrupt and evicted.
   *
   * @return a channel positioned nowhere in particular (use positional reads), or null on a miss
   */
  FileChannel open(Digest digest, long expectedSize, boolean verify) {
    Entry looked = index.getIfPresent(digest);
    if (looked == null && !indexed.isDone()) {
      looked = indexFound(digest);
    }
    if (looked == null) {
      return null;
    }
    Entry held = looked;
    FileChannel channel;
    try {
      // Never through a link: an entry is a file this tier wrote, or nothing.
      channel = FileChannel.open(pathOf(digest), StandardOpenOption.READ,
          LinkOption.NOFOLLOW_LINKS);
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
      if (actual != expectedSize || actual != held.size()) {
        problem = "has " + actual + " bytes instead of " + expectedSize;
      } else if ((verify || !(held.verified() || EntrySeal.holds(pathOf(digest), digest)))
          && !digestOf(channel, digest.algorithm()).equals(digest)) {
        problem = "does not match its digest";
      } else {
        if (!held.verified()) {
          // Verified now, by its seal or its hash; sealing again is harmless and seals entries
          // found without one (CLI-6).
          EntrySeal.write(pathOf(digest), digest);
          index.asMap().computeIfPresent(digest,
              (d, entry) -> entry.equals(held) ? new Entry(entry.size(), true) : entry);
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
   * What is then under the digest's name is checked to be the very file that was written and
   * verified through {@code staged}'s channel (same device and inode, not a link, {@code size}
   * bytes); anything else is deleted and not indexed.
   *
   * @throws IOException if the move fails (the staging file is left for the caller to delete),
   *     or what was installed is not the staged file
   */
  void install(Digest digest, StagingFile staged, long size) throws IOException {
    IOException[] mismatch = new IOException[1];
    try {
      index.asMap().compute(digest, (d, old) -> {
        markTouched(d);
        Path entry = pathOf(d);
        try {
          Files.move(staged.path(), entry, StandardCopyOption.ATOMIC_MOVE,
              StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        String problem = installedProblem(entry, staged, size);
        if (problem != null) {
          mismatch[0] = new IOException("cache entry " + d + " in " + root + " " + problem
              + "; removed");
          try {
            Files.deleteIfExists(entry);
          } catch (IOException e) {
            mismatch[0].addSuppressed(e);
          }
          bytes.addAndGet(old == null ? 0 : -old.size());
          return null;
        }
        bytes.addAndGet(size - (old == null ? 0 : old.size()));
        grew = true;
        EntrySeal.write(entry, d);
        return new Entry(size, true);
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    if (mismatch[0] != null) {
      stats.corruptEntries.increment();
      throw mismatch[0];
    }
    // Evict now, in this thread: Caffeine may otherwise defer the work (to its executor, or when
    // another thread holds its eviction lock), leaving the directory over its bound meanwhile.
    index.cleanUp();
  }

  /** Why the file at {@code entry} is not what {@code staged} wrote, or null if it is. */
  private static String installedProblem(Path entry, StagingFile staged, long size) {
    try {
      BasicFileAttributes installed = Files.readAttributes(entry, BasicFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS);
      if (!installed.isRegularFile()) {
        return "is not a regular file once installed";
      }
      if (staged.fileKey() != null && !staged.fileKey().equals(installed.fileKey())) {
        return "is not the file that was written and verified (replaced while staged)";
      }
      if (installed.size() != size || staged.channel().size() != size) {
        return "has " + installed.size() + " bytes once installed instead of " + size;
      }
      return null;
    } catch (IOException e) {
      return "cannot be checked once installed (" + e + ")";
    }
  }

  /**
   * Removes the entry of {@code digest} and deletes its file, if there is one; while the entries
   * found at open are being indexed, also a file not indexed yet.
   */
  void remove(Digest digest) {
    if (indexed.isDone()) {
      index.asMap().computeIfPresent(digest, (d, entry) -> {
        deleteFile(d, entry.size());
        return null;
      });
      return;
    }
    index.asMap().compute(digest, (d, entry) -> {
      if (entry != null) {
        deleteFile(d, entry.size());
      } else {
        markTouched(d);
        try {
          Files.deleteIfExists(pathOf(d));
        } catch (IOException e) {
          LOG.warn("cannot delete cache entry {} in {}", d, root, e);
        }
      }
      return null;
    });
  }

  /** Removes every entry and deletes its file, once the entries found at open are indexed. */
  void clear() {
    awaitIndexed();
    for (Digest digest : List.copyOf(index.asMap().keySet())) {
      remove(digest);
    }
  }

  /** Runs pending evictions now. */
  void cleanUp() {
    index.cleanUp();
  }

  /**
   * Releases the directory's lock; the entries stay for the next instance. Idempotent. First, if
   * this instance installed an entry, finishes indexing the entries found at open (in this thread
   * if the task has not started) and so evicts down to the bound; else stops that indexing. Either
   * way waits for it to end: no file is deleted by this instance once the lock is released.
   */
  @Override
  public void close() throws IOException {
    if (grew && !closed) {
      indexFoundEntries();
      awaitIndexed();
    }
    closed = true;
    if (indexingStarted.compareAndSet(false, true)) {
      endIndexing();
    } else {
      awaitIndexed();
    }
    try {
      if (lock.isValid()) {
        lock.release();
      }
    } finally {
      lockChannel.close();
    }
  }

  private void deleteFile(Digest digest, long size) {
    markTouched(digest);
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

  private void markTouched(Digest digest) {
    Set<Digest> changed = touched;
    if (changed != null) {
      changed.add(digest);
    }
  }

  /**
   * Indexes the file of {@code digest} found on disk while the entries found at open are being
   * indexed, as that indexing would; null if there is none.
   */
  private Entry indexFound(Digest digest) {
    return index.asMap().compute(digest, (d, old) -> {
      if (old != null) {
        return old;
      }
      try {
        BasicFileAttributes attributes = Files.readAttributes(pathOf(d),
            BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile()) {
          return null;
        }
        bytes.addAndGet(attributes.size());
        return new Entry(attributes.size(), false);
      } catch (IOException e) {
        return null; // no such file, or none this tier can read: a miss
      }
    });
  }

  /** The indexing task {@link #open} starts: runs once, and not after {@link #close()}. */
  private void indexFoundEntries() {
    if (!indexingStarted.compareAndSet(false, true)) {
      return;
    }
    try {
      rebuildIndex();
      if (!closed) {
        // Evict now what the entries found at open put over the bound.
        index.cleanUp();
      }
    } catch (IOException | RuntimeException e) {
      stats.diskFailures.increment();
      LOG.warn("cannot index the cache entries in {}; those not indexed are not used", root, e);
    } finally {
      endIndexing();
    }
  }

  private void endIndexing() {
    touched = null;
    indexed.complete(null);
  }

  /**
   * Indexes the entries already on disk, least recently modified first, so a restart is warm;
   * skips a digest already indexed or whose file this instance changed meanwhile, and stops once
   * the tier is closed.
   */
  private void rebuildIndex() throws IOException {
    record Found(Digest digest, long size, long modified) {}
    List<Found> found = new ArrayList<>();
    for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
      Path directory = blobs.resolve(algorithm.label());
      try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
        for (Path file : files) {
          if (closed) {
            return;
          }
          BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class,
              LinkOption.NOFOLLOW_LINKS);
          Digest digest = parseDigest(algorithm, file.getFileName().toString());
          if (digest == null || !attributes.isRegularFile()) {
            // A link or anything else under a digest's name was not written by this tier.
            LOG.warn("ignoring {}: not a cache entry", file);
            continue;
          }
          found.add(new Found(digest, attributes.size(), attributes.lastModifiedTime().toMillis()));
        }
      }
    }
    found.sort(Comparator.comparingLong(Found::modified));
    Set<Digest> changed = touched;
    for (Found entry : found) {
      if (closed) {
        return;
      }
      index.asMap().compute(entry.digest(), (d, old) -> {
        if (old != null || changed.contains(d)) {
          return old;
        }
        bytes.addAndGet(entry.size());
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
    boolean posix = directory.getFileSystem().supportedFileAttributeViews().contains("unix");
    if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
      if (Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
        throw new UnsafeDirectoryException(directory, "is not a directory (a link or a file)",
            "remove it or use another cache directory");
      }
      // 0700 less the umask: never more than the owner's.
      Files.createDirectories(directory, posix ? new FileAttribute<?>[] {PRIVATE_DIRECTORY}
          : new FileAttribute<?>[0]);
    }
    if (posix) {
      checkPrivate(directory);
    }
  }

  /** Refuses a directory another user owns or group or others can write (SEC-4). */
  private static void checkPrivate(Path directory) throws IOException {
    int uid = (Integer) Files.getAttribute(directory, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) Files.getAttribute(directory, "unix:mode", LinkOption.NOFOLLOW_LINKS)
        & 07777;
    long self = new UnixSystem().getUid();
    if (uid != self) {
      throw new UnsafeDirectoryException(directory, "belongs to user id " + uid
          + ", not to this process's user (" + self + ")",
          "use a cache directory of your own");
    }
    if ((mode & 0022) != 0) {
      throw new UnsafeDirectoryException(directory, "is writable by "
          + ((mode & 0002) != 0 ? "others" : "its group") + " (mode "
          + String.format("%04o", mode) + ")", "make it private (chmod 700 " + directory
          + ") or use another cache directory");
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
