package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The S3 store's reader against S3Mock: the bytes of sequential, jumping, split and concurrent
 * reads with buffer sizes that do not divide the chunk size, the GETs a sequential read costs,
 * and close.
 */
class S3ReaderIT {
  private static final int KIB = 1 << 10;
  private static final int CHUNK = 64 * KIB;
  private static final int SIZE = 3 * (1 << 20) + 5;

  private final RequestCounter counter = new RequestCounter();
  private final byte[] bytes = new byte[SIZE];
  private S3StoreConfig config;
  private ContentStore store;
  private Digest digest;

  @BeforeEach
  void setUp() {
    new Random(7).nextBytes(bytes);
    S3Mock s3 = S3Mock.get();
    config = s3.config(s3.newBucket(), S3Mock.newPrefix()).readChunkSize(CHUNK)
        .readConcurrency(3).build();
    store = S3Stores.builder().config(config).client(s3.client(counter))
        .bulkClient(s3.asyncClient(counter)).build();
    digest = Digest.of(bytes);
    Content.writeBlob(store, "blob", new ByteArrayInputStream(bytes),
        Descriptor.of(digest, bytes.length), Map.of());
  }

  @AfterEach
  void tearDown() {
    store.close();
  }

  private byte[] expected(long position, int length) {
    return Arrays.copyOfRange(bytes, (int) position, (int) position + length);
  }

  private static byte[] drain(ByteBuffer buffer) {
    buffer.flip();
    byte[] out = new byte[buffer.remaining()];
    buffer.get(out);
    return out;
  }

  @Test
  void sequentialReadWithOddBuffersIsOneGetAndExactBytes() {
    int[] sizes = {1, 7, CHUNK - 1, CHUNK + 1, 100_003, 3};
    try (ReaderAt reader = store.readerAt(digest)) {
      counter.take();
      long position = 0;
      for (int i = 0; position < SIZE; i++) {
        int want = sizes[i % sizes.length];
        ByteBuffer buffer = i % 2 == 0 ? ByteBuffer.allocate(want)
            : ByteBuffer.allocateDirect(want);
        int n = reader.read(buffer, position);
        assertThat(n).isEqualTo((int) Math.min(want, SIZE - position));
        assertThat(drain(buffer)).as("bytes at %d", position).isEqualTo(expected(position, n));
        position += n;
      }
      assertThat(reader.read(ByteBuffer.allocate(10), position)).isEqualTo(-1);
      assertThat(counter.take()).isEqualTo(Map.of("GetObject", 1));
    }
  }

  @Test
  void jumpsSplitReadsAndContinuationsReadTheRightBytes() {
    try (ReaderAt reader = store.readerAt(digest)) {
      byte[] head = new byte[CHUNK + 17];
      assertThat(reader.read(head, 0, head.length, 0)).isEqualTo(head.length);
      assertThat(head).isEqualTo(expected(0, head.length));

      // A large read elsewhere is split into pieces: odd position, odd length, both buffers.
      long at = 2 * CHUNK + 333;
      int length = 5 * CHUNK + 4321;
      counter.take();
      ByteBuffer heap = ByteBuffer.allocate(length);
      assertThat(reader.read(heap, at)).isEqualTo(length);
      assertThat(drain(heap)).isEqualTo(expected(at, length));
      assertThat(counter.take()).isEqualTo(Map.of("GetObject", 6));
      ByteBuffer direct = ByteBuffer.allocateDirect(length);
      assertThat(reader.read(direct, at + 1)).isEqualTo(length);
      assertThat(drain(direct)).isEqualTo(expected(at + 1, length));

      // Continuing after it streams from there; a small read elsewhere is one ranged GET.
      long next = at + 1 + length;
      byte[] more = new byte[CHUNK * 2 + 9];
      assertThat(reader.read(more, 0, more.length, next)).isEqualTo(more.length);
      assertThat(more).isEqualTo(expected(next, more.length));
      byte[] small = new byte[123];
      assertThat(reader.read(small, 0, small.length, 5)).isEqualTo(small.length);
      assertThat(small).isEqualTo(expected(5, small.length));
      next += more.length;
      assertThat(reader.read(more, 0, more.length, next)).isEqualTo(more.length);
      assertThat(more).isEqualTo(expected(next, more.length));

      // The tail: a read past the end returns what is there.
      byte[] tail = new byte[CHUNK * 4];
      long last = SIZE - 1000;
      assertThat(reader.read(tail, 0, tail.length, last)).isEqualTo(1000);
      assertThat(Arrays.copyOf(tail, 1000)).isEqualTo(expected(last, 1000));
      assertThat(reader.read(tail, 0, tail.length, SIZE)).isEqualTo(-1);
    }
  }

