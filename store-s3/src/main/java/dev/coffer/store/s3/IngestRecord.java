package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.Status;

/**
 * The record of one ingest, stored as JSON at {@code P/ingest/<sha256(ref)>/state}, changed only by
 * compare-and-swap. {@code offset} bytes are durable in the object {@code dataKey} (absent when
 * offset is 0), which has {@code dataEtag}. While a writer streams parts, {@code uploadId} and
 * {@code uploadKey} name its multipart upload, whose consecutive parts from 1 continue the ingest
 * from byte 0, so that a crashed writer's parts can be completed by the next one. The lease
 * ({@code leaseOwner}, {@code leaseExpiry}) locks the ref across hosts; an expired lease is free.
 * Times are nanoseconds since the epoch.
 */
record IngestRecord(
    int version,
    String ref,
    long total,
    String expected,
    String algorithm,
    long startedAt,
    long updatedAt,
    long offset,
    long generation,
    String dataKey,
    String dataEtag,
    String uploadId,
    String uploadKey,
    String leaseOwner,
    long leaseExpiry) {

  static final int VERSION = 1;

  static IngestRecord start(String ref, long total, Digest expected, long now, String owner,
      long leaseExpiry) {
    DigestAlgorithm algorithm = expected == null ? DigestAlgorithm.CANONICAL
        : expected.algorithm();
    return new IngestRecord(VERSION, ref, total, expected == null ? null : expected.toString(),
        algorithm.label(), now, now, 0, 0, null, null, null, null, owner, leaseExpiry);
  }

  DigestAlgorithm digestAlgorithm() {
    return DigestAlgorithm.forLabel(algorithm).orElse(DigestAlgorithm.CANONICAL);
  }

  Digest expectedDigest() {
    return expected == null ? null : Digest.parse(expected);
  }

  boolean leasedAt(long now) {
    return leaseOwner != null && leaseExpiry > now;
  }

  Status toStatus() {
    return new Status(ref, offset, total, expectedDigest(), Times.instant(startedAt),
        Times.instant(updatedAt));
  }

  IngestRecord withLease(String owner, long expiry) {
    return new IngestRecord(version, ref, total, expected, algorithm, startedAt, updatedAt, offset,
        generation, dataKey, dataEtag, uploadId, uploadKey, owner, expiry);
  }

  IngestRecord withDescriptor(long newTotal, String newExpected, String newAlgorithm) {
    return new IngestRecord(version, ref, newTotal, newExpected, newAlgorithm, startedAt, updatedAt,
        offset, generation, dataKey, dataEtag, uploadId, uploadKey, leaseOwner, leaseExpiry);
  }

  IngestRecord withUpload(String id, String key, long newGeneration) {
    return new IngestRecord(version, ref, total, expected, algorithm, startedAt, updatedAt, offset,
        newGeneration, dataKey, dataEtag, id, key, leaseOwner, leaseExpiry);
  }

  IngestRecord withData(long newOffset, long newUpdatedAt, long newGeneration, String key,
      String etag) {
    return new IngestRecord(version, ref, total, expected, algorithm, startedAt, newUpdatedAt,
        newOffset, newGeneration, key, etag, null, null, leaseOwner, leaseExpiry);
  }
}
