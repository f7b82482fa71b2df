package dev.coffer.store.s3;

import dev.coffer.store.DigestAlgorithm;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.zip.CRC32C;

/**
 * The running digest of a writer's bytes, and their CRC32C. Whole parts are hashed in order on the
 * store's workers while the next part fills, so the writing thread only copies; every other use
 * waits for the stages in flight first. The CRC32C covers every byte from 0, to compare with the
 * blob object's full-object CRC32C after the copy (INT-5); there is none for a writer continuing
 * an object it did not read. Used by the writer's thread only.
 */
final class RunningDigest {
  private final String ref;
  private MessageDigest hasher;
  private CRC32C crc;
  /** The last hashing stage; every byte fed so far is hashed once it is done. */
  private CompletableFuture<Void> hashed = CompletableFuture.completedFuture(null);

  private RunningDigest(String ref, MessageDigest hasher, CRC32C crc) {
    this.ref = ref;
    this.hasher = hasher;
    this.crc = crc;
  }

  /** The digest of no bytes, with a CRC32C. */
  static RunningDigest empty(String ref, DigestAlgorithm algorithm) {
    return new RunningDigest(ref, algorithm.newHasher(), new CRC32C());
  }

  /**
   * The digest continued from {@code hasher}, which holds bytes this writer did not see: no
   * CRC32C, unless {@code withCrc} (the bytes will be fed again whole, from byte 0).
   */
  static RunningDigest continued(String ref, MessageDigest hasher, boolean withCrc) {
    return new RunningDigest(ref, hasher, withCrc ? new CRC32C() : null);
  }

  /** Feeds {@code buffer[from, to)} to the digest only (the CRC32C takes whole parts). */
  void hash(byte[] buffer, int from, int to) {
    await();
    hasher.update(buffer, from, to - from);
  }

  /**
   * Feeds one whole part: {@code buffer[hashedAlready, length)} to the digest and
   * {@code buffer[0, length)} to the CRC32C, now.
   */
  void part(byte[] buffer, int hashedAlready, int length) {
    hash(buffer, hashedAlready, length);
    if (crc != null) {
      crc.update(buffer, 0, length);
    }
  }

  /**
   * {@link #part} on {@code workers}, after the parts before it.
   *
   * @return the stage; the buffer may be reused once it is done
   */
  CompletableFuture<Void> partLater(byte[] buffer, int hashedAlready, int length,
      Executor workers) {
    MessageDigest running = hasher;
    CRC32C check = crc;
    hashed = hashed.thenRunAsync(() -> {
      running.update(buffer, hashedAlready, length - hashedAlready);
      if (check != null) {
        check.update(buffer, 0, length);
      }
    }, workers);
    return hashed;
  }

  /** A copy of the digest of every byte fed. */
  MessageDigest snapshot() {
    await();
    return copy(hasher);
  }

  /** The CRC32C of every byte written, as S3 reports it; null when there is none. */
  String crc32c() {
    await();
    return crc == null ? null : BodyChecksums.crc32c(crc);
  }

  /** Starts again from no bytes; a stage in flight does not feed the new digest. */
  void reset(DigestAlgorithm algorithm) {
    await();
    hasher = algorithm.newHasher();
    crc = new CRC32C();
  }

  private void await() {
    S3Errors.join(hashed, "hashing ref \"" + ref + "\"");
  }

  static MessageDigest copy(MessageDigest hasher) {
    try {
      return (MessageDigest) hasher.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("JDK digests are cloneable", e);
    }
  }
}
