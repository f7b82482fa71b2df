package dev.coffer.s3sim;

/**
 * What the simulated server does where S3-compatible servers differ from S3. {@link #s3()} is S3
 * as documented; the others are faults of capability a store must detect or survive.
 *
 * @param tagging whether object tagging exists; without it, tagging requests and writes carrying
 *     tags are answered 501 NotImplemented (as by S3 Express One Zone and some S3-compatible servers)
 * @param conditionalDeletes whether DeleteObject honours If-Match; without it the header is
 *     ignored and the object deleted (as by servers older than S3's conditional deletes)
 * @param atomicConditionalWrites whether a conditional PutObject or CompleteMultipartUpload checks
 *     its condition and writes atomically; without it the check and the write are two steps and
 *     other requests run between them (as on S3Mock 5.2.0: two create-only writes may both succeed)
 * @param defaultChecksum whether an object stored without a checksum gets S3's default full-object
 *     CRC64NVME, as S3 does for new objects
 * @param idempotentCompletion whether a CompleteMultipartUpload of an upload completed already,
 *     with the same key and parts, answers the first completion's result again instead of 404
 *     NoSuchUpload. The API reference documents NoSuchUpload for a completed upload, which MinIO
 *     and S3Mock answer; AWS has been observed to answer such a retry 200 for hours afterwards
 *     (adobe/S3Mock#2586, minio/minio#13318 and #2250). Off in {@link #s3()}: a store must survive
 *     the documented answer.
 */
public record Capabilities(boolean tagging, boolean conditionalDeletes,
    boolean atomicConditionalWrites, boolean defaultChecksum, boolean idempotentCompletion) {

  /** S3 as documented: every capability, and NoSuchUpload for a completed upload. */
  public static Capabilities s3() {
    return new Capabilities(true, true, true, true, false);
  }

  /** These capabilities without object tagging. */
  public Capabilities withoutTagging() {
    return new Capabilities(false, conditionalDeletes, atomicConditionalWrites, defaultChecksum,
        idempotentCompletion);
  }

  /** These capabilities with If-Match on DeleteObject ignored. */
  public Capabilities ignoringDeleteIfMatch() {
    return new Capabilities(tagging, false, atomicConditionalWrites, defaultChecksum,
        idempotentCompletion);
  }

  /** These capabilities with conditional writes checked and applied in two steps. */
  public Capabilities withNonAtomicConditionalWrites() {
    return new Capabilities(tagging, conditionalDeletes, false, defaultChecksum,
        idempotentCompletion);
  }

  /** These capabilities without S3's default CRC64NVME checksum. */
  public Capabilities withoutDefaultChecksum() {
    return new Capabilities(tagging, conditionalDeletes, atomicConditionalWrites, false,
        idempotentCompletion);
  }

  /** These capabilities with a completion repeated answered as the first, as AWS does. */
  public Capabilities withIdempotentCompletion() {
    return new Capabilities(tagging, conditionalDeletes, atomicConditionalWrites, defaultChecksum,
        true);
  }
}
