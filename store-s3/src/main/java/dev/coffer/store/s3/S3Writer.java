package dev.coffer.store.s3;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import dev.coffer.store.spi.Checks;
import dev.coffer.store.spi.Labels;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * A writer on one ingest: coordinates the ref's {@link IngestLease}, the {@link PartPipeline} its
 * bytes go through, their durability ({@link IngestStep}) and the {@link IngestCommit}; a taken-over
 * ingest is resumed by {@link IngestResume}. Content that never fills a part needs no multipart
 * upload: it is written with one conditional PutObject at commit.
 *
 * <p>Closing without a commit leaves the ingest resumable by any process at exactly the bytes
 * written; the ref's lease is renewed in the background while the writer is open (the steps:
 * docs/architecture.md, "Writers"; INT-1, PROTO-4, PROTO-6, PROTO-7).
 */
final class S3Writer implements Writer {
  private final S3Store store;
  private final S3Objects objects;
  private final String ref;
  private final IngestLease lease;
  private final PartPipeline pipeline;

  private long updatedAt;
  /** Whether the bytes differ from those the ingest record names. */
  private boolean dirty;
  /**
   * The object that holds exactly the bytes written, once one was made durable (INT-1): a later
   * attempt to persist or commit them reuses it instead of sending anything again. Null after a
   * write or truncate.
   */
  private IngestData materialized;

  private volatile boolean closed;
  private Digest committed;
  private Status lastStatus;

  S3Writer(S3Store store, String ref, String owner) {
    this.store = store;
    this.objects = store.objects;
    this.ref = ref;
    this.lease = new IngestLease(store, ref, owner);
    this.pipeline = new PartPipeline(store, ref, lease);
  }

  // ---- opening and resuming

  void open(Descriptor descriptor) {
    if (lease.take(descriptor)) {
      IngestRecord started = lease.record();
      pipeline.start(RunningDigest.empty(ref, started.digestAlgorithm()));
      updatedAt = started.updatedAt();
    } else {
      new IngestResume(store, ref, lease).into(pipeline);
      updatedAt = lease.record().updatedAt();
    }
    lastStatus = currentStatus();
    lease.startRenewals();
  }

  // ---- writing

  @Override
  public int write(ByteBuffer src) {
    checkWritable();
    int count = src.remaining();
    pipeline.write(src);
    if (count > 0) {
      dirty = true;
      materialized = null;
      updatedAt = store.now();
    }
    return count;
  }

  // ---- durability

  /**
   * Makes every byte written one readable object: completes this session's upload (sending the
   * buffer as its last part), or writes the buffer as a new object; null when nothing was written.
   */
  private IngestData materialize() {
    IngestRecord r = lease.record();
    if (!dirty) {
      return r.dataKey() == null ? null
          : new IngestData(r.dataKey(), r.dataEtag(), r.generation(), r.offset());
    }
    if (materialized != null) {
      return materialized; // INT-1: made durable by an earlier attempt; never sent twice
    }
    if (pipeline.completes()) {
      materialized = pipeline.complete();
      return materialized;
    }
    IngestData prefix = pipeline.prefix(r);
    if (prefix != null) {
      return prefix;
    }
    if (pipeline.offset() == 0) {
      return null;
    }
    materialized = pipeline.putBuffer(r.generation() + 1);
    return materialized;
  }

  /** Makes the ingest durable as the record says and points the record at it; drops old data. */
  private void persist() {
    IngestRecord before = lease.record();
    IngestData data = materialize();
    long offset = pipeline.offset();
    if (IngestStep.changes(before, data, dirty)) {
      IngestStep step = IngestStep.toData(before, data, offset, updatedAt);
      lease.update(r -> IngestStep.toData(r, data, offset, updatedAt).next());
      deleteObsolete(step);
      dirty = false;
      pipeline.recorded(step.prefixKey());
    }
    if (data != null && data.length() == offset) {
      byte[] small = offset < S3Store.minPart() ? pipeline.bufferCopy() : null;
      store.pausedDigests.put(ref, new S3Store.PausedDigest(data.etag(), offset,
          pipeline.runningDigest(), small));
    }
  }

  /** The large commit's durability: the bytes one object, which the record names. */
  private IngestData recordDurable() {
    IngestRecord before = lease.record();
    IngestData data = materialize();
    long offset = pipeline.offset();
    lease.update(r -> IngestStep.toData(r, data, offset, updatedAt).next());
    deleteObsolete(IngestStep.toData(before, data, offset, updatedAt));
    dirty = false;
    return data;
  }

