package dev.coffer.store;

/**
 * What one {@link Maintenance#fsck(FsckOptions)} run does.
 *
 * @param repair whether to repair what can be repaired safely
 * @param verify whether to read and hash live blobs, reporting those whose bytes do not match their
 *     digest or size as {@link FsckReport.Kind#CORRUPT_BLOB} (INT-3 of docs/architecture.md)
 * @param samplePercent with {@code verify}, the share of live blobs read, in (0, 100]: a blob is
 *     chosen by its digest, so the same percentage picks the same blobs on every run
 * @param parallelism with {@code verify}, how many blobs are read at once, in [1, 64]
 * @param progress told what verification does; its callbacks may come from several threads, must
 *     not block and should not throw (a failure is ignored)
 */
public record FsckOptions(boolean repair, boolean verify, double samplePercent, int parallelism,
    Progress progress) {

  /** Default of {@link #parallelism()}: 4 blobs at once. */
  public static final int PARALLELISM_DEFAULT = 4;
  /** Largest {@link #parallelism()}. */
  public static final int PARALLELISM_MAX = 64;

  /** Receives the progress of a verification; every method a no-op by default. */
  public interface Progress {
    /** Verification begins: {@code blobs} blobs of {@code bytes} bytes in all will be read. */
    default void started(long blobs, long bytes) {}

    /** {@code bytes} more bytes were read and hashed. */
    default void read(long bytes) {}

    /** The silent listener. */
    Progress NONE = new Progress() {};
  }

  /** Validates the values; a null progress is {@link Progress#NONE}. */
  public FsckOptions {
    if (!(samplePercent > 0 && samplePercent <= 100)) {
      throw new InvalidArgumentException("invalid sample " + samplePercent
          + "%: must be above 0 and at most 100");
    }
    if (parallelism < 1 || parallelism > PARALLELISM_MAX) {
      throw new InvalidArgumentException("invalid parallelism " + parallelism + ": must be within"
          + " [1, " + PARALLELISM_MAX + "]");
    }
    progress = progress == null ? Progress.NONE : progress;
  }

  /** Checks records, objects and tags without reading content; repairs if {@code repair}. */
  public static FsckOptions of(boolean repair) {
    return new FsckOptions(repair, false, 100, PARALLELISM_DEFAULT, Progress.NONE);
  }

  /** These options, verifying {@code percent} of the live blobs, {@code parallelism} at once. */
  public FsckOptions verifying(double percent, int parallelism, Progress progress) {
    return new FsckOptions(repair, true, percent, parallelism, progress);
  }

  /** Whether this run reads {@code digest}: always at 100 %, else a share chosen by the digest. */
  public boolean samples(Digest digest) {
    if (samplePercent >= 100) {
      return true;
    }
    long bucket = Long.parseLong(digest.hex().substring(0, 8), 16) % 10_000;
    return bucket < Math.round(samplePercent * 100);
  }
}
