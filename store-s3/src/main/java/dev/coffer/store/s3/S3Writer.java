package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.Labels;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Status;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import dev.coffer.store.Writer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * A writer on one ingest. Bytes fill a part-sized buffer; a full buffer becomes one part of a
 * multipart upload, uploaded in the background while the next fills, with at most
 * {@code uploadConcurrency} buffers alive (filling or in flight). Content that never fills a buffer
 * needs no multipart upload: it is written with one conditional PutObject at commit.
 *
 * <p>Closing without a commit makes the ingest's bytes one readable object (completing the upload,
 * or writing the buffer), so that any process can resume it: this instance from its cached running
 * digest, another by re-reading that object once. A resumed ingest of at least 5 MiB continues in a
 * new upload whose first parts are server-side copies of that object; a smaller one is re-sent with
 * the next part. The ref's lease is renewed in the background while the writer is open.
 */
final class S3Writer implements Writer {
  private static final Logger LOG = LoggerFactory.getLogger(S3Writer.class);
  private final S3Store store;
  private final S3Objects objects;
  private final String ref;
  private final String owner;
  /** Makes this writer's data keys unique. */
  private final String token;
  private final String stateKey;
  private final int partSize;
  private final long leaseNanos;

  /** Guards the ingest record and its ETag, shared with the lease renewal. */
  private final Object recordLock = new Object();
  private IngestRecord record;
  private String recordEtag;
  private boolean leaseLost;

  /**
   * The running digest of the bytes before the buffer's unhashed tail. Full buffers are hashed in
   * order on a worker while the next one fills (the writing thread only copies), so it is touched
   * only by the stage {@link #hashed} completes, or after joining that.
   */
  private MessageDigest hasher;
  /** The last hashing stage; the writer's bytes up to the current buffer are hashed when done. */
  private CompletableFuture<Void> hashed = CompletableFuture.completedFuture(null);
  /**
   * The CRC32C of every byte written, fed by the same stages as the hasher (whole buffers, from
   * their start), to compare with the blob object's full-object CRC32C after the copy (INT-5);
   * null when this writer continues an object it did not read.
   */
  private CRC32C crc;
  /**
   * How many bytes at the start of the buffer the hasher holds already (a restored ingest, or a
   * digest asked for mid-buffer).
   */
  private int bufferHashed;
  private long offset;
  private long updatedAt;
  /** Whether the bytes differ from those the ingest record names. */
  private boolean dirty;
  /**
   * The object that holds exactly the bytes written, once one was made durable (INT-1): a later
   * attempt to persist or commit them reuses it instead of sending anything again. Null after a
   * write or truncate.
   */
  private Data materialized;

  /** A durable object of the first {@code prefixLength} bytes, copied server-side into parts. */
  private String prefixKey;
  private long prefixLength;

  private byte[] buffer;
  private int filled;
  private final Semaphore bufferPermits;
  private final ConcurrentLinkedQueue<byte[]> spareBuffers = new ConcurrentLinkedQueue<>();

  private String uploadId;
  private String uploadKey;
  private boolean uploadChecksummed;
  private long uploadGeneration;
  private int nextPart;
  private final List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();

  private ScheduledFuture<?> renewal;
  /** Whether a renewal of this writer's lease is under way on the workers. */
  private final AtomicBoolean renewing = new AtomicBoolean();
  private volatile boolean closed;
  /** Whether a commit is in progress (the lease is renewed meanwhile); guarded by recordLock. */
  private boolean committing;
  private Digest committed;
  private Status lastStatus;

  S3Writer(S3Store store, String ref, String owner) {
    this.store = store;
    this.objects = store.objects;
    this.ref = ref;
    this.owner = owner;
    this.token = Long.toHexString(store.runtime.nextLong());
    this.stateKey = store.keys.ingestState(ref);
    this.partSize = (int) store.config.partSize();
    this.leaseNanos = store.config.leaseDuration().toNanos();
    this.bufferPermits = new Semaphore(store.config.uploadConcurrency());
  }

  // ---- opening and resuming

