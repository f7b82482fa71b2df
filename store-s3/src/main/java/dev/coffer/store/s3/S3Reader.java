package dev.coffer.store.s3;

import dev.coffer.store.DataLossException;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * Positional reads of one blob. Three kinds of read, chosen by where a read starts and its size:
 *
 * <ul>
 *   <li>A read that continues the previous one (the first read at 0 included) takes its bytes
 *       from one GET streaming from there to the end of the blob, straight into the caller's
 *       buffer; the stream stays open for the next such read. This is a plain GET for a read from
 *       the start. A GET of at least {@link #READ_AHEAD_MIN} bytes is drained by a thread of its
 *       own ({@link ReadAhead}, four 1 MiB buffers at most) while the caller hashes and uses the
 *       bytes already received, so the hash of a whole read costs no time beyond the transfer's
 *       when the caller keeps up; a shorter one is read straight into the caller's buffer.
 *   <li>Any other read of at least {@code readChunkSize} is split into aligned-size pieces
 *       fetched in parallel ({@code readConcurrency} at a time, each into an array of its own,
 *       which bounds the memory) and copied in order.
 *   <li>Any other read is one ranged GET into the caller's buffer.
 * </ul>
 *
 * <p>Reads that run in order from byte 0 to the end (the sequential GET only) are verified
 * (INT-2 of docs/architecture.md): their bytes are hashed as they pass, and the read that reaches
 * the end fails with {@link DataLossException} if they do not hash to the digest; a GET whose
 * length differs from what the record promises fails at once. Any other read (a jump, a split or
 * ranged read) ends the verification of that pass; such reads cannot be verified by themselves.
 * {@link #verifiedInOrderRead()} reports a pass that was checked, so that its caller (say
 * {@code coffer get --no-cache}) does not hash the same bytes a second time.
 *
 * <p>Thread-safe: streamed and split reads hold a lock, single ranged GETs need none. Closing
 * waits for a streamed or split read in progress on another thread, then drops the stream's
 * connection; a split read cancels its pieces still in flight when it fails, and the array of such
 * a piece is never reused, since its fetch may still be writing into it.
 */
final class S3Reader implements ReaderAt {
  /** The least length of a sequential GET that is drained ahead of the reader. */
  static final long READ_AHEAD_MIN = 4L << 20;
  private static final int READ_AHEAD_CHUNK = 1 << 20;
  private static final int READ_AHEAD_DEPTH = 4;

  private final S3Objects objects;
  private final Executor fetchers;
  private final Digest digest;
  private final String key;
  private final long size;
  private final long chunkSize;
  private final int window;

  private final Object lock = new Object();
  /** The open sequential GET and the blob position of its next byte; guarded by the lock. */
  private ResponseInputStream<GetObjectResponse> stream;
  /** What the stream's bytes are read from: the stream, or a ReadAhead draining it. */
  private InputStream source;
  private long streamPosition;
  private long nextSequential;
  /** The hash of bytes {@code [0, verifiedTo)}, read in order; null when not verifying. */
  private MessageDigest verifier;
  private long verifiedTo;
  /** Whether one pass in order from 0 to the end hashed to the digest. */
  private volatile boolean verifiedPass;
  private volatile boolean closed;

  S3Reader(S3Store store, Digest digest, String key, long size) {
    this.objects = store.objects;
    this.fetchers = store.workers;
    this.digest = digest;
    this.key = key;
    this.size = size;
    this.chunkSize = store.config.readChunkSize();
    this.window = store.config.readConcurrency();
  }

  @Override
  public int read(ByteBuffer dst, long position) {
    checkOpen();
    if (position < 0) {
      throw new InvalidArgumentException("invalid read position " + position + " in " + digest);
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (position >= size) {
      return -1;
    }
    int count = (int) Math.min(dst.remaining(), size - position);
    synchronized (lock) {
      checkOpen();
      if (position == nextSequential) {
        readStream(dst, position, count);
        nextSequential = position + count;
        return count;
      }
      if (count >= chunkSize) {
        readPieces(dst, position, count);
        nextSequential = position + count;
        return count;
      }
    }
    if (dst.hasArray()) {
      objects.getRange(key, position, position + count - 1, dst.array(),
          dst.arrayOffset() + dst.position(), () -> false);
      dst.position(dst.position() + count);
    } else {
      byte[] bytes = new byte[count];
      objects.getRange(key, position, position + count - 1, bytes, 0, () -> false);
      dst.put(bytes);
    }
    return count;
  }

  private void checkOpen() {
    if (closed) {
      throw new FailedPreconditionException("reader of " + digest + " is closed");
    }
  }

  /** Reads {@code count} bytes at {@code position} from the sequential GET. Holds the lock. */
  private void readStream(ByteBuffer dst, long position, int count) {
    if (stream != null && streamPosition != position) {
      dropStream();
    }
    boolean fresh = stream == null;
    if (fresh) {
      open(position);
      Long length = stream.response().contentLength();
      if (length != null && length != size - position) {
        dropStream();
        throw DataLossException.lengthMismatch(digest, size, position + length);
      }
    }
    if (position == 0) {
      verifier = digest.algorithm().newHasher();
      verifiedTo = 0;
    } else if (verifiedTo != position) {
      verifier = null;
    }
    int start = dst.position();
    try {
      transfer(dst, count);
    } catch (StoreException e) {
      dropStream();
      if (fresh) {
        dst.position(start);
        throw e;
      }
      // An idle connection the server or a proxy has closed meanwhile: one fresh GET from here.
      try {
        open(streamPosition);
        transfer(dst, count - (int) (streamPosition - position));
      } catch (StoreException again) {
        dropStream();
        dst.position(start);
        again.addSuppressed(e);
        throw again;
      }
    }
    verify(dst, start, count);
    if (streamPosition == size) {
      // Every byte read: closing returns the connection to the pool.
      closeSource();
      try {
        stream.close();
      } catch (IOException ignored) {
        // The response was read to its end; nothing is lost.
      }
      stream = null;
    }
  }

  /**
   * Opens the sequential GET from {@code position} to the end. A response of at least
   * {@link #READ_AHEAD_MIN} bytes is drained by a {@link ReadAhead} thread, so that the bytes
   * arrive while the caller hashes (see {@link #verify}) and uses the earlier ones. Holds the lock.
   */
  private void open(long position) {
    stream = objects.stream(key, position);
    streamPosition = position;
    ResponseInputStream<GetObjectResponse> response = stream;
    source = size - position >= READ_AHEAD_MIN
        ? new ReadAhead(response, response::abort, READ_AHEAD_CHUNK, READ_AHEAD_DEPTH,
            "coffer-read-ahead")
        : response;
  }

  /** Stops the read-ahead thread, if any; the stream stays open. Holds the lock. */
  private void closeSource() {
    if (source instanceof ReadAhead ahead) {
      ahead.close();
    }
    source = null;
  }

  /**
   * Hashes the {@code count} bytes just read into {@code dst} from {@code start}; at the blob's
   * end, checks the digest. Holds the lock.
   */
  private void verify(ByteBuffer dst, int start, int count) {
    if (verifier == null) {
      return;
    }
    ByteBuffer read = dst.duplicate();
    read.position(start).limit(start + count);
    verifier.update(read);
    verifiedTo += count;
    if (verifiedTo == size) {
      Digest actual = Digest.fromHasher(digest.algorithm(), verifier.digest());
      verifier = null;
      if (!actual.equals(digest)) {
        throw DataLossException.digestMismatch(digest, actual);
      }
      verifiedPass = true;
    }
  }

  /** Copies {@code count} bytes from the stream into {@code dst}, advancing the position. */
  private void transfer(ByteBuffer dst, int count) {
    try {
      if (dst.hasArray()) {
        int end = dst.position() + count;
        while (dst.position() < end) {
          int n = source.read(dst.array(), dst.arrayOffset() + dst.position(),
              end - dst.position());
          if (n < 0) {
            throw shortRead();
          }
          dst.position(dst.position() + n);
          streamPosition += n;
        }
      } else {
        byte[] piece = new byte[Math.min(count, 64 * 1024)];
        for (int left = count; left > 0; ) {
          int n = source.read(piece, 0, Math.min(left, piece.length));
          if (n < 0) {
            throw shortRead();
          }
          dst.put(piece, 0, n);
          streamPosition += n;
          left -= n;
        }
      }
    } catch (IOException | SdkException e) {
      throw S3Errors.translate("reading " + digest, e);
    }
  }

  private DataLossException shortRead() {
    return DataLossException.lengthMismatch(digest, size, streamPosition);
  }

  /** Drops the sequential GET without reading the rest of it. Holds the lock. */
  private void dropStream() {
    closeSource();
    if (stream != null) {
      stream.abort();
      try {
        stream.close();
      } catch (IOException ignored) {
        // Aborted: the connection is discarded either way.
      }
      stream = null;
    }
  }

  /**
   * Reads {@code count} bytes at {@code position} as chunk-sized pieces, {@code window} of them
   * in flight, each received into its own array. Holds the lock.
   */
  private void readPieces(ByteBuffer dst, long position, int count) {
    long end = position + count;
    ArrayDeque<Piece> inFlight = new ArrayDeque<>();
    ArrayDeque<byte[]> spare = new ArrayDeque<>();
    long next = position;
    int start = dst.position();
    try {
      while (next < end || !inFlight.isEmpty()) {
        while (inFlight.size() < window && next < end) {
          int length = (int) Math.min(chunkSize, end - next);
          byte[] bytes = spare.isEmpty() ? new byte[(int) Math.min(chunkSize, count)]
              : spare.pop();
          inFlight.add(start(new Piece(next, length, bytes)));
          next += length;
        }
        Piece piece = inFlight.peek();
        S3Errors.join(piece.done, "reading " + digest);
        inFlight.remove();
        dst.put(piece.bytes, 0, piece.length);
        // Its fetch has ended, so the array can take the next piece.
        spare.push(piece.bytes);
      }
    } catch (RuntimeException e) {
      dst.position(start);
      throw e;
    } finally {
      // After a failure: the arrays of pieces still in flight are dropped, never reused.
      inFlight.forEach(Piece::cancel);
    }
  }

  private Piece start(Piece piece) {
    try {
      fetchers.execute(piece);
    } catch (RejectedExecutionException e) {
      piece.done.completeExceptionally(
          new FailedPreconditionException("the store of the reader of " + digest + " is closed"));
    }
    return piece;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public boolean verifiesInOrderReads() {
    return true;
  }

  @Override
  public boolean verifiedInOrderRead() {
    return verifiedPass;
  }

  @Override
  public void close() {
    closed = true;
    synchronized (lock) {
      dropStream();
    }
  }

  /** One piece of a split read: its fetch writes {@code bytes[0, length)}, then completes done. */
  private final class Piece implements Runnable {
    final long first;
    final int length;
    final byte[] bytes;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile boolean cancelled;

    Piece(long first, int length, byte[] bytes) {
      this.first = first;
      this.length = length;
      this.bytes = bytes;
    }

    @Override
    public void run() {
      try {
        if (!cancelled) {
          objects.getRange(key, first, first + length - 1, bytes, 0, () -> cancelled);
        }
        done.complete(null);
      } catch (RuntimeException | Error e) {
        done.completeExceptionally(e);
      }
    }

    /** Stops the fetch at its next network read; nobody waits for it any more. */
    void cancel() {
      cancelled = true;
      done.cancel(false);
    }
  }
}
