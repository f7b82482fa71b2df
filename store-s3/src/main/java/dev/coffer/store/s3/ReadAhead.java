package dev.coffer.store.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An input stream that drains another one on a thread of its own, ahead of its reader: the source
 * (a GET's response) is read into at most {@code depth} buffers of {@code chunk} bytes while the
 * reader consumes earlier ones, so that what the reader does with the bytes (hash them, write
 * them) overlaps the network transfer instead of following it.
 *
 * <p>Contract: the bytes read are exactly the source's, in order; the source's end is this
 * stream's end. A failure of the source (IOException or a RuntimeException such as the SDK's) is
 * thrown, as it was raised, by the read that reaches the bytes after the last good ones; every
 * later read throws it again. Memory is bounded by {@code depth * chunk}, allocated as needed.
 *
 * <p>One reader thread at a time. {@link #close()} stops the draining thread: if it has not
 * reached the source's end, {@code abort} is run (it must make a blocked read of the source fail,
 * as {@code ResponseInputStream.abort} does) and the thread is interrupted; close returns once the
 * thread has ended. Close neither closes the source nor reads the rest of it.
 */
final class ReadAhead extends InputStream {
  /** How long close waits for the draining thread after aborting its source. */
  private static final long STOP_WAIT_MS = 10_000;

  /** A drained buffer, the source's end ({@code length < 0}), or its failure. */
  private record Chunk(byte[] bytes, int length, Throwable failure) {}

  private static final Chunk END = new Chunk(null, -1, null);

  private final InputStream source;
  private final Runnable abort;
  private final int chunk;
  private final BlockingQueue<Chunk> full;
  private final BlockingQueue<byte[]> free;
  private final Thread drainer;
  private int allocated;
  private final int depth;

  private Chunk current;
  private int offset;
  /** Set once the reader has met the end or a failure: every later read repeats it. */
  private Chunk last;
  private volatile boolean stopping;
  private volatile boolean drained;

  ReadAhead(InputStream source, Runnable abort, int chunk, int depth, String name) {
    if (chunk <= 0 || depth <= 0) {
      throw new IllegalArgumentException("chunk and depth must be positive");
    }
    this.source = source;
    this.abort = abort;
    this.chunk = chunk;
    this.depth = depth;
    // The end or a failure needs a slot beside the buffers.
    this.full = new ArrayBlockingQueue<>(depth + 1);
    this.free = new ArrayBlockingQueue<>(depth);
    this.drainer = new Thread(this::drain, name);
    drainer.setDaemon(true);
    drainer.start();
  }

  /** The draining thread's loop: fill a buffer, hand it over, until the end or a failure. */
  private void drain() {
    try {
      while (!stopping) {
        byte[] bytes = nextFree();
        int n = fill(bytes);
        if (n > 0) {
          full.put(new Chunk(bytes, n, null));
        }
        if (n < bytes.length) {
          drained = true;
          full.put(END);
          return;
        }
      }
    } catch (InterruptedException e) {
      // Stopped by close: nobody reads what would follow.
    } catch (IOException | RuntimeException | Error e) {
      if (!stopping) {
        full.offer(new Chunk(null, 0, e));
      }
    }
  }

  private byte[] nextFree() throws InterruptedException {
    byte[] bytes = free.poll();
    if (bytes != null) {
      return bytes;
    }
    if (allocated < depth) {
      allocated++;
      return new byte[chunk];
    }
    return free.take();
  }

  /** Reads from the source until {@code bytes} is full or the source ends; the count read. */
  private int fill(byte[] bytes) throws IOException {
    int n = 0;
    while (n < bytes.length) {
      int r = source.read(bytes, n, bytes.length - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return n;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (current == null || offset == current.length()) {
      if (!advance()) {
        return -1;
      }
    }
    int n = Math.min(len, current.length() - offset);
    System.arraycopy(current.bytes(), offset, b, off, n);
    offset += n;
    return n;
  }

  /** Recycles the current buffer and takes the next; false at the end; throws a failure. */
  private boolean advance() throws IOException {
    if (current != null) {
      free.offer(current.bytes());
      current = null;
    }
    Chunk next = last;
    if (next == null) {
      try {
        next = full.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for the response's bytes");
      }
    }
    if (next.length() < 0) {
      last = next;
      return false;
    }
    if (next.failure() != null) {
      last = next;
      Throwable failure = next.failure();
      if (failure instanceof IOException io) {
        throw io;
      }
      if (failure instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw (Error) failure;
    }
    current = next;
    offset = 0;
    return true;
  }

  /** Whether the draining thread has ended; for tests. */
  boolean stopped() {
    return !drainer.isAlive();
  }

  @Override
  public void close() {
    if (!drainer.isAlive()) {
      return;
    }
    stopping = true;
    if (!drained) {
      abort.run();
    }
    drainer.interrupt();
    boolean interrupted = false;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MS);
    while (drainer.isAlive() && System.nanoTime() < deadline) {
      try {
        drainer.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
