package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.StoreException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The read-ahead pipeline of the S3 reader's sequential GET: the bytes exactly, a failure of the
 * source mid-way surfaces at the reader (and again at every later read), and its thread ends
 * whatever way the read ends: at the end, on a failure, or closed mid-way with its source blocked
 * or its buffers full.
 */
class ReadAheadTest extends SimStoreTestBase {
  private static final int CHUNK = 1000;

  /** A source that serves {@code bytes} a few at a time, then fails or ends. */
  private static InputStream trickling(byte[] bytes, IOException failure) {
    return new InputStream() {
      private int position;

      @Override
      public int read() {
        throw new UnsupportedOperationException();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (position == bytes.length) {
          if (failure != null) {
            throw failure;
          }
          return -1;
        }
        int n = Math.min(Math.min(len, 37), bytes.length - position);
        System.arraycopy(bytes, position, b, off, n);
        position += n;
        return n;
      }
    };
  }

  private static byte[] drain(InputStream in, int step) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[step];
    for (int n; (n = in.read(buffer, 0, step)) >= 0; ) {
      out.write(buffer, 0, n);
    }
    return out.toByteArray();
  }

  @Test
  void servesTheSourcesBytesInOrderThenItsEnd() throws Exception {
    byte[] content = random(10 * CHUNK + 123, 1);
    for (int step : new int[] {1, 333, CHUNK, 5 * CHUNK}) {
      ReadAhead ahead = new ReadAhead(trickling(content, null), () -> { }, CHUNK, 3, "t");
      assertThat(drain(ahead, step)).isEqualTo(content);
      assertThat(ahead.read(new byte[1], 0, 1)).isEqualTo(-1);
      ahead.close();
      assertThat(ahead.stopped()).isTrue();
    }
    ReadAhead empty = new ReadAhead(new ByteArrayInputStream(new byte[0]), () -> { }, CHUNK, 2,
        "t");
    assertThat(empty.read(new byte[8], 0, 8)).isEqualTo(-1);
    empty.close();
  }

  @Test
  void aFailureMidStreamSurfacesAfterTheGoodBytesAndAgainOnEveryLaterRead() throws Exception {
    byte[] content = random(4 * CHUNK + 500, 2);
    IOException reset = new IOException("connection reset");
    ReadAhead ahead = new ReadAhead(trickling(content, reset), () -> { }, CHUNK, 2, "t");
    byte[] buffer = new byte[content.length + 700];
    int read = 0;
    IOException thrown = null;
    try {
      for (int n; (n = ahead.read(buffer, read, 700)) >= 0; ) {
        read += n;
      }
    } catch (IOException e) {
      thrown = e;
    }
    assertThat(thrown).isSameAs(reset);
    // Whole buffers before the failure reach the reader; the bytes of the one it broke do not.
    assertThat(read).isEqualTo(4 * CHUNK);
    assertThat(Arrays.copyOf(buffer, read)).isEqualTo(Arrays.copyOf(content, read));
    assertThatThrownBy(() -> ahead.read(buffer, 0, 1)).isSameAs(reset);
    ahead.close();
    assertThat(ahead.stopped()).isTrue();

    RuntimeException sdk = new IllegalStateException("SDK failure");
    ReadAhead failing = new ReadAhead(new InputStream() {
      @Override
      public int read() {
        throw sdk;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        throw sdk;
      }
    }, () -> { }, CHUNK, 2, "t");
    assertThatThrownBy(() -> failing.read(buffer, 0, 10)).isSameAs(sdk);
    failing.close();
    assertThat(failing.stopped()).isTrue();
  }

  @Test
  void closeAbortsASourceBlockedMidResponseAndEndsTheThread() throws Exception {
    CountDownLatch aborted = new CountDownLatch(1);
    AtomicInteger reads = new AtomicInteger();
    InputStream blocking = new InputStream() {
      @Override
      public int read() {
        throw new UnsupportedOperationException();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (reads.getAndIncrement() == 0) {
          Arrays.fill(b, off, off + len, (byte) 7);
          return len;
        }
        // A response whose server stopped sending: only an abort ends the wait.
        try {
          aborted.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IOException("aborted");
      }
    };
    ReadAhead ahead = new ReadAhead(blocking, aborted::countDown, CHUNK, 2, "t");
    byte[] first = new byte[CHUNK];
    assertThat(ahead.read(first, 0, CHUNK)).isEqualTo(CHUNK);
    ahead.close();
    assertThat(aborted.getCount()).isZero();
    assertThat(ahead.stopped()).isTrue();
  }

  @Test
  void closeEndsTheThreadWaitingForAFreeBuffer() throws Exception {
    byte[] content = random(20 * CHUNK, 3);
    CountDownLatch aborted = new CountDownLatch(1);
    ReadAhead ahead = new ReadAhead(trickling(content, null), aborted::countDown, CHUNK, 2, "t");
    assertThat(ahead.read(new byte[10], 0, 10)).isEqualTo(10);
    // The reader stops; the thread fills its two buffers and waits for one to come back.
    ahead.close();
    assertThat(ahead.stopped()).isTrue();
    assertThat(aborted.await(0, TimeUnit.SECONDS)).isTrue();
  }

  /** Live read-ahead threads of the S3 reader. */
  private static long readAheadThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("coffer-read-ahead") && t.isAlive()).count();
  }

  @Test
  void theS3ReadersThreadEndsAtTheEndOfAWholeReadAndWhenClosedMidWay() throws Exception {
    var store = open("h");
    byte[] content = random(12 * MIB + 3, 4);
    Digest digest = Digest.of(content);
    store.put(content, digest, null);
    long before = readAheadThreads();

    try (ReaderAt reader = store.readerAt(Descriptor.of(digest, content.length))) {
      ByteBuffer all = ByteBuffer.allocate(content.length);
      while (all.hasRemaining()) {
        reader.read(all, all.position());
      }
      assertThat(all.array()).isEqualTo(content);
      assertThat(reader.verifiedInOrderRead()).isTrue();
      assertThat(readAheadThreads()).isEqualTo(before);
    }

    ReaderAt reader = store.readerAt(Descriptor.of(digest, content.length));
    ByteBuffer some = ByteBuffer.allocate(MIB);
    assertThat(reader.read(some, 0)).isEqualTo(MIB);
    assertThat(readAheadThreads()).isEqualTo(before + 1);
    reader.close();
    assertThat(readAheadThreads()).isEqualTo(before);
    assertThatThrownBy(() -> reader.read(some.clear(), MIB)).isInstanceOf(StoreException.class);
  }
}
