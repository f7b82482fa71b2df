package dev.coffer.store.s3;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.spi.Checks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * A put of a file whose digest the caller knows: its bytes go straight to the digest key, with no
 * ingest and no copy (docs/architecture.md, "The protocol in steps", direct puts; PROTO-12).
 *
 * <p>The index record is read first: live content whose object is there is AlreadyExists, or one
 * more reference taken by {@code ref} (which only a live record takes), and the file is not read;
 * content deleted meanwhile is put as new content. A file below {@link S3Store#filePartsFrom()} is read
 * whole and put in one step (the small put's conditional PutObject). Otherwise a multipart upload
 * starts at the digest key, created on the store's workers while the file's first parts are read
 * and hashed; the file's parts go up in parallel once it is ({@code uploadConcurrency} buffers of
 * the file's {@link #partSize}, each part with the checksum mode's checksum) and the bytes sent
 * are hashed in order; the upload is completed, If-None-Match: *, only if they hash to the
 * expected digest, so no other bytes are ever published under it. A 412 there means another
 * host stored the content first. The index record is then published as a commit publishes it.
 *
 * <p>A refused create fails the put with its own error, whatever was read meanwhile; a failure
 * after the create was sent waits for its answer, to abort the upload it created. This put aborts
 * its upload only before it sent the completion, and only if the digest key holds no object then:
 * some servers (S3Mock) delete the key's object with an aborted upload. An upload left behind is
 * gc's, on the rule for multipart copies to blob keys. One instance serves one put, on one thread.
 */
final class DirectPut {
  private final S3Store store;
  private final S3Objects objects;
  private final Path file;
  private final Digest expected;
  private final Map<String, String> labels;
  private final boolean takeRef;
  private final LinkNew.Drawn drawn;
  private final String blobKey;
  /** The file's size when it was opened: what its part size follows. */
  private long sizeOpened;

  /**
   * @param labels validated labels, or null
   * @param drawn the operation of {@code linkNew} whose marked reference a record this put creates
   *     holds (PROTO-13), or null
   */
  DirectPut(S3Store store, Path file, Digest expected, Map<String, String> labels,
      boolean takeRef, LinkNew.Drawn drawn) {
    this.store = store;
    this.objects = store.objects;
    this.file = file;
    this.expected = expected;
    this.labels = BlobPublisher.kept(labels);
    this.takeRef = takeRef;
    this.drawn = drawn;
    this.blobKey = store.keys.blob(expected);
  }

  Info run() throws IOException {
    IndexRecord existing = store.records().record(expected);
    if (existing != null && existing.isLive() && objects.exists(blobKey)) {
      if (!takeRef) {
        store.marks.used(expected, existing); // pushing stored content again is a use
        throw new AlreadyExistsException("content " + expected + " already exists");
      }
      try {
        // One more reference to the live record only: were it published anew from the object
        // found here (a deref to zero meanwhile), this put would publish bytes it never checked.
        return store.references().ref(expected);
      } catch (NotFoundException e) {
        // Deleted since the lookup: the file's bytes are stored, checked, as for new content.
      }
    }
    long size;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      size = channel.size();
      sizeOpened = size;
      if (size < store.filePartsFrom()) {
        byte[] bytes = readSmall(channel, size);
        if (bytes != null) {
          Checks.put(bytes, expected, labels); // FailedPrecondition naming both digests
          return publisher(bytes.length).storeAndPublish(bytes, bytes.length);
        }
      }
    }
    Uploaded uploaded = upload();
    return publisher(uploaded.sent()).publishStored(this::uploadAgain, uploaded.created());
  }

  private BlobPublisher publisher(long size) {
    BlobPublisher publisher = new BlobPublisher(store, expected, size, labels, takeRef, () -> { });
    return drawn == null ? publisher : publisher.markedFor(drawn);
  }

  /** The whole file if it still ends below one part, else null (it grew: send it in parts). */
  private byte[] readSmall(FileChannel channel, long size) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate((int) size + 1); // one byte more tells it grew
    long position = 0;
    int n;
    while (buffer.hasRemaining() && (n = channel.read(buffer, position)) >= 0) {
      position += n;
    }
    return buffer.hasRemaining() ? Arrays.copyOf(buffer.array(), (int) position) : null;
  }

  /** The publisher's restore: the bytes again, under the same checks. */
  private void uploadAgain() {
    try {
      upload();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * The part size of a file of {@code size} bytes: its size spread over the {@code concurrency}
   * parts sent at once, rounded up to a whole MiB, and no less than S3's smallest part nor more
   * than the store's {@code partSize}. A file of a few parts then sends them all at once, in
   * parts of about equal size, instead of full parts and a short one after them (20 MiB with 16
   * MiB parts and 4 at once: four parts of 5 MiB, not 16 and 4); a larger file keeps {@code
   * partSize}, and so does the memory a put holds.
   */
  static long partSize(long size, long partSize, int concurrency) {
    long spread = (size + concurrency - 1) / concurrency;
    long mib = 1L << 20;
    long rounded = (spread + mib - 1) / mib * mib;
    return Math.max(S3StoreConfig.PART_SIZE_MIN, Math.min(partSize, rounded));
  }

  /**
   * What one upload did: the bytes sent, and when its CreateMultipartUpload was about to be sent
   * if its own completion created the object (null if the completion met an object there, or its
   * outcome was learnt only by looking).
   */
  private record Uploaded(long sent, BlobPublisher.Created created) {}

  /**
   * Sends the file to the digest key as one multipart upload, completed only if the bytes sent
   * hash to the expected digest. The upload is created in the background while the first parts
   * are read and hashed; each part goes once the upload's id is known.
   *
   * <p>The stamp this returns when the completion created the object is taken before the create
   * is sent, so the object's LastModified is not before it, whether S3 stamps a multipart object
   * with its upload's initiation or its completion: the young-object argument of a create-only
   * PutObject (PROTO-10) holds for it unchanged.
   *
   * @throws FailedPreconditionException if they do not (nothing is stored)
   */
  private Uploaded upload() throws IOException {
    S3Uploads uploads = objects.uploads();
    BlobPublisher.Created stamp = BlobPublisher.Created.sending(store);
    CompletableFuture<String> created = CompletableFuture.supplyAsync(
        () -> uploads.createUpload(blobKey, true), store.workers);
    boolean completing = false;
    Parts parts = new Parts(created, partSize(sizeOpened, store.config.partSize(),
        store.config.uploadConcurrency()));
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long sent = parts.sendAll(channel);
      String uploadId = parts.uploadId();
      Digest actual = Digest.fromHasher(expected.algorithm(), parts.digest.snapshot().digest());
      if (!actual.equals(expected)) {
        throw new FailedPreconditionException("unexpected put digest " + actual + ", expected "
            + expected + ": " + file + " changed while it was sent; nothing stored");
      }
      completing = true; // from here the upload is never aborted
      try {
        // null (412): another host stored the content first; its upload stays for gc.
        return new Uploaded(sent,
            uploads.completeIfAbsent(blobKey, uploadId, parts.done) != null ? stamp : null);
      } catch (NotFoundException e) {
        // A completion S3 applied whose answer was lost, retried into NoSuchUpload; or the
        // upload was aborted (gc took it for abandoned). Only checked bytes reach this key.
        S3Objects.Head head = objects.head(blobKey);
        if (head == null || head.size() != sent) {
          throw new UnavailableException("the upload of " + file + " to " + expected
              + " was removed before it completed; put it again", e);
        }
        return new Uploaded(sent, null); // an object is there; who created it is not known
      }
    } catch (IOException | RuntimeException | Error e) {
      parts.cancel();
      if (completing) {
        throw e;
      }
      // The create's outcome, waited for: a refused create is the put's failure, as it is
      // when nothing was read; a created upload is aborted.
      String uploadId = parts.uploadIdOrNull();
      if (uploadId == null) {
        StoreException refused = parts.createFailure();
        if (refused != e) {
          refused.addSuppressed(e);
        }
        throw refused;
      }
      if (e instanceof NotFoundException) {
        // A part met NoSuchUpload: gc took the upload for abandoned (older than a day).
        UnavailableException removed = new UnavailableException("the upload of " + file + " to "
            + expected + " was removed while it was sent; put it again", e);
        objects.abortUnlessStored(blobKey, uploadId, removed);
        throw removed;
      }
      objects.abortUnlessStored(blobKey, uploadId, e);
      throw e;
    }
  }

  /**
   * The parts of one upload: part-sized buffers sent and hashed in the background, in order, each
   * sent once the upload is created.
   */
  private final class Parts {
    private final CompletableFuture<String> created;
    private final PartBuffers buffers;
    private final List<CompletableFuture<CompletedPart>> inFlight = new ArrayList<>();
    final RunningDigest digest = RunningDigest.empty(expected.toString(), expected.algorithm());
    final List<CompletedPart> done = new ArrayList<>();

    Parts(CompletableFuture<String> created, long partSize) {
      this.created = created;
      this.buffers = new PartBuffers((int) partSize, store.config.uploadConcurrency());
    }

    /** Reads the file to its end, sending each part; returns the bytes sent once all are up. */
    long sendAll(FileChannel channel) throws IOException {
      long position = 0;
      int number = 0;
      while (true) {
        byte[] buffer = buffers.take("putting " + file);
        failFast(); // a refused create or a failed part ends the reading
        int filled = 0;
        int n = 0;
        while (filled < buffer.length
            && (n = channel.read(ByteBuffer.wrap(buffer, filled, buffer.length - filled),
                position + filled)) >= 0) {
          filled += n;
        }
        if (filled == 0 && number > 0) {
          buffers.giveBack(buffer);
          break;
        }
        send(++number, buffer, filled);
        position += filled;
        if (n < 0) {
          break;
        }
      }
      for (CompletableFuture<CompletedPart> part : inFlight) {
        done.add(S3Errors.join(part, "uploading part of " + file + " to " + expected));
      }
      return position;
    }

    /** Sends the part and hashes its bytes, both in the background; frees the buffer after. */
    private void send(int number, byte[] buffer, int length) {
      CompletableFuture<Void> hashing = digest.partLater(buffer, 0, length, store.workers);
      CompletableFuture<CompletedPart> part = created.thenComposeAsync(uploadId -> objects
          .uploads().uploadPart(blobKey, uploadId, number, buffer, length, true), store.workers);
      buffers.giveBackAfter(buffer, part, hashing);
      inFlight.add(part);
      failFast();
    }

    /** Throws the create's failure, or else the first failure of a part, if there is one. */
    private void failFast() {
      if (created.isCompletedExceptionally()) {
        throw createFailure();
      }
      PartBuffers.failFast(inFlight, "uploading part of " + file + " to " + expected);
    }

    /** The upload's id, once created (every part waited for it). */
    String uploadId() {
      return S3Errors.join(created, "starting the upload of " + file + " to " + expected);
    }

    /** The upload's id once the create has answered (waited for), or null if it failed. */
    String uploadIdOrNull() {
      return created.handle((id, failure) -> id).join();
    }

    /** The create's failure as the store's exception (as the create threw it); it failed. */
    StoreException createFailure() {
      return S3Errors.translate("starting the upload of " + file + " to " + expected,
          created.handle((id, failure) -> failure).join());
    }

    void cancel() {
      inFlight.forEach(p -> p.cancel(true));
    }
  }
}