  void open(Descriptor descriptor) {
    for (int attempt = 0; ; attempt++) {
      long now = store.now();
      IngestRecord fresh = IngestRecord.start(ref, descriptor.size(), descriptor.digest(), now,
          owner, now + leaseNanos);
      byte[] json = Json.write(fresh);
      String etag = objects.putIfAbsent(stateKey, json, json.length, null, Map.of());
      if (etag != null) {
        record = fresh;
        recordEtag = etag;
        hasher = fresh.digestAlgorithm().newHasher();
        crc = new CRC32C();
        updatedAt = now;
        break;
      }
      S3Objects.Fetched fetched = objects.get(stateKey);
      if (fetched != null && Arrays.equals(fetched.bytes(), json)) {
        // This writer's own creation, applied with its answer lost: the SDK's retry met it as
        // 412. The lease is this writer's (PROTO-6).
        record = fresh;
        recordEtag = fetched.etag();
        hasher = fresh.digestAlgorithm().newHasher();
        updatedAt = now;
        break;
      }
      if (fetched == null) {
        if (attempt >= store.config.casAttempts()) {
          throw new UnavailableException("ref \"" + ref + "\" keeps changing; try again");
        }
        continue; // aborted or committed meanwhile: create it anew
      }
      takeOver(Json.read(fetched.bytes(), IngestRecord.class, stateKey), fetched.etag(),
          descriptor, now);
      break;
    }
    lastStatus = currentStatus();
    long period = Math.max(1, leaseNanos / 3);
    renewal = store.leases.scheduleAtFixedRate(this::startRenewal, period, period,
        TimeUnit.NANOSECONDS);
  }

  private void takeOver(IngestRecord found, String etag, Descriptor descriptor, long now) {
    if (found.leasedAt(now)) {
      Instant until = Times.instant(found.leaseExpiry());
      throw new UnavailableException("ref \"" + ref + "\" is locked by another writer ("
          + found.leaseOwner() + ") whose lease lapses at " + until + " unless renewed", until);
    }
    IngestRecord taken = found.withLease(owner, now + leaseNanos);
    boolean unused = found.offset() == 0 && found.uploadId() == null;
    if (found.expected() == null && descriptor.digest() != null && unused) {
      taken = taken.withDescriptor(taken.total(), descriptor.digest().toString(),
          descriptor.digest().algorithm().label());
    }
    if (taken.total() == 0 && descriptor.size() > 0) {
      taken = taken.withDescriptor(descriptor.size(), taken.expected(), taken.algorithm());
    }
    String newEtag = objects.putIfMatch(stateKey, Json.write(taken), etag);
    if (newEtag == null) {
      throw new UnavailableException("ref \"" + ref + "\" was taken by another writer");
    }
    record = taken;
    recordEtag = newEtag;
    store.metrics.lease("taken_over");
    LOG.info("took over ref \"{}\" at offset {}: the lease of {} had lapsed", ref,
        taken.offset(), found.leaseOwner());
    if (taken.uploadId() != null) {
      recoverUpload();
    }
    restoreBytes();
  }

  /**
   * Keeps what a crashed writer uploaded: the consecutive parts from 1 of its upload hold the
   * ingest's first bytes, so completing the upload with them makes them the ingest's data.
   */
  private void recoverUpload() {
    IngestRecord r = record;
    List<CompletedPart> kept = new ArrayList<>();
    long size = 0;
    for (Part part : objects.listParts(r.uploadKey(), r.uploadId())) {
      if (part.partNumber() != kept.size() + 1) {
        break;
      }
      kept.add(S3Objects.completed(part));
      size += part.size();
    }
    String etag;
    long recovered = size;
    if (kept.isEmpty()) {
      // No parts: the upload was never started, or the writer completed it and died before
      // recording that. Then its key holds every byte of the ingest (a complete never covers
      // fewer bytes than the record's offset), and aborting would lose them.
      S3Objects.Head completed = objects.head(r.uploadKey());
      if (completed == null || completed.size() < r.offset()) {
        objects.abortUpload(r.uploadKey(), r.uploadId());
        updateRecord(x -> x.withUpload(null, null, x.generation()));
        return;
      }
      etag = completed.etag();
      recovered = completed.size();
    } else {
      etag = objects.complete(r.uploadKey(), r.uploadId(), kept);
    }
    long offset = recovered;
    updateRecord(x -> x.withData(offset, store.now(), x.generation(), r.uploadKey(), etag));
    if (r.dataKey() != null && !r.dataKey().equals(r.uploadKey())) {
      objects.delete(r.dataKey());
    }
    store.pausedDigests.invalidate(ref);
  }

