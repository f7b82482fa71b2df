package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The part-sized buffers of one upload's sender: at most {@code count} alive at once (filling or
 * in flight), each reused once its part is sent and its bytes hashed. What bounds the memory of a
 * writer ({@link PartPipeline}) and of a put of a file ({@link DirectPut}). Thread-safe.
 */
final class PartBuffers {
  private final int partSize;
  private final Semaphore permits;
  private final ConcurrentLinkedQueue<byte[]> spares = new ConcurrentLinkedQueue<>();

  PartBuffers(int partSize, int count) {
    this.partSize = partSize;
    this.permits = new Semaphore(count);
  }

  /**
   * A buffer of one part, once fewer than {@code count} are alive.
   *
   * @param doing what waits, for the AbortedException of an interrupted wait
   */
  byte[] take(String doing) {
    try {
      permits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while " + doing, e);
    }
    byte[] spare = spares.poll();
    return spare != null ? spare : new byte[partSize];
  }

  /** Gives {@code buffer} back at once: nothing reads it. */
  void giveBack(byte[] buffer) {
    spares.offer(buffer);
    permits.release();
  }

  /** Gives {@code buffer} back once both its part's upload and its hashing have ended, however. */
  void giveBackAfter(byte[] buffer, CompletableFuture<?> sent, CompletableFuture<?> hashed) {
    CompletableFuture.allOf(sent, hashed).whenComplete((r, e) -> giveBack(buffer));
  }

  /** Forgets the spare buffers, for the collector. */
  void clear() {
    spares.clear();
  }

  /** Throws the failure of the first of {@code parts} that failed already, if one has. */
  static void failFast(List<CompletableFuture<CompletedPart>> parts, String doing) {
    for (CompletableFuture<CompletedPart> p : parts) {
      if (p.isCompletedExceptionally()) {
        S3Errors.join(p, doing);
      }
    }
  }
}
