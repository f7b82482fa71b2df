package dev.coffer.store.cache;

import dev.coffer.store.InvalidArgumentException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The configuration of a caching store: sizes of the memory and disk tiers, the info time-to-live
 * and the write and verification policies. Each key has its default and bounds beside it; values
 * out of bounds are refused with {@link InvalidArgumentException} naming the key and the value,
 * when set on the builder and again by the record's constructor.
 *
 * <p>Instances are immutable and thread-safe. Start from {@link #defaults()} or {@link #builder()},
 * derive variants with {@link #toBuilder()}.
 *
 * @param memoryMaxBytes the memory tier's bound, in bytes of blob content; 0 disables the tier
 * @param memoryMaxBlobBytes the largest blob kept in the memory tier
 * @param directory the disk tier's directory, created with mode 0700 if absent; null disables the
 *     tier. One caching store at a time may use a directory (a lock file enforces it).
 * @param diskMaxBytes the disk tier's bound, in bytes of blob content; blobs larger than it are
 *     read through without being cached on disk
 * @param infoTtl how long a blob's info is reused before the backing store is asked again; this is
 *     how long a blob deleted by another host may still be served; zero disables info caching
 * @param cacheOnCommit whether blobs committed through the cache are placed in it: the bytes of an
 *     ingest written from its start through the cache are copied as they are written (to a staging
 *     file, or to memory for a small blob when there is no usable disk tier) and placed under their
 *     digest once the backing store has committed them
 * @param verifyOnOpen whether a disk entry's digest is recomputed each time it is opened; without
 *     it, an entry's size is checked at every open and its digest once: a fill or a copied write is
 *     verified before it is placed under its digest, an entry found in the directory at start on
 *     its first open
 * @param degradedRetry after a disk failure (full, unwritable), how long the disk tier is bypassed
 *     before it is tried again
 * @param fillThreads how many blobs are fetched into the disk tier at once; readers of further
 *     missing blobs wait for a thread
 */
public record CacheConfig(
    long memoryMaxBytes,
    long memoryMaxBlobBytes,
    Path directory,
    long diskMaxBytes,
    Duration infoTtl,
    boolean cacheOnCommit,
    boolean verifyOnOpen,
    Duration degradedRetry,
    int fillThreads) {

  private static final long MIB = 1L << 20;

  /** Default bound of the memory tier: 256 MiB. */
  public static final long MEMORY_MAX_BYTES_DEFAULT = 256 * MIB;
  /** Smallest bound of the memory tier: 0 (disabled). */
  public static final long MEMORY_MAX_BYTES_MIN = 0;
  /** Largest bound of the memory tier: 64 GiB. */
  public static final long MEMORY_MAX_BYTES_MAX = 64 * 1024 * MIB;

  /** Default largest blob of the memory tier: 1 MiB. */
  public static final long MEMORY_MAX_BLOB_BYTES_DEFAULT = MIB;
  /** Smallest value of the largest blob of the memory tier: 0. */
  public static final long MEMORY_MAX_BLOB_BYTES_MIN = 0;
  /** Largest value of the largest blob of the memory tier: 256 MiB (held as one array). */
  public static final long MEMORY_MAX_BLOB_BYTES_MAX = 256 * MIB;

  /** Default bound of the disk tier: 10 GiB. */
  public static final long DISK_MAX_BYTES_DEFAULT = 10 * 1024 * MIB;
  /** Smallest bound of the disk tier: 0 (nothing is kept). */
  public static final long DISK_MAX_BYTES_MIN = 0;
  /** Largest bound of the disk tier: 1 PiB. */
  public static final long DISK_MAX_BYTES_MAX = 1L << 50;

  /** Default info time-to-live: 5 seconds. */
  public static final Duration INFO_TTL_DEFAULT = Duration.ofSeconds(5);
  /** Smallest info time-to-live: zero (info is always asked of the backing store). */
  public static final Duration INFO_TTL_MIN = Duration.ZERO;
  /**
   * Largest info time-to-live: 1 minute. A cached info lets a deleted blob be served and look
   * stored; the window must end well before a backing store may purge it (the S3 store's
   * deletion grace is 15 minutes by default), PROTO-8.
   */
  public static final Duration INFO_TTL_MAX = Duration.ofMinutes(1);

  /** Default of {@link #cacheOnCommit()}: true. */
  public static final boolean CACHE_ON_COMMIT_DEFAULT = true;
  /** Default of {@link #verifyOnOpen()}: false (the digest is checked once per entry, process). */
  public static final boolean VERIFY_ON_OPEN_DEFAULT = false;

  /** Default time the disk tier is bypassed after a failure: 1 minute. */
  public static final Duration DEGRADED_RETRY_DEFAULT = Duration.ofMinutes(1);
  /** Smallest bypass time: zero (the disk is tried again at the next fill). */
  public static final Duration DEGRADED_RETRY_MIN = Duration.ZERO;
  /** Largest bypass time: 1 day. */
  public static final Duration DEGRADED_RETRY_MAX = Duration.ofDays(1);

  /** Default number of concurrent fills: 16. */
  public static final int FILL_THREADS_DEFAULT = 16;
  /** Smallest number of concurrent fills: 1. */
  public static final int FILL_THREADS_MIN = 1;
  /** Largest number of concurrent fills: 1024. */
  public static final int FILL_THREADS_MAX = 1024;

  public CacheConfig {
    checkBytes("memoryMaxBytes", memoryMaxBytes, MEMORY_MAX_BYTES_MIN, MEMORY_MAX_BYTES_MAX);
    checkBytes("memoryMaxBlobBytes", memoryMaxBlobBytes, MEMORY_MAX_BLOB_BYTES_MIN,
        MEMORY_MAX_BLOB_BYTES_MAX);
    checkBytes("diskMaxBytes", diskMaxBytes, DISK_MAX_BYTES_MIN, DISK_MAX_BYTES_MAX);
    checkDuration("infoTtl", infoTtl, INFO_TTL_MIN, INFO_TTL_MAX);
    checkDuration("degradedRetry", degradedRetry, DEGRADED_RETRY_MIN, DEGRADED_RETRY_MAX);
    checkCount("fillThreads", fillThreads, FILL_THREADS_MIN, FILL_THREADS_MAX);
  }

  /** The configuration with every default: a memory tier only (no directory). */
  public static CacheConfig defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this configuration's values. */
  public Builder toBuilder() {
    return new Builder()
        .memoryMaxBytes(memoryMaxBytes)
        .memoryMaxBlobBytes(memoryMaxBlobBytes)
        .directory(directory)
        .diskMaxBytes(diskMaxBytes)
        .infoTtl(infoTtl)
        .cacheOnCommit(cacheOnCommit)
        .verifyOnOpen(verifyOnOpen)
        .degradedRetry(degradedRetry)
        .fillThreads(fillThreads);
  }

  /** Whether the disk tier is configured. */
  public boolean hasDiskTier() {
    return directory != null;
  }

  private static long checkBytes(String key, long value, long min, long max) {
    if (value < min || value > max) {
      throw new InvalidArgumentException("invalid cache " + key + " " + value + ": must be within ["
          + min + ", " + max + "] bytes");
    }
    return value;
  }

  private static int checkCount(String key, int value, int min, int max) {
    if (value < min || value > max) {
      throw new InvalidArgumentException("invalid cache " + key + " " + value + ": must be within ["
          + min + ", " + max + "]");
    }
    return value;
  }

  private static Duration checkDuration(String key, Duration value, Duration min, Duration max) {
    if (value == null || value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new InvalidArgumentException("invalid cache " + key + " " + value + ": must be within ["
          + min + ", " + max + "]");
    }
    return value;
  }

  /**
   * Builds a {@link CacheConfig}; each setter checks its value at once. Not thread-safe.
   */
  public static final class Builder {
    private long memoryMaxBytes = MEMORY_MAX_BYTES_DEFAULT;
    private long memoryMaxBlobBytes = MEMORY_MAX_BLOB_BYTES_DEFAULT;
    private Path directory;
    private long diskMaxBytes = DISK_MAX_BYTES_DEFAULT;
    private Duration infoTtl = INFO_TTL_DEFAULT;
    private boolean cacheOnCommit = CACHE_ON_COMMIT_DEFAULT;
    private boolean verifyOnOpen = VERIFY_ON_OPEN_DEFAULT;
    private Duration degradedRetry = DEGRADED_RETRY_DEFAULT;
    private int fillThreads = FILL_THREADS_DEFAULT;

    private Builder() {}

    /** See {@link CacheConfig#memoryMaxBytes()}. */
    public Builder memoryMaxBytes(long bytes) {
      this.memoryMaxBytes =
          checkBytes("memoryMaxBytes", bytes, MEMORY_MAX_BYTES_MIN, MEMORY_MAX_BYTES_MAX);
      return this;
    }

    /** See {@link CacheConfig#memoryMaxBlobBytes()}. */
    public Builder memoryMaxBlobBytes(long bytes) {
      this.memoryMaxBlobBytes = checkBytes("memoryMaxBlobBytes", bytes, MEMORY_MAX_BLOB_BYTES_MIN,
          MEMORY_MAX_BLOB_BYTES_MAX);
      return this;
    }

    /** See {@link CacheConfig#directory()}; null disables the disk tier. */
    public Builder directory(Path directory) {
      this.directory = directory == null ? null : directory.toAbsolutePath().normalize();
      return this;
    }

    /** See {@link CacheConfig#diskMaxBytes()}. */
    public Builder diskMaxBytes(long bytes) {
      this.diskMaxBytes = checkBytes("diskMaxBytes", bytes, DISK_MAX_BYTES_MIN, DISK_MAX_BYTES_MAX);
      return this;
    }

    /** See {@link CacheConfig#infoTtl()}. */
    public Builder infoTtl(Duration ttl) {
      this.infoTtl = checkDuration("infoTtl", ttl, INFO_TTL_MIN, INFO_TTL_MAX);
      return this;
    }

    /** See {@link CacheConfig#cacheOnCommit()}. */
    public Builder cacheOnCommit(boolean cacheOnCommit) {
      this.cacheOnCommit = cacheOnCommit;
      return this;
    }

    /** See {@link CacheConfig#verifyOnOpen()}. */
    public Builder verifyOnOpen(boolean verifyOnOpen) {
      this.verifyOnOpen = verifyOnOpen;
      return this;
    }

    /** See {@link CacheConfig#degradedRetry()}. */
    public Builder degradedRetry(Duration retry) {
      this.degradedRetry =
          checkDuration("degradedRetry", retry, DEGRADED_RETRY_MIN, DEGRADED_RETRY_MAX);
      return this;
    }

    /** See {@link CacheConfig#fillThreads()}. */
    public Builder fillThreads(int threads) {
      this.fillThreads = checkCount("fillThreads", threads, FILL_THREADS_MIN, FILL_THREADS_MAX);
      return this;
    }

    /** The configuration. */
    public CacheConfig build() {
      return new CacheConfig(memoryMaxBytes, memoryMaxBlobBytes, directory, diskMaxBytes, infoTtl,
          cacheOnCommit, verifyOnOpen, degradedRetry, fillThreads);
    }
  }
}
