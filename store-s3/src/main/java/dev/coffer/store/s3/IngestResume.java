package dev.coffer.store.s3;

import dev.coffer.store.DataLossException;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.UnknownException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * Resumes an ingest taken over from an earlier writer: keeps what that writer uploaded, then
 * restores the running digest and the buffer or prefix of the bytes the record names: from this
 * process's cached digest of a paused ingest when the object still has the length it was computed
 * over (INT-1), else by reading the object once.
 */
final class IngestResume {
  private final S3Store store;
  private final S3Objects objects;
  private final String ref;
  private final IngestLease lease;

  IngestResume(S3Store store, String ref, IngestLease lease) {
    this.store = store;
    this.objects = store.objects;
    this.ref = ref;
    this.lease = lease;
  }

  /** Starts {@code pipeline} at the end of the ingest's durable bytes. */
  void into(PartPipeline pipeline) {
    if (lease.record().uploadId() != null) {
      recoverUpload();
    }
    restoreBytes(pipeline);
  }

  /**
   * Keeps what a crashed writer uploaded: the consecutive parts from 1 of its upload hold the
   * ingest's first bytes, so completing the upload with them makes them the ingest's data.
   */
  private void recoverUpload() {
    IngestRecord r = lease.record();
    List<CompletedPart> kept = new ArrayList<>();
    long size = 0;
    for (Part part : objects.uploads().listParts(r.uploadKey(), r.uploadId())) {
      if (part.partNumber() != kept.size() + 1) {
        break;
      }
      kept.add(S3Uploads.completed(part));
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
        objects.uploads().abortUpload(r.uploadKey(), r.uploadId());
        lease.update(x -> x.withUpload(null, null, x.generation()));
        return;
      }
      etag = completed.etag();
      recovered = completed.size();
    } else {
      etag = objects.uploads().complete(r.uploadKey(), r.uploadId(), kept);
    }
    long offset = recovered;
    lease.update(x -> x.withData(offset, store.now(), x.generation(), r.uploadKey(), etag));
    if (r.dataKey() != null && !r.dataKey().equals(r.uploadKey())) {
      objects.delete(r.dataKey());
    }
    store.pausedDigests.invalidate(ref);
  }

  /** Restores the running digest and the buffer or prefix of the bytes the record names. */
  private void restoreBytes(PartPipeline pipeline) {
    IngestRecord r = lease.record();
    long offset = r.offset();
    DigestAlgorithm algorithm = r.digestAlgorithm();
    if (offset == 0) {
      pipeline.start(RunningDigest.empty(ref, algorithm));
      return;
    }
    MessageDigest hasher = null;
    byte[] bytes = null;
    S3Store.PausedDigest paused = store.pausedDigests.getIfPresent(ref);
    if (paused != null && paused.dataEtag().equals(r.dataEtag()) && paused.offset() == offset
        && holds(r.dataKey(), offset)) {
      hasher = RunningDigest.copy(paused.hasher());
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
        read = BodyChecksums.drain(in, hasher, copy);
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
      // The buffer holds every byte, and is fed to the CRC32C whole.
      pipeline.resumeBuffered(RunningDigest.continued(ref, hasher, true), bytes);
    } else {
      pipeline.resumeFrom(RunningDigest.continued(ref, hasher, false), r.dataKey(), offset);
    }
  }

  /**
   * Whether the object at {@code key} holds exactly {@code offset} bytes: a cached digest is used
   * only for an object of the length it was computed over (INT-1).
   */
  private boolean holds(String key, long offset) {
    S3Objects.Head head = objects.head(key);
    return head != null && head.size() == offset;
  }
}