  private void deleteObsolete(IngestStep step) {
    if (step.obsoleteKey() != null) {
      objects.delete(step.obsoleteKey());
    }
  }

  /** Close without commit: keep the ingest, release the lease. */
  private void pauseIngest() {
    persist();
    lease.release();
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
    markClosed();
    boolean ingestGone = false;
    try {
      store.checkOpen();
      Labels.validate(labels);
      Checks.commitSize(size, ref);
      long offset = pipeline.offset();
      if (size > 0 && size != offset) {
        throw new FailedPreconditionException("unexpected commit size " + offset + " of ref \""
            + ref + "\", expected " + size);
      }
      Digest actual = currentDigest();
      if (expected != null && !expected.equals(actual)) {
        throw new FailedPreconditionException("unexpected commit digest " + actual
            + " of ref \"" + ref + "\", expected " + expected);
      }
      IngestCommit commit = new IngestCommit(store, ref, actual, offset,
          BlobPublisher.kept(labels), takeRef, this::discardIngest);
      Info info;
      // The lease is renewed until the commit ends: completing and copying a large blob can
      // outlast it, and an expired lease would let gc or another writer take the ingest away.
      lease.commitStarted();
      try {
        info = pipeline.small()
            ? commit.small(smallBytes(), pipeline.buffered())
            : commit.large(this::recordDurable, pipeline::crc32c);
      } catch (AlreadyExistsException e) {
        ingestGone = true;
        throw e;
      } finally {
        lease.commitEnded();
        lease.stopRenewals();
      }
      ingestGone = true;
      committed = actual;
      return info;
    } catch (RuntimeException e) {
      lease.stopRenewals();
      if (!ingestGone) {
        try {
          pauseIngest(); // a failed commit keeps the ingest
        } catch (RuntimeException secondary) {
          if (claimsTheIngestKept(e)) {
            // The refusal says the bytes written are kept, and they are not: the commit fails as
            // the close would have, so that the caller reads the ingest's offset again.
            secondary.addSuppressed(e);
            throw secondary;
          }
          e.addSuppressed(secondary);
        }
      }
      throw e;
    } finally {
      lastStatus = currentStatus();
      store.openWriters.remove(ref, this);
      pipeline.release();
    }
  }

  /**
   * Whether {@code refusal} is one of the commit's answers that keep the ingest at the bytes
   * written (FailedPrecondition and InvalidArgument: nothing was committed).
   */
  private static boolean claimsTheIngestKept(RuntimeException refusal) {
    return refusal instanceof FailedPreconditionException
        || refusal instanceof InvalidArgumentException;
  }

  private byte[] smallBytes() {
    byte[] buffer = pipeline.buffer();
    return buffer != null ? buffer : new byte[0];
  }

  /** Removes the ingest record, its data and any upload (PROTO-4). */
  private void discardIngest() {
    store.pausedDigests.invalidate(ref);
    IngestRecord last = lease.end();
    // Taken over (null): the bytes and the upload are the new owner's.
    pipeline.dropUpload(last != null);
    if (last != null) {
      store.discardBytes(last);
    }
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
    return Digest.fromHasher(lease.record().digestAlgorithm(),
        pipeline.runningDigest().digest());
  }

  @Override
  public Status status() {
    return closed ? lastStatus : currentStatus();
  }

  private Status currentStatus() {
    IngestRecord r = lease.record();
    return new Status(ref, pipeline.offset(), r.total(), r.expectedDigest(),
        Times.instant(r.startedAt()), Times.instant(updatedAt));
  }

  @Override
  public void truncate(long size) {
    checkWritable();
    long offset = pipeline.offset();
    if (size == offset) {
      return;
    }
    if (size != 0) {
      throw new InvalidArgumentException("cannot truncate ref \"" + ref + "\" to " + size
          + " bytes: it holds " + offset + " and only truncate(0) is supported");
    }
    pipeline.truncate();
    dirty = true;
    materialized = null;
    updatedAt = store.now();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    markClosed();
    if (lease.record() == null) {
      // Still opening on another thread (the store is closing): it has nothing durable to pause.
      store.openWriters.remove(ref, this);
      return;
    }
    lease.stopRenewals();
    try {
      pauseIngest();
    } finally {
      lastStatus = currentStatus();
      store.openWriters.remove(ref, this);
      pipeline.release();
    }
  }

  private void markClosed() {
    closed = true;
    lease.writerClosed();
  }

  private void checkWritable() {
    if (closed) {
      throw new FailedPreconditionException("writer of ref \"" + ref + "\" is closed");
    }
    lease.checkHeld();
  }
}
