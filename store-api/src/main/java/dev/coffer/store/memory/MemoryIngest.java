package dev.coffer.store.memory;

import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Status;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;

/**
 * An ingest: the bytes written so far under one ref and the running hash of them. Guarded by the
 * store's monitor.
 */
final class MemoryIngest {
  final String ref;
  final Instant startedAt;
  Instant updatedAt;
  long total;
  Digest expected;
  byte[] buffer = new byte[0];
  int length;
  MessageDigest hasher;
  MemoryWriter holder;

  MemoryIngest(String ref, long total, Digest expected, Instant now) {
    this.ref = ref;
    this.total = total;
    this.expected = expected;
    this.startedAt = now;
    this.updatedAt = now;
    this.hasher = algorithm().newHasher();
  }

  DigestAlgorithm algorithm() {
    return expected == null ? DigestAlgorithm.CANONICAL : expected.algorithm();
  }

  Status status() {
    return new Status(ref, length, total, expected, startedAt, updatedAt);
  }

  void append(byte[] bytes, int offset, int count) {
    if ((long) length + count > Integer.MAX_VALUE - 8) {
      throw new FailedPreconditionException("ingest \"" + ref
          + "\" exceeds what the in-memory store holds (2 GiB)");
    }
    if (length + count > buffer.length) {
      long grown = Math.max((long) length + count, Math.max(1024L, buffer.length * 2L));
      buffer = Arrays.copyOf(buffer, (int) Math.min(grown, Integer.MAX_VALUE - 8));
    }
    System.arraycopy(bytes, offset, buffer, length, count);
    hasher.update(bytes, offset, count);
    length += count;
  }

  void reset() {
    buffer = new byte[0];
    length = 0;
    hasher = algorithm().newHasher();
  }

  /**
   * The digest of the bytes written so far: by {@code expected}'s algorithm when it differs from
   * the ingest's, else from the running hash, which is left as it is.
   */
  Digest actualDigest(Digest expected) {
    if (expected != null && expected.algorithm() != algorithm()) {
      return Digest.fromHasher(expected.algorithm(),
          expected.algorithm().newHasher().digest(Arrays.copyOf(buffer, length)));
    }
    try {
      return Digest.fromHasher(algorithm(), ((MessageDigest) hasher.clone()).digest());
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("JDK digests are cloneable", e);
    }
  }
}