  @Test
  void concurrentReadsOnOneReaderGetTheirOwnBytes() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (ReaderAt reader = store.readerAt(digest)) {
      List<Future<?>> reads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = t;
        reads.add(pool.submit(() -> {
          Random random = new Random(seed);
          for (int i = 0; i < 12; i++) {
            long position = random.nextInt(SIZE);
            int want = 1 + random.nextInt(i % 3 == 0 ? 4 * CHUNK : 5000);
            ByteBuffer buffer = ByteBuffer.allocate(want);
            int n = reader.read(buffer, position);
            assertThat(n).isEqualTo((int) Math.min(want, SIZE - position));
            assertThat(drain(buffer)).isEqualTo(expected(position, n));
          }
          return null;
        }));
      }
      for (Future<?> read : reads) {
        read.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void closeDuringReadsEndsTheReaderAndLeavesTheStoreReadable() throws Exception {
    ReaderAt reader = store.readerAt(digest);
    byte[] part = new byte[1000];
    assertThat(reader.read(part, 0, part.length, 0)).isEqualTo(part.length);
    // A split read racing close: it either completes with the right bytes or meets the close.
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<byte[]> big = pool.submit(() -> {
        ByteBuffer buffer = ByteBuffer.allocate(SIZE - 10);
        reader.read(buffer, 10);
        return drain(buffer);
      });
      reader.close();
      try {
        assertThat(big.get()).isEqualTo(expected(10, SIZE - 10));
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(FailedPreconditionException.class);
      }
    } finally {
      pool.shutdownNow();
    }
    reader.close();
    assertThatThrownBy(() -> reader.read(part, 0, part.length, part.length))
        .isInstanceOf(FailedPreconditionException.class).hasMessageContaining(digest.toString());
    // The sequential GET was dropped mid-object; the connections left serve the next reader.
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(bytes);
  }

  @Test
  void responsesCutMidwayNeverYieldWrongBytes() {
    S3Mock s3 = S3Mock.get();
    // A jumping read of 300 KiB is split into 5 ranged GETs, and all 5 must come through: at a
    // cut rate of 0.5 an attempt succeeds 1 time in 32, and 100 attempts all fail about once in 24
    // runs. At 0.3 an attempt succeeds with 0.7^5 = 0.17, and 100 failures in a row are 1e-8.
    try (FaultProxy cut = FaultProxy.builder(s3.endpoint())
            .rate(FaultProxy.Fault.RESPONSE_CUT, 0.3).start();
        ContentStore through = S3Stores.open(config.toBuilder().endpoint(cut.endpoint())
            .sdkAttempts(20).build());
        ReaderAt reader = through.readerAt(digest)) {
      int[] sizes = {CHUNK + 1, 300 * KIB, 5, 200_001};
      long position = 0;
      for (int i = 0; position < SIZE; i++) {
        ByteBuffer buffer = ByteBuffer.allocate(sizes[i % sizes.length]);
        // A jump now and then: split reads and single ranged GETs meet cuts too.
        long at = i % 5 == 4 ? SIZE - 1 - position : position;
        int n = 0;
        for (int attempt = 0; n == 0; attempt++) {
          try {
            n = reader.read(buffer, at);
          } catch (UnavailableException e) {
            assertThat(buffer.position()).as("a failed read leaves the buffer as it was")
                .isZero();
            assertThat(attempt).as("attempts at %d", at).isLessThan(100);
          }
        }
        assertThat(drain(buffer)).as("bytes at %d", at).isEqualTo(expected(at, n));
        if (at == position) {
          position += n;
        }
      }
      assertThat(cut.injected().get(FaultProxy.Fault.RESPONSE_CUT)).isPositive();
    }
  }

  @Test
  void badPositionIsInvalidArgumentNamingIt() {
    try (ReaderAt reader = store.readerAt(digest)) {
      assertThatThrownBy(() -> reader.read(ByteBuffer.allocate(4), -3))
          .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("-3");
    }
  }
}
