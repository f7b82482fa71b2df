package dev.coffer.store.memory;

import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** A committed blob. The bytes never change; the rest is guarded by the store's monitor. */
final class MemoryBlob {
  final byte[] data;
  final Instant createdAt;
  Instant updatedAt;
  Map<String, String> labels;
  long refCount;
  /** The blobs this one links to, each with the incarnation whose reference the link holds. */
  final Map<Digest, Long> links = new LinkedHashMap<>();
  final long incarnation;
  /** The last use recorded: at most one a touch interval, as the S3 store records them. */
  Instant lastUsedAt;

  MemoryBlob(byte[] data, Instant createdAt, Map<String, String> labels, long refCount,
      long incarnation) {
    this.incarnation = incarnation;
    this.data = data;
    this.createdAt = createdAt;
    this.updatedAt = createdAt;
    this.lastUsedAt = createdAt;
    this.labels = labels;
    this.refCount = refCount;
  }

  /** The blob's info under {@code digest}, as the store answers it. */
  Info info(Digest digest) {
    return new Info(digest, data.length, createdAt, updatedAt, labels, refCount, links.keySet(),
        incarnation, lastUsedAt);
  }
}
