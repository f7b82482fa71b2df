package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.ReaderAt;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Positional reads of one blob with ranged GETs. A read that continues the previous one, or one of
 * at least a chunk, goes through aligned chunks fetched ahead in parallel (up to
 * {@code readConcurrency} chunks, which bounds the memory); other small reads are one ranged GET.
 * Thread-safe: the read-ahead window is guarded by a lock, direct reads need none.
 */
final class S3Reader implements ReaderAt {
  private final S3Objects objects;
  private final Digest digest;
  private final String key;
  private final long size;
  private final long chunkSize;
  private final int window;

  private final Object lock = new Object();
  private final TreeMap<Long, CompletableFuture<byte[]>> chunks = new TreeMap<>();
  private long nextSequential;
  private volatile boolean closed;

  S3Reader(S3Store store, Digest digest, String key, long size) {
    this.objects = store.objects;
    this.digest = digest;
    this.key = key;
    this.size = size;
    this.chunkSize = store.config.readChunkSize();
    this.window = store.config.readConcurrency();
  }

  @Override
  public int read(ByteBuffer dst, long position) {
    if (closed) {
      throw new FailedPreconditionException("reader of " + digest + " is closed");
    }
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
      if (position == nextSequential || count >= chunkSize) {
        readChunks(dst, position, count);
        nextSequential = position + count;
        return count;
      }
    }
    byte[] bytes = S3Objects.join(objects.getRange(key, position, position + count - 1),
        "reading " + digest);
    dst.put(bytes, 0, count);
    return count;
  }

  /** Copies {@code count} bytes from {@code position} out of read-ahead chunks. Holds the lock. */
  private void readChunks(ByteBuffer dst, long position, int count) {
    long first = position / chunkSize;
    chunks.headMap(first).values().forEach(f -> f.cancel(true));
    chunks.headMap(first).clear();
    long lastChunk = (size - 1) / chunkSize;
    long end = position + count;
    long at = position;
    while (at < end) {
      long index = at / chunkSize;
      for (long c = index; c < index + window && c <= lastChunk; c++) {
        chunks.computeIfAbsent(c, this::fetch);
      }
      byte[] chunk = S3Objects.join(chunks.get(index), "reading " + digest);
      int from = (int) (at - index * chunkSize);
      int take = (int) Math.min(end - at, chunk.length - from);
      dst.put(chunk, from, take);
      at += take;
      if (from + take == chunk.length) {
        chunks.remove(index);
      }
    }
  }

  private CompletableFuture<byte[]> fetch(long index) {
    long first = index * chunkSize;
    long last = Math.min(size, first + chunkSize) - 1;
    return objects.getRange(key, first, last);
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public void close() {
    closed = true;
    synchronized (lock) {
      for (Map.Entry<Long, CompletableFuture<byte[]>> e : chunks.entrySet()) {
        e.getValue().cancel(true);
      }
      chunks.clear();
    }
  }
}
