package dev.coffer.store.s3;

import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnknownException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * A writer's bytes on their way to S3. Bytes fill a part-sized buffer; a full buffer becomes one
 * part of this writer's multipart upload, uploaded and hashed in the background while the next
 * fills, with at most {@code uploadConcurrency} buffers alive (filling or in flight). A resumed
 * ingest's durable prefix becomes the upload's first parts by server-side copies.
 *
 * <p>A part's number follows from the offset of its first byte (after the prefix's copies), as
 * Iceberg's S3OutputStream numbers parts from its staging files: sending a part again replaces
 * the same part, never adds a copy of its bytes (INT-1). Used by the writer's thread only.
 */
final class PartPipeline {
  private final S3Store store;
  private final S3Objects objects;
  private final String ref;
  /** Makes this writer's data keys unique. */
  private final String token;
  private final IngestLease lease;
  private final int partSize;
  private final PartBuffers buffers;

  private RunningDigest digest;
  private long offset;
  private byte[] buffer;
  private int filled;
  /**
   * How many bytes at the start of the buffer the digest holds already (a restored ingest, or a
   * digest asked for mid-buffer).
   */
  private int bufferHashed;

  /** A durable object of the first {@code prefixLength} bytes, copied server-side into parts. */
  private String prefixKey;
  private long prefixLength;
  /** How many parts of this session's upload are copies of the prefix. */
  private int prefixParts;

  private String uploadId;
  private String uploadKey;
  private boolean uploadChecksummed;
  private long uploadGeneration;
  private final List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();

  PartPipeline(S3Store store, String ref, IngestLease lease) {
    this.store = store;
    this.objects = store.objects;
    this.ref = ref;
    this.token = Long.toHexString(store.runtime.nextLong());
    this.lease = lease;
    this.partSize = (int) store.config.partSize();
    this.buffers = new PartBuffers(partSize, store.config.uploadConcurrency());
  }

  // ---- starting

  /** Starts from no bytes. */
  void start(RunningDigest empty) {
    digest = empty;
  }

  /** Continues from {@code bytes}, held in the buffer (and re-sent with the next part). */
  void resumeBuffered(RunningDigest hashed, byte[] bytes) {
    digest = hashed;
    acquireBuffer();
    System.arraycopy(bytes, 0, buffer, 0, bytes.length);
    filled = bytes.length;
    bufferHashed = filled;
    offset = bytes.length;
  }

  /** Continues from the durable object {@code key} of {@code length} bytes. */
  void resumeFrom(RunningDigest hashed, String key, long length) {
    digest = hashed;
    prefixKey = key;
    prefixLength = length;
    offset = length;
  }

  // ---- writing

  /** The number of bytes written. */
  long offset() {
    return offset;
  }

  /** Appends {@code src}, sending every buffer it fills as a part. */
  void write(ByteBuffer src) {
    while (src.hasRemaining()) {
      if (buffer == null) {
        acquireBuffer();
      }
      int take = Math.min(src.remaining(), buffer.length - filled);
      src.get(buffer, filled, take);
      filled += take;
      offset += take;
      if (filled == buffer.length) {
        flushPart();
      }
    }
  }

  private void acquireBuffer() {
    buffer = buffers.take("writing ref \"" + ref + "\"");
    filled = 0;
  }

  /** The part number of the bytes from {@code start}: after the prefix's copies, one per buffer. */
  private int partNumber(long start) {
    return prefixParts + (int) ((start - prefixLength) / partSize) + 1;
  }

  /**
   * Sends the buffer as its part and hashes it, both in the background; the buffer is reused once
   * both are done.
   */
  private void flushPart() {
    ensureUpload();
    byte[] full = buffer;
    int length = filled;
    int from = bufferHashed;
    int number = partNumber(offset - length);
    buffer = null;
    filled = 0;
    bufferHashed = 0;
    String key = uploadKey;
    String id = uploadId;
    boolean checksummed = uploadChecksummed;
    CompletableFuture<Void> hashing = digest.partLater(full, from, length, store.workers);
    CompletableFuture<CompletedPart> part = CompletableFuture
        .supplyAsync(() -> objects.uploads().uploadPart(key, id, number, full, length, checksummed),
            store.workers)
        .thenCompose(f -> f);
    buffers.giveBackAfter(full, part, hashing);
    parts.add(part);
    PartBuffers.failFast(parts, "uploading part of ref \"" + ref + "\"");
  }

  /** Starts this session's multipart upload, beginning with server-side copies of the prefix. */
  private void ensureUpload() {
    if (uploadId != null) {
      return;
    }
    long generation = lease.record().generation() + 1;
    String key = store.keys.ingestData(ref, generation, token);
    boolean checksummed = prefixKey == null;
    String id = objects.uploads().createUpload(key, checksummed);
    lease.update(r -> r.withUpload(id, key, generation));
    uploadId = id;
    uploadKey = key;
    uploadGeneration = generation;
    uploadChecksummed = checksummed;
    prefixParts = 0;
    if (prefixKey != null) {
      for (long[] range : ranges(prefixLength, store.config.copyPartSize())) {
        parts.add(objects.uploads().uploadPartCopy(prefixKey, key, id, ++prefixParts, range[0],
            range[1]));
      }
    }
  }

