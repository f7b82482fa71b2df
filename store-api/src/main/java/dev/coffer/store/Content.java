package dev.coffer.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Helpers over the store's roles, with the behaviour of containerd's {@code content} helpers. */
public final class Content {

  static final int BUFFER_SIZE = 1 << 20;
  static final long FIRST_BACKOFF_MILLIS = 16;
  static final long MAX_BACKOFF_MILLIS = 2048;

  private Content() {}

  /**
   * Opens a writer, retrying while the ref is locked ({@link UnavailableException}) with jittered
   * backoff from 16 ms doubling to 2048 ms, until {@code timeout} has passed.
   *
   * @throws UnavailableException if the ref is still locked when the timeout passes
   * @throws AlreadyExistsException if the descriptor's digest is already committed
   * @throws InvalidArgumentException if the ref is not valid
   * @throws AbortedException if the thread is interrupted while waiting (the interrupt is restored)
   */
  public static Writer openWriter(Ingester ingester, String ref, Descriptor descriptor,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long backoff = FIRST_BACKOFF_MILLIS;
    while (true) {
      try {
        return ingester.writer(ref, descriptor);
      } catch (UnavailableException e) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          throw e;
        }
        long sleep = Math.min(ThreadLocalRandom.current().nextLong(backoff / 2, backoff + 1),
            Duration.ofNanos(remaining).toMillis() + 1);
        try {
          Thread.sleep(sleep);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          AbortedException aborted =
              new AbortedException("interrupted while waiting for ref \"" + ref + "\"", ie);
          aborted.addSuppressed(e);
          throw aborted;
        }
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
      }
    }
  }

  /**
   * Writes {@code source} to the store under {@code ref} and commits it with {@code labels}. If the
   * descriptor's digest is already stored, returns at once without reading the source. Waits up to
   * one minute for a locked ref.
   *
   * @throws FailedPreconditionException if the bytes do not match the descriptor
   */
  public static void writeBlob(Ingester ingester, String ref, InputStream source,
      Descriptor descriptor, Map<String, String> labels) {
    Writer writer;
    try {
      writer = openWriter(ingester, ref, descriptor, Duration.ofMinutes(1));
    } catch (AlreadyExistsException e) {
      return;
    }
    try (writer) {
      copy(writer, source, descriptor.size(), descriptor.digest(), labels);
    }
  }

  /**
   * Copies {@code source} into {@code writer} and commits with {@code size}, {@code expected} and
   * {@code labels}. A resumed writer's bytes are not written again: the source is skipped to
   * {@code writer.status().offset()}. AlreadyExists from the commit counts as success.
   *
   * @throws FailedPreconditionException if the source is shorter than the offset to resume from, or
   *     the bytes do not match {@code size} or {@code expected}
   * @throws UncheckedIOException if reading the source fails
   */
  public static void copy(Writer writer, InputStream source, long size, Digest expected,
      Map<String, String> labels) {
    long offset = writer.status().offset();
    try {
      long skipped = skip(source, offset);
      if (skipped < offset) {
        throw shortSource(writer, offset, skipped);
      }
      byte[] buffer = new byte[BUFFER_SIZE];
      int n;
      while ((n = source.read(buffer)) >= 0) {
        writer.write(buffer, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading the source of ref \"" + refOf(writer) + "\"", e);
    }
    commit(writer, size, expected, labels);
  }

  /**
   * Copies a seekable source into {@code writer}, positioning it at the writer's offset first, then
   * commits; see {@link #copy(Writer, InputStream, long, Digest, Map)}.
   */
  public static void copy(Writer writer, SeekableByteChannel source, long size, Digest expected,
      Map<String, String> labels) {
    long offset = writer.status().offset();
    try {
      if (offset > source.size()) {
        throw shortSource(writer, offset, source.size());
      }
      source.position(offset);
      ByteBuffer buffer = ByteBuffer.allocate(BUFFER_SIZE);
      while (source.read(buffer) >= 0) {
        buffer.flip();
        writer.write(buffer);
        buffer.clear();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading the source of ref \"" + refOf(writer) + "\"", e);
    }
    commit(writer, size, expected, labels);
  }

  /**
   * Copies a random-access source into {@code writer} from the writer's offset, then commits; see
   * {@link #copy(Writer, InputStream, long, Digest, Map)}.
   */
  public static void copy(Writer writer, ReaderAt source, long size, Digest expected,
      Map<String, String> labels) {
    long offset = writer.status().offset();
    if (offset > source.size()) {
      throw shortSource(writer, offset, source.size());
    }
    ByteBuffer buffer = ByteBuffer.allocate(BUFFER_SIZE);
    long position = offset;
    int n;
    while ((n = source.read(buffer, position)) > 0) {
      buffer.flip();
      writer.write(buffer);
      buffer.clear();
      position += n;
    }
    commit(writer, size, expected, labels);
  }

  /**
   * Reads a whole blob into memory and verifies it against its digest (INT-2 of
   * docs/architecture.md). Meant for small blobs such as manifests, not layers.
   *
   * @throws NotFoundException if the blob does not exist
   * @throws FailedPreconditionException if the blob is larger than 2 GiB
   * @throws DataLossException if the bytes read do not hash to the digest, or end early
   */
  public static byte[] readBlob(Provider provider, Descriptor descriptor) {
    try (ReaderAt reader = provider.readerAt(descriptor)) {
      long size = reader.size();
      if (size > Integer.MAX_VALUE - 8) {
        throw new FailedPreconditionException(
            "blob " + descriptor.digest() + " is too large to read into memory: " + size + " bytes");
      }
      byte[] bytes = new byte[(int) size];
      int done = 0;
      while (done < bytes.length) {
        int n = reader.read(bytes, done, bytes.length - done, done);
        if (n < 0) {
          throw DataLossException.lengthMismatch(descriptor.digest(), size, done);
        }
        done += n;
      }
      Digest digest = descriptor.requireDigest();
      Digest actual = Digest.of(digest.algorithm(), bytes);
      if (!actual.equals(digest)) {
        throw DataLossException.digestMismatch(digest, actual);
      }
      return bytes;
    }
  }

  private static void commit(Writer writer, long size, Digest expected,
      Map<String, String> labels) {
    try {
      writer.commit(size, expected, labels);
    } catch (AlreadyExistsException e) {
      // Content-addressed: the same bytes are already stored, which is what the caller wanted.
    }
  }

  /** Skips up to {@code count} bytes of {@code source}; returns how many it skipped. */
  private static long skip(InputStream source, long count) throws IOException {
    long skipped = 0;
    while (skipped < count) {
      long n = source.skip(count - skipped);
      if (n <= 0) {
        // skip may return 0 before the end; a read tells the end apart.
        if (source.read() < 0) {
          break;
        }
        n = 1;
      }
      skipped += n;
    }
    return skipped;
  }

  private static FailedPreconditionException shortSource(Writer writer, long offset,
      long available) {
    return new FailedPreconditionException("source of ref \"" + refOf(writer) + "\" has "
        + available + " bytes, fewer than the " + offset + " bytes already written");
  }

  private static String refOf(Writer writer) {
    try {
      return writer.status().ref();
    } catch (StoreException e) {
      return "?";
    }
  }
}
