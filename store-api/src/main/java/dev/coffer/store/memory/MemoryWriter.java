package dev.coffer.store.memory;

import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import java.util.Arrays;
import java.util.Map;

/**
 * A writer on one ingest; it holds the ref's lock until closed or committed. Every method takes
 * the store's monitor, {@code lock}.
 */
final class MemoryWriter implements Writer {
  private final Object lock;
  private final MemoryIngests ingests;
  final MemoryIngest ingest;
  boolean closed;
  Digest committed;
  Status lastStatus;

  MemoryWriter(Object lock, MemoryIngests ingests, MemoryIngest ingest) {
    this.lock = lock;
    this.ingests = ingests;
    this.ingest = ingest;
    this.lastStatus = ingest.status();
  }

  @Override
  public int write(java.nio.ByteBuffer src) {
    synchronized (lock) {
      checkOpen();
      int count = src.remaining();
      byte[] bytes;
      int offset;
      if (src.hasArray()) {
        bytes = src.array();
        offset = src.arrayOffset() + src.position();
      } else {
        bytes = new byte[count];
        src.duplicate().get(bytes);
        offset = 0;
      }
      ingest.append(bytes, offset, count);
      src.position(src.position() + count);
      ingest.updatedAt = ingests.now();
      lastStatus = ingest.status();
      return count;
    }
  }

  @Override
  public Digest digest() {
    synchronized (lock) {
      if (committed != null) {
        return committed;
      }
      return ingest.actualDigest(null);
    }
  }

  @Override
  public void commit(long size, Digest expected, Map<String, String> labels) {
    synchronized (lock) {
      ingests.commit(this, size, expected, labels, false);
    }
  }

  @Override
  public Info commitAndRef(long size, Digest expected, Map<String, String> labels) {
    synchronized (lock) {
      return ingests.commit(this, size, expected, labels, true);
    }
  }

  @Override
  public Status status() {
    synchronized (lock) {
      return closed ? lastStatus : ingest.status();
    }
  }

  @Override
  public void truncate(long size) {
    synchronized (lock) {
      checkOpen();
      if (size < 0 || size > ingest.length) {
        throw new InvalidArgumentException("cannot truncate ref \"" + ingest.ref + "\" to "
            + size + " bytes: it holds " + ingest.length);
      }
      byte[] kept = Arrays.copyOf(ingest.buffer, (int) size);
      ingest.reset();
      ingest.append(kept, 0, kept.length);
      ingest.updatedAt = ingests.now();
      lastStatus = ingest.status();
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      release();
    }
  }

  /** Closes the writer and frees its ref; the caller holds the monitor. Idempotent. */
  void release() {
    if (!closed) {
      closed = true;
      lastStatus = ingest.status();
      if (ingest.holder == this) {
        ingest.holder = null;
      }
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new FailedPreconditionException("writer of ref \"" + ingest.ref + "\" is closed");
    }
  }
}