  /**
   * Splits {@code length} bytes into inclusive ranges of at least {@code pieceSize} bytes (so every
   * one may be a part other than the last) and at most 5 GiB, near-equal in size.
   */
  static List<long[]> ranges(long length, long pieceSize) {
    long count = Math.max(Math.max(1, length / pieceSize),
        (length + S3StoreConfig.COPY_PART_SIZE_MAX - 1) / S3StoreConfig.COPY_PART_SIZE_MAX);
    long piece = (length + count - 1) / count;
    List<long[]> ranges = new ArrayList<>();
    for (long first = 0; first < length; first += piece) {
      ranges.add(new long[] {first, Math.min(length, first + piece) - 1});
    }
    return ranges;
  }

  // ---- making the bytes durable

  /** Whether the bytes are below one part and no upload holds any: a commit puts the buffer. */
  boolean small() {
    return uploadId == null && prefixKey == null;
  }

  /** Whether making the bytes durable completes an upload (begun, or to begin from the prefix). */
  boolean completes() {
    return uploadId != null || (prefixKey != null && filled > 0);
  }

  /**
   * Completes this session's upload, sending the buffer as its last part, and makes the completed
   * object the prefix of whatever follows.
   */
  IngestData complete() {
    ensureUpload();
    if (filled > 0) {
      // The tail becomes a part once: hashed, then dropped from the buffer, so that a retry
      // after a failed completion completes the same parts again instead of adding a copy.
      parts.add(objects.uploads().uploadPart(uploadKey, uploadId, partNumber(offset - filled), buffer,
          filled, uploadChecksummed));
      digest.part(buffer, bufferHashed, filled);
      filled = 0;
      bufferHashed = 0;
    }
    List<CompletedPart> done = new ArrayList<>();
    for (CompletableFuture<CompletedPart> part : parts) {
      done.add(S3Errors.join(part, "uploading part of ref \"" + ref + "\""));
    }
    IngestData data = new IngestData(uploadKey, completeUpload(done), uploadGeneration, offset);
    uploadId = null;
    parts.clear();
    // The writer's durable state follows the object the moment it is complete.
    prefixKey = data.key();
    prefixLength = offset;
    prefixParts = 0;
    return data;
  }

  /**
   * Completes this session's upload. A completion S3 applied but whose answer was lost is retried
   * by the SDK into NoSuchUpload (S3's documented answer, MinIO's and S3Mock's): then the upload's
   * key, which only this writer writes, holds the completed object if its length is the offset.
   */
  private String completeUpload(List<CompletedPart> done) {
    try {
      return objects.uploads().complete(uploadKey, uploadId, done);
    } catch (NotFoundException e) {
      S3Objects.Head head = objects.head(uploadKey);
      if (head == null || head.size() != offset) {
        throw new UnknownException("completing the upload of ref \"" + ref + "\" failed: "
            + "the upload is gone and its key holds " + (head == null ? "nothing"
                : head.size() + " bytes, not " + offset), e);
      }
      return head.etag();
    }
  }

  /** The prefix as the record names it, or null when there is none. */
  IngestData prefix(IngestRecord record) {
    return prefixKey == null ? null
        : new IngestData(prefixKey, record.dataEtag(), record.generation(), prefixLength);
  }

  /** Writes the buffer, every byte written, as a new object of generation {@code generation}. */
  IngestData putBuffer(long generation) {
    String key = store.keys.ingestData(ref, generation, token);
    String etag = objects.put(key, buffer, filled);
    return new IngestData(key, etag, generation, offset);
  }

  /** The record now names the object {@code key} (null: none) of every byte written. */
  void recorded(String key) {
    prefixKey = key;
    prefixLength = key == null ? 0 : offset;
  }

  /** The buffer, holding every byte written when {@link #small}; null if none was written. */
  byte[] buffer() {
    return buffer;
  }

  int buffered() {
    return filled;
  }

  /** A copy of the buffer's bytes, or null if there is no buffer. */
  byte[] bufferCopy() {
    return buffer == null ? null : Arrays.copyOf(buffer, filled);
  }

  // ---- the digest

  /** A copy of the running digest of every byte written. */
  MessageDigest runningDigest() {
    hashBuffer(); // hashed here once, not again when the buffer is sent
    return digest.snapshot();
  }

  /** The CRC32C of every byte written, as S3 reports it; null when there is none. */
  String crc32c() {
    return digest.crc32c();
  }

  private void hashBuffer() {
    if (buffer != null) {
      digest.hash(buffer, bufferHashed, filled);
      bufferHashed = filled;
    }
  }

  // ---- ending

  /** Drops every byte written: aborts this session's upload and starts again from none. */
  void truncate() {
    if (uploadId != null) {
      parts.forEach(p -> p.cancel(true));
      parts.clear();
      objects.uploads().abortUpload(uploadKey, uploadId);
      uploadId = null;
      lease.update(r -> r.withUpload(null, null, r.generation()));
    }
    prefixKey = null;
    prefixLength = 0;
    prefixParts = 0;
    filled = 0;
    bufferHashed = 0;
    offset = 0;
    digest.reset(lease.record().digestAlgorithm());
  }

  /** Forgets this session's upload; aborts it first if {@code abort}. */
  void dropUpload(boolean abort) {
    if (abort && uploadId != null) {
      objects.uploads().abortUpload(uploadKey, uploadId);
    }
    uploadId = null;
  }

  /** Frees the buffers. */
  void release() {
    buffer = null;
    buffers.clear();
  }
}