  /** Restores the running digest and the buffer or prefix of the bytes the record names. */
  private void restoreBytes() {
    IngestRecord r = record;
    offset = r.offset();
    updatedAt = r.updatedAt();
    DigestAlgorithm algorithm = r.digestAlgorithm();
    if (offset == 0) {
      hasher = algorithm.newHasher();
      crc = new CRC32C();
      return;
    }
    byte[] bytes = null;
    S3Store.PausedDigest paused = store.pausedDigests.getIfPresent(ref);
    if (paused != null && paused.dataEtag().equals(r.dataEtag()) && paused.offset() == offset
        && holdsOffset(r.dataKey())) {
      hasher = clone(paused.hasher());
      bytes = paused.bytes();
    } else if (paused != null) {
      store.pausedDigests.invalidate(ref);
    }
    boolean small = offset < S3Store.minPart();
    if (hasher == null || (small && bytes == null)) {
      // Another process paused this ingest: read its bytes once, as containerd re-reads a file.
      hasher = algorithm.newHasher();
      ByteArrayOutputStream copy = small ? new ByteArrayOutputStream((int) offset) : null;
      long read;
      try (InputStream in = objects.stream(r.dataKey())) {
        read = S3Objects.drain(in, hasher, copy);
      } catch (IOException e) {
        throw new UnknownException("reading the ingest of ref \"" + ref + "\"", e);
      }
      if (read != offset) {
        throw new DataLossException("the ingest of ref \"" + ref + "\" holds " + read
            + " bytes, its record says " + offset);
      }
      bytes = small ? copy.toByteArray() : null;
    }
    if (small) {
      acquireBuffer();
      System.arraycopy(bytes, 0, buffer, 0, bytes.length);
      filled = bytes.length;
      bufferHashed = filled;
      crc = new CRC32C(); // the buffer holds every byte, and is fed to it whole
    } else {
      prefixKey = r.dataKey();
      prefixLength = offset;
    }
  }

  /**
   * Whether the object at {@code key} holds exactly {@code offset} bytes: a cached digest is used
   * only for an object of the length it was computed over (INT-1).
   */
  private boolean holdsOffset(String key) {
    S3Objects.Head head = objects.head(key);
    return head != null && head.size() == offset;
  }

  // ---- the lease

