package dev.coffer.store.cache;

import dev.coffer.store.AbortedException;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One fetch of a blob from the backing store into a staging file of the disk tier, shared by every
 * reader of that blob while it runs (single flight). Readers wait for the prefix they need, not for
 * the whole blob. The blob is verified against its digest before it is moved under its name.
 */
final class Fill implements Runnable {
  static final int CHUNK = 1 << 20;

  private final Fills fills;
  private final DiskTier disk;
  final Digest digest;
  final long size;
  private final StagingFile staging;
  private final AtomicBoolean started = new AtomicBoolean();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition progress = lock.newCondition();
  // Guarded by lock.
  private long filled;
  private boolean done;
  private boolean failed;
  /** Why the fill failed, if its bytes did not match the digest; else null. */
  private DataLossException corrupt;

  Fill(Fills fills, DiskTier disk, Digest digest, long size, StagingFile staging) {
    this.fills = fills;
    this.disk = disk;
    this.digest = digest;
    this.size = size;
    this.staging = staging;
  }

  /** Submits the fill to the store's fill threads the first time; later calls do nothing. */
  void start() {
    if (started.compareAndSet(false, true)) {
      try {
        fills.executor().execute(this);
      } catch (RuntimeException e) {
        finish(false, e, false);
      }
    }
  }

  /** Ends a fill that will never run: its readers read through. */
  void abandon() {
    finish(false, new AbortedException("fetch of blob " + digest + " abandoned: cache closed"),
        false);
  }

  @Override
  public void run() {
    long start = System.nanoTime();
    boolean diskStage = false;
    // The channel the staging file was created with: no reopening by name.
    FileChannel out = staging.channel();
    try (ReaderAt in = fills.backing().readerAtHeld(Descriptor.of(digest, size))) {
      if (in.size() != size) {
        throw DataLossException.lengthMismatch(digest, size, in.size());
      }
      MessageDigest hasher = digest.algorithm().newHasher();
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      long position = 0;
      while (position < size) {
        buffer.clear().limit((int) Math.min(CHUNK, size - position));
        diskStage = false;
        int n = in.read(buffer, position);
        if (n < 0) {
          throw DataLossException.lengthMismatch(digest, size, position);
        }
        buffer.flip();
        hasher.update(buffer.duplicate());
        diskStage = true;
        while (buffer.hasRemaining()) {
          out.write(buffer, position + buffer.position());
        }
        position += n;
        advance(position);
      }
      Digest actual = Digest.fromHasher(digest.algorithm(), hasher.digest());
      if (!actual.equals(digest)) {
        diskStage = false;
        throw DataLossException.digestMismatch(digest, actual);
      }
      diskStage = true;
      // Durable before it is named: a crash must never leave a short file under the digest.
      out.force(false);
    } catch (IOException | RuntimeException e) {
      fills.counters().recordLoad(start, false);
      if (e instanceof DataLossException loss) {
        fills.counters().corruptLoads.increment();
        lock.lock();
        try {
          corrupt = loss;
        } finally {
          lock.unlock();
        }
      }
      finish(diskStage, e, false);
      return;
    }
    lock.lock();
    try {
      disk.install(digest, staging, size);
      fills.counters().recordLoad(start, true);
      finish(false, null, true);
    } catch (IOException e) {
      fills.counters().recordLoad(start, false);
      finish(true, e, false);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until the first {@code end} bytes are in the staging file or entry; for the blob's last
   * bytes, until the fill has ended, so a reader that reaches the end finds the blob verified and
   * in place (or reads it through if it was not).
   *
   * @return true if they are, false if the fill failed (the caller reads through instead)
   * @throws AbortedException if interrupted while waiting (the interrupt is restored)
   */
  boolean await(long end) {
    lock.lock();
    try {
      while ((filled < end || end >= size) && !done) {
        progress.await();
      }
      return !failed;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while waiting for blob " + digest + " to be fetched",
          e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * After {@link #await} returned false: throws DataLossException if the fill failed because the
   * backing store's bytes do not match the digest (its readers must not read them through).
   */
  void throwIfCorrupt() {
    lock.lock();
    try {
      if (corrupt != null) {
        throw new DataLossException(corrupt.getMessage(), corrupt);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Opens a read channel on the bytes of this fill: the staging file while it runs, the entry once
   * installed.
   *
   * @return the channel, or null if the fill failed
   */
  FileChannel openChannel() throws IOException {
    lock.lock();
    try {
      if (failed) {
        return null;
      }
      try {
        return FileChannel.open(done ? disk.pathOf(digest) : staging.path(),
            StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        // The installed entry was evicted already: read through.
        return null;
      }
    } finally {
      lock.unlock();
    }
  }

  private void advance(long position) {
    lock.lock();
    try {
      filled = position;
      progress.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void finish(boolean diskFailure, Exception failure, boolean success) {
    try {
      if (success) {
        staging.close();
      } else {
        staging.discard();
      }
    } catch (IOException e) {
      if (failure != null) {
        failure.addSuppressed(e);
      }
    }
    // Before waking the readers: once they see the end, the fill is gone and nothing of a failed
    // one is left, so their next read starts afresh.
    fills.finished(this, diskFailure, failure);
    lock.lock();
    try {
      done = true;
      failed = !success;
      progress.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