  /**
   * Hands this writer's renewal to the workers, unless the last one is still running: the lease
   * thread only schedules, so a renewal stuck in a slow request never holds back the other
   * writers' (PROTO-7).
   */
  private void startRenewal() {
    if (!renewing.compareAndSet(false, true)) {
      return;
    }
    try {
      store.workers.execute(() -> {
        try {
          renewLease();
        } finally {
          renewing.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      renewing.set(false); // the store is closing
    }
  }

  private void renewLease() {
    synchronized (recordLock) {
      if (leaseLost || (closed && !committing)) {
        return;
      }
      try {
        updateRecord(r -> r.withLease(owner, store.now() + leaseNanos));
        store.metrics.lease("renewed");
      } catch (StoreException e) {
        store.metrics.lease("renewal_failed");
        LOG.warn("renewing the lease on ref \"{}\" failed (it lapses at {}): {}", ref,
            Times.instant(record.leaseExpiry()), e.getMessage());
        if (!leaseLost && store.now() >= record.leaseExpiry()) {
          // Lapsed: another writer may take the ingest over now. This one stops writing it.
          leaseLost = true;
        }
      }
    }
  }

  /** Changes the ingest record by compare-and-swap against the version this writer last wrote. */
  private void updateRecord(UnaryOperator<IngestRecord> change) {
    synchronized (recordLock) {
      if (leaseLost) {
        throw new UnavailableException("the lease on ref \"" + ref + "\" was lost");
      }
      IngestRecord next = change.apply(record);
      byte[] json = Json.write(next);
      String etag = objects.putIfMatch(stateKey, json, recordEtag);
      if (etag == null) {
        // A 412 may answer the SDK's retry of this very write, applied by S3 with its answer
        // lost: the record then holds exactly these bytes, this writer's lease included (PROTO-6).
        S3Objects.Fetched found = objects.get(stateKey);
        if (found != null && Arrays.equals(found.bytes(), json)) {
          etag = found.etag();
        }
      }
      if (etag == null) {
        leaseLost = true;
        store.metrics.lease("lost");
        throw new UnavailableException("the lease on ref \"" + ref
            + "\" was lost: another writer took the ingest over");
      }
      record = next;
      recordEtag = etag;
    }
  }

  // ---- writing

  @Override
  public int write(ByteBuffer src) {
    checkWritable();
    int count = src.remaining();
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
    if (count > 0) {
      dirty = true;
      materialized = null;
      updatedAt = store.now();
    }
    return count;
  }

  private void acquireBuffer() {
    try {
      bufferPermits.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while writing ref \"" + ref + "\"", e);
    }
    byte[] spare = spareBuffers.poll();
    buffer = spare != null ? spare : new byte[partSize];
    filled = 0;
  }

  /**
   * Sends the buffer as the next part and hashes it, both in the background; the buffer is reused
   * once both are done.
   */
  private void flushPart() {
    ensureUpload();
    byte[] full = buffer;
    int length = filled;
    int from = bufferHashed;
    int number = nextPart++;
    buffer = null;
    filled = 0;
    bufferHashed = 0;
    String key = uploadKey;
    String id = uploadId;
    boolean checksummed = uploadChecksummed;
    MessageDigest running = hasher;
    CRC32C check = crc;
    CompletableFuture<Void> hashing = hashed.thenRunAsync(() -> {
      running.update(full, from, length - from);
      if (check != null) {
        check.update(full, 0, length);
      }
    }, store.workers);
    hashed = hashing;
    CompletableFuture<CompletedPart> part = CompletableFuture
        .supplyAsync(() -> objects.uploadPart(key, id, number, full, length, checksummed),
            store.workers)
        .thenCompose(f -> f);
    CompletableFuture.allOf(part, hashing).whenComplete((r, e) -> {
      spareBuffers.offer(full);
      bufferPermits.release();
    });
    parts.add(part);
    for (CompletableFuture<CompletedPart> p : parts) {
      if (p.isCompletedExceptionally()) {
        S3Objects.join(p, "uploading part of ref \"" + ref + "\"");
      }
    }
  }

  /** Starts this session's multipart upload, beginning with server-side copies of the prefix. */
  private void ensureUpload() {
    if (uploadId != null) {
      return;
    }
    long generation = record.generation() + 1;
    String key = store.keys.ingestData(ref, generation, token);
    boolean checksummed = prefixKey == null;
    String id = objects.createUpload(key, checksummed);
    updateRecord(r -> r.withUpload(id, key, generation));
    uploadId = id;
    uploadKey = key;
    uploadGeneration = generation;
    uploadChecksummed = checksummed;
    nextPart = 1;
    if (prefixKey != null) {
      for (long[] range : ranges(prefixLength, store.config.copyPartSize())) {
        parts.add(objects.uploadPartCopy(prefixKey, key, id, nextPart++, range[0], range[1]));
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

  /** The object holding all bytes written, its ETag, generation and length. */
  private record Data(String key, String etag, long generation, long length) {}

  /**
   * Makes every byte written one readable object: completes this session's upload (sending the
   * buffer as its last part), or writes the buffer as a new object; null when nothing was written.
   */
  private Data materialize() {
    if (!dirty) {
      return record.dataKey() == null ? null
          : new Data(record.dataKey(), record.dataEtag(), record.generation(), record.offset());
    }
    if (materialized != null) {
      return materialized; // INT-1: made durable by an earlier attempt; never sent twice
    }
    if (uploadId != null || (prefixKey != null && filled > 0)) {
      ensureUpload();
      if (filled > 0) {
        // The tail becomes a part once: hashed, then dropped from the buffer, so that a retry
        // after a failed completion completes the same parts again instead of adding a copy.
        int number = nextPart++;
        parts.add(objects.uploadPart(uploadKey, uploadId, number, buffer, filled,
            uploadChecksummed));
        hashBuffer();
        if (crc != null) {
          crc.update(buffer, 0, filled);
        }
        filled = 0;
        bufferHashed = 0;
      }
      List<CompletedPart> done = new ArrayList<>();
      for (CompletableFuture<CompletedPart> part : parts) {
        done.add(S3Objects.join(part, "uploading part of ref \"" + ref + "\""));
      }
      Data data = new Data(uploadKey, completeUpload(done), uploadGeneration, offset);
      uploadId = null;
      parts.clear();
      // The writer's durable state follows the object the moment it is complete.
      prefixKey = data.key();
      prefixLength = offset;
      materialized = data;
      return data;
    }
    if (prefixKey != null) {
      return new Data(prefixKey, record.dataEtag(), record.generation(), prefixLength);
    }
    if (offset == 0) {
      return null;
    }
    long generation = record.generation() + 1;
    String key = store.keys.ingestData(ref, generation, token);
    String etag = objects.put(key, buffer, filled);
    materialized = new Data(key, etag, generation, offset);
    return materialized;
  }

  /**
   * Completes this session's upload. A completion S3 applied but whose answer was lost is retried
   * by the SDK into NoSuchUpload (S3's documented answer, MinIO's and S3Mock's): then the upload's
   * key, which only this writer writes, holds the completed object if its length is the offset.
   */
  private String completeUpload(List<CompletedPart> done) {
    try {
      return objects.complete(uploadKey, uploadId, done);
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

  /** Feeds the buffer's unhashed bytes to the running digest. */
  private void hashBuffer() {
    awaitHashing();
    if (buffer != null) {
      hasher.update(buffer, bufferHashed, filled - bufferHashed);
      bufferHashed = filled;
    }
  }

  /** Makes the ingest durable as the record says and points the record at it; drops old data. */
  private void persist() {
    String oldKey = record.dataKey();
    Data data = materialize();
    if (dirty || data == null && oldKey != null) {
      updateRecord(r -> data == null ? r.withData(0, updatedAt, r.generation(), null, null)
          : r.withData(offset, updatedAt, data.generation(), data.key(), data.etag()));
      if (oldKey != null && (data == null || !oldKey.equals(data.key()))) {
        objects.delete(oldKey);
      }
      dirty = false;
      prefixKey = data == null || offset < S3Store.minPart() ? null : data.key();
      prefixLength = prefixKey == null ? 0 : offset;
    }
    if (data != null && data.length() == offset) {
      byte[] small = offset < S3Store.minPart() && buffer != null
          ? Arrays.copyOf(buffer, filled) : null;
      store.pausedDigests.put(ref, new S3Store.PausedDigest(data.etag(), offset,
          runningDigest(), small));
    }
  }

  /** Close without commit: keep the ingest, release the lease. */
  private void pauseIngest() {
    persist();
    updateRecord(r -> r.withLease(null, 0));
  }

  // ---- committing

  @Override
  public void commit(long size, Digest expected, Map<String, String> labels) {
    finish(size, expected, labels, false);
  }

  @Override
  public Info commitAndRef(long size, Digest expected, Map<String, String> labels) {
    return finish(size, expected, labels, true);
  }

  private Info finish(long size, Digest expected, Map<String, String> labels, boolean takeRef) {
    if (closed) {
      throw new FailedPreconditionException(
          "cannot commit ref \"" + ref + "\": the writer is closed");
    }
    closed = true;
    boolean ingestGone = false;
    try {
      store.checkOpen();
      Labels.validate(labels);
      Content.checkCommitSize(size, ref);
      if (size > 0 && size != offset) {
        throw new FailedPreconditionException("unexpected commit size " + offset + " of ref \""
            + ref + "\", expected " + size);
      }
      Digest actual = currentDigest();
      if (expected != null && !expected.equals(actual)) {
        throw new FailedPreconditionException("unexpected commit digest " + actual
            + " of ref \"" + ref + "\", expected " + expected);
      }
      Info info;
      // The lease is renewed until the commit ends: completing and copying a large blob can
      // outlast it, and an expired lease would let gc or another writer take the ingest away.
      synchronized (recordLock) {
        committing = true;
      }
      try {
        info = new Committer(actual, BlobPublisher.kept(labels), takeRef).commit();
      } catch (AlreadyExistsException e) {
        ingestGone = true;
        throw e;
      } finally {
        synchronized (recordLock) {
          committing = false;
        }
        stopRenewal();
      }
      ingestGone = true;
      committed = actual;
      return info;
    } catch (RuntimeException e) {
      stopRenewal();
      if (!ingestGone) {
        try {
          pauseIngest(); // a failed commit keeps the ingest
        } catch (RuntimeException secondary) {
          e.addSuppressed(secondary);
        }
      }
      throw e;
    } finally {
      lastStatus = currentStatus();
      store.openWriters.remove(ref, this);
      releaseBuffers();
    }
  }

  /** One commit: the bytes to the digest key, then the index record, then the ingest removed. */
  private final class Committer {
    final Digest digest;
    final String blobKey;
    final BlobPublisher publisher;
    /** Whether the ingest's object was found to hold {@code offset} bytes. */
    boolean sourceChecked;

    Committer(Digest digest, Map<String, String> labels, boolean takeRef) {
      this.digest = digest;
      this.blobKey = store.keys.blob(digest);
      this.publisher = new BlobPublisher(store, digest, offset, labels, takeRef,
          S3Writer.this::discardIngest);
    }

    Info commit() {
      if (uploadId == null && prefixKey == null) {
        return commitSmall();
      }
      return commitLarge();
    }

    /** Content below one part: one conditional PutObject straight to the digest key. */
    private Info commitSmall() {
      byte[] bytes = buffer != null ? buffer : new byte[0];
      BlobPublisher.Created created = store.putBlob(digest, bytes, filled, publisher.fresh());
      return publisher.publish(() -> objects.put(blobKey, bytes, filled), created);
    }

    /** Content of parts: complete the upload, then a server-side copy to the digest key. */
    private Info commitLarge() {
      String oldKey = record.dataKey();
      Data data = materialize();
      updateRecord(r -> r.withData(offset, updatedAt, data.generation(), data.key(),
          data.etag()));
      if (oldKey != null && !oldKey.equals(data.key())) {
        objects.delete(oldKey);
      }
      dirty = false;
      IndexRecord existing = store.record(digest);
      if (existing != null && existing.isLive() && !objects.exists(blobKey)) {
        // A live record without its object (PROTO-5), such as a corrupt blob whose bytes
        // fsck --verify --repair removed (INT-3): heal it, with or without a reference taken.
        copyToBlob(data.key());
      }
      if (existing != null && existing.isLive() && !publisher.takesRef()) {
        store.marks.used(digest, existing);
        discardIngest();
        throw new AlreadyExistsException("content " + digest + " already exists");
      }
      if (existing == null) {
        copyToBlob(data.key());
      }
      Info info = publisher.publish(() -> copyToBlob(data.key()));
      store.mirrorTags(digest, publisher.fresh().withRefCount(info.refCount()));
      return info;
    }

    private void copyToBlob(String source) {
      if (!sourceChecked) {
        // INT-1: nothing is copied to a digest key from an object of another length.
        S3Objects.Head head = objects.head(source);
        if (head != null && head.size() != offset) {
          throw new DataLossException("the ingest of ref \"" + ref + "\" holds " + head.size()
              + " bytes, its record says " + offset + "; abort it and write it again");
        }
        sourceChecked = true;
      }
      try {
        if (offset > store.config.multipartCopyThreshold()) {
          new MultipartCopy(store, source, blobKey, offset).run();
        } else {
          objects.copy(source, blobKey);
        }
      } catch (NotFoundException e) {
        // The ingest's own bytes are gone: its lease lapsed (renewals failed) and gc or another
        // writer removed it. The ref is free again, so writing it anew can succeed.
        throw new UnavailableException("the ingest of ref \"" + ref + "\" was removed while "
            + "committing: its lease lapsed", e);
      }
      checkCopy();
    }

    /**
     * INT-5: before the record goes live, the blob object has the content's length and, where S3
     * keeps a full-object CRC32C for it (a CopyObject of CRC32C parts), the CRC32C of the bytes
     * written. A missing object is left to the publisher's look for it.
     */
    private void checkCopy() {
      S3Objects.Checked copied = objects.headChecked(blobKey);
      if (copied == null) {
        return;
      }
      if (copied.size() != offset) {
        throw DataLossException.lengthMismatch(digest, offset, copied.size());
      }
      String written = crc == null ? null : S3Objects.crc32c(crc);
      if (written != null && copied.fullObjectCrc32c() != null
          && !written.equals(copied.fullObjectCrc32c())) {
        throw new DataLossException("content " + digest + " copied from ref \"" + ref
            + "\" is corrupt: its CRC32C is " + copied.fullObjectCrc32c() + ", the bytes written "
            + written);
      }
    }
  }

  /** Removes the ingest record, its data and any upload. */
  private void discardIngest() {
    IngestRecord r;
    String etag;
    synchronized (recordLock) {
      r = record;
      etag = recordEtag;
      leaseLost = true; // nothing may write the record any more
    }
    store.pausedDigests.invalidate(ref);
    // The record first, and the bytes only if it was still this writer's (PROTO-4): a writer whose
    // lease lapsed (during a long copy) may find the ingest taken over, and the new owner resumes
    // from these very bytes and this upload.
    if (!objects.deleteIfMatch(stateKey, etag) && objects.get(stateKey) != null) {
      LOG.warn("the ingest of ref \"{}\" was taken over by another writer while this one "
          + "committed (its lease lapsed); its bytes are left to that writer", ref);
      uploadId = null;
      return;
    }
    if (uploadId != null) {
      objects.abortUpload(uploadKey, uploadId);
      uploadId = null;
    }
    store.discardBytes(r);
  }

  // ---- the rest of the contract

  @Override
  public Digest digest() {
    if (committed != null) {
      return committed;
    }
    return currentDigest();
  }

  private Digest currentDigest() {
    return Digest.fromHasher(record.digestAlgorithm(), runningDigest().digest());
  }

  /** A copy of the running digest of every byte written. */
  private MessageDigest runningDigest() {
    hashBuffer(); // hashed here once, not again when the buffer is sent
    return clone(hasher);
  }

  private void awaitHashing() {
    S3Objects.join(hashed, "hashing ref \"" + ref + "\"");
  }

  @Override
  public Status status() {
    return closed ? lastStatus : currentStatus();
  }

  private Status currentStatus() {
    return new Status(ref, offset, record.total(), record.expectedDigest(),
        Times.instant(record.startedAt()), Times.instant(updatedAt));
  }

  @Override
  public void truncate(long size) {
    checkWritable();
    if (size == offset) {
      return;
    }
    if (size != 0) {
      throw new InvalidArgumentException("cannot truncate ref \"" + ref + "\" to " + size
          + " bytes: it holds " + offset + " and only truncate(0) is supported");
    }
    if (uploadId != null) {
      parts.forEach(p -> p.cancel(true));
      parts.clear();
      objects.abortUpload(uploadKey, uploadId);
      uploadId = null;
      updateRecord(r -> r.withUpload(null, null, r.generation()));
    }
    prefixKey = null;
    prefixLength = 0;
    filled = 0;
    bufferHashed = 0;
    offset = 0;
    awaitHashing(); // the stage in flight must not feed the new hasher
    hasher = record.digestAlgorithm().newHasher();
    crc = new CRC32C();
    dirty = true;
    materialized = null;
    updatedAt = store.now();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (record == null) {
      // Still opening on another thread (the store is closing): it has nothing durable to pause.
      store.openWriters.remove(ref, this);
      return;
    }
    stopRenewal();
    try {
      pauseIngest();
    } finally {
      lastStatus = currentStatus();
      store.openWriters.remove(ref, this);
      releaseBuffers();
    }
  }

  private void stopRenewal() {
    if (renewal != null) {
      renewal.cancel(false);
    }
  }

  private void releaseBuffers() {
    buffer = null;
    spareBuffers.clear();
  }

  private void checkWritable() {
    if (closed) {
      throw new FailedPreconditionException("writer of ref \"" + ref + "\" is closed");
    }
    synchronized (recordLock) {
      if (leaseLost) {
        throw new UnavailableException("the lease on ref \"" + ref + "\" was lost");
      }
    }
  }

  private static MessageDigest clone(MessageDigest hasher) {
    try {
      return (MessageDigest) hasher.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("JDK digests are cloneable", e);
    }
  }
}
