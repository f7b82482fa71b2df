package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The helpers of {@link Content}, over the in-memory store and, for retries, a locked ingester. */
class ContentTest {

  private final ContentStore store = MemoryStores.open();

  @AfterEach
  void closeStore() {
    store.close();
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    ThreadLocalRandom.current().nextBytes(bytes);
    return bytes;
  }

  /** A stream over bytes that counts the bytes its reads returned (skips are not reads). */
  private static final class CountingStream extends ByteArrayInputStream {
    private long bytesRead;

    CountingStream(byte[] bytes) {
      super(bytes);
    }

    @Override
    public synchronized int read() {
      int b = super.read();
      if (b >= 0) {
        bytesRead++;
      }
      return b;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) {
      int n = super.read(b, off, len);
      if (n > 0) {
        bytesRead += n;
      }
      return n;
    }
  }

  /** An ingester whose every ref stays locked; counts the attempts. */
  private static final class LockedIngester implements Ingester {
    final AtomicInteger attempts = new AtomicInteger();

    @Override
    public Writer writer(String ref, Descriptor descriptor) {
      attempts.incrementAndGet();
      throw new UnavailableException("ref \"" + ref + "\" is locked");
    }
  }

  @Test
  void openWriterRetriesUntilTheLockIsReleased() throws Exception {
    Writer holder = store.writer("busy", Descriptor.UNKNOWN);
    holder.write(new byte[10]);
    ScheduledExecutorService releaser = Executors.newSingleThreadScheduledExecutor();
    try {
      releaser.schedule(holder::close, 100, TimeUnit.MILLISECONDS);
      try (Writer w = Content.openWriter(store, "busy", Descriptor.UNKNOWN, Duration.ofMinutes(1))) {
        assertThat(w.status().offset()).isEqualTo(10);
      }
    } finally {
      releaser.shutdownNow();
    }
  }

  @Test
  void openWriterGivesUpAtTheTimeout() {
    LockedIngester ingester = new LockedIngester();
    long start = System.nanoTime();
    assertThatThrownBy(() -> Content.openWriter(ingester, "r", Descriptor.UNKNOWN,
        Duration.ofMillis(150)))
        .isInstanceOf(UnavailableException.class).hasMessageContaining("\"r\"");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(
        Duration.ofMillis(150));
    assertThat(ingester.attempts.get()).isGreaterThan(1);
  }

  @Test
  void openWriterWithoutTimeoutTriesOnce() {
    LockedIngester ingester = new LockedIngester();
    assertThatThrownBy(() -> Content.openWriter(ingester, "r", Descriptor.UNKNOWN, Duration.ZERO))
        .isInstanceOf(UnavailableException.class);
    assertThat(ingester.attempts.get()).isEqualTo(1);
  }

  @Test
  void openWriterDoesNotRetryOtherErrors() {
    Digest digest = writeBlob("existing", randomBytes(10));
    AtomicInteger attempts = new AtomicInteger();
    Ingester counting = (ref, descriptor) -> {
      attempts.incrementAndGet();
      return store.writer(ref, descriptor);
    };
    assertThatThrownBy(() -> Content.openWriter(counting, "again", Descriptor.of(digest),
        Duration.ofMinutes(1))).isInstanceOf(AlreadyExistsException.class);
    assertThatThrownBy(() -> Content.openWriter(counting, "", Descriptor.UNKNOWN,
        Duration.ofMinutes(1))).isInstanceOf(InvalidArgumentException.class);
    assertThat(attempts.get()).isEqualTo(2);
  }

  @Test
  void openWriterInterruptedIsAbortedAndKeepsTheInterrupt() {
    LockedIngester ingester = new LockedIngester();
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> Content.openWriter(ingester, "r", Descriptor.UNKNOWN,
          Duration.ofMinutes(1)))
          .isInstanceOf(AbortedException.class).hasMessageContaining("\"r\"")
          .satisfies(e -> assertThat(e.getSuppressed())
              .hasExactlyElementsOfTypes(UnavailableException.class));
    } finally {
      assertThat(Thread.interrupted()).as("interrupt restored").isTrue();
    }
    assertThat(ingester.attempts.get()).isEqualTo(1);
  }

  private Digest writeBlob(String ref, byte[] content) {
    Digest digest = Digest.of(content);
    Content.writeBlob(store, ref, new ByteArrayInputStream(content),
        Descriptor.of(digest, content.length), Map.of("k", "v"));
    return digest;
  }

  /** Opens {@code ref} with the first {@code written} bytes of {@code content} already stored. */
  private Writer resumed(String ref, byte[] content, int written) {
    Descriptor descriptor = Descriptor.of(Digest.of(content), content.length);
    try (Writer w = store.writer(ref, descriptor)) {
      w.write(content, 0, written);
    }
    return store.writer(ref, descriptor);
  }

  /** Resumes an ingest of {@code content} after 30,000 bytes through {@code copy}, then checks it. */
  private void assertCopyResumes(String ref, byte[] content, Consumer<Writer> copy) {
    try (Writer w = resumed(ref, content, 30_000)) {
      copy.accept(w);
    }
    assertThat(Content.readBlob(store, Descriptor.of(Digest.of(content)))).isEqualTo(content);
  }

  @Test
  void copyResumesBySkippingAStream() {
    byte[] content = randomBytes(100_000);
    CountingStream source = new CountingStream(content);
    assertCopyResumes("skip", content,
        w -> Content.copy(w, source, content.length, Digest.of(content), Map.of("k", "v")));
    assertThat(source.bytesRead).isEqualTo(70_000);
    assertThat(store.info(Digest.of(content)).labels()).isEqualTo(Map.of("k", "v"));
  }

  @Test
  void copyResumesBySeekingAChannel() {
    byte[] content = randomBytes(100_000);
    BytesChannel source = new BytesChannel(content);
    assertCopyResumes("seek", content,
        w -> Content.copy(w, source, content.length, Digest.of(content), null));
    assertThat(source.bytesRead()).isEqualTo(70_000);
  }

  @Test
  void copyResumesAtTheOffsetOfAReaderAt() {
    // Several buffers long, so the copy loops over positions.
    byte[] content = randomBytes(3 * Content.BUFFER_SIZE + 17);
    BytesReaderAt source = new BytesReaderAt(content);
    assertCopyResumes("position", content,
        w -> Content.copy(w, source, content.length, Digest.of(content), null));
    assertThat(source.lowestRead()).isEqualTo(30_000);
  }

  @Test
  void copyOfAFreshIngestReadsEverything() {
    byte[] content = randomBytes(5000);
    CountingStream source = new CountingStream(content);
    try (Writer w = store.writer("fresh", Descriptor.UNKNOWN)) {
      Content.copy(w, source, 0, null, null);
    }
    assertThat(source.bytesRead).isEqualTo(5000);
    assertThat(store.info(Digest.of(content)).size()).isEqualTo(5000);
  }

  @Test
  void copyTreatsAlreadyExistsAsSuccessAndDiscardsTheIngest() {
    byte[] content = randomBytes(1000);
    Digest digest = writeBlob("first", content);
    try (Writer w = store.writer("second", Descriptor.UNKNOWN)) {
      Content.copy(w, new ByteArrayInputStream(content), content.length, digest, null);
    }
    assertThat(store.listStatuses()).isEmpty();
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
  }

  @Test
  void copyReportsMismatchesFromTheCommit() {
    byte[] content = randomBytes(1000);
    try (Writer w = store.writer("mismatch", Descriptor.UNKNOWN)) {
      assertThatThrownBy(() -> Content.copy(w, new ByteArrayInputStream(content), 999, null, null))
          .isInstanceOf(FailedPreconditionException.class);
    }
    assertThat(store.status("mismatch").offset()).isEqualTo(1000);
  }

  @Test
  void copyFromShortStreamNamesBothCounts() {
    byte[] content = randomBytes(1000);
    try (Writer w = resumed("short", content, 600)) {
      assertThatThrownBy(() -> Content.copy(w, new ByteArrayInputStream(content, 0, 250), 1000,
          Digest.of(content), null))
          .isInstanceOf(FailedPreconditionException.class)
          .hasMessageContaining("\"short\"").hasMessageContaining("250 bytes")
          .hasMessageContaining("600 bytes");
    }
    assertThat(store.status("short").offset()).isEqualTo(600);
  }

  @Test
  void writeBlobStoresWithLabels() {
    byte[] content = randomBytes(2000);
    Digest digest = writeBlob("new", content);
    Info info = store.info(digest);
    assertThat(info.size()).isEqualTo(2000);
    assertThat(info.labels()).isEqualTo(Map.of("k", "v"));
    assertThat(Content.readBlob(store, info.descriptor())).isEqualTo(content);
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  void writeBlobDoesNotReadTheSourceOfAnExistingBlob() {
    byte[] content = randomBytes(2000);
    Digest digest = writeBlob("first", content);
    CountingStream source = new CountingStream(content);
    Content.writeBlob(store, "second", source, Descriptor.of(digest, content.length), null);
    assertThat(source.bytesRead).isZero();
    assertThat(source.available()).isEqualTo(content.length);
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  void writeBlobRefusesBytesOtherThanDescribed() {
    byte[] content = randomBytes(2000);
    Digest other = Digest.of(randomBytes(10));
    assertThatThrownBy(() -> Content.writeBlob(store, "wrong", new ByteArrayInputStream(content),
        Descriptor.of(other, content.length), null))
        .isInstanceOf(FailedPreconditionException.class);
    assertThatThrownBy(() -> store.info(Digest.of(content))).isInstanceOf(NotFoundException.class);
    assertThat(store.status("wrong").offset()).isEqualTo(2000);
  }

  @Test
  void readBlobReadsWholeBlobsAndReportsUnknownOnes() {
    byte[] content = randomBytes(Content.BUFFER_SIZE + 5);
    Digest digest = writeBlob("whole", content);
    assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(content);
    assertThat(Content.readBlob(store, Descriptor.of(digest, 1))).isEqualTo(content);
    Digest unknown = Digest.of(randomBytes(10));
    assertThatThrownBy(() -> Content.readBlob(store, Descriptor.of(unknown)))
        .isInstanceOf(NotFoundException.class).hasMessageContaining(unknown.toString());
    assertThatThrownBy(() -> Content.readBlob(store, Descriptor.UNKNOWN))
        .isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void readerAtStreamReadsFromAPosition() throws Exception {
    byte[] content = randomBytes(10_000);
    Digest digest = writeBlob("stream", content);
    try (ReaderAt reader = store.readerAt(digest);
        var in = reader.stream(4000)) {
      assertThat(in.available()).isEqualTo(6000);
      assertThat(in.skip(1000)).isEqualTo(1000);
      assertThat(in.read()).isEqualTo(content[5000] & 0xff);
      assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(content, 5001, 10_000));
      assertThat(in.read()).isEqualTo(-1);
      assertThat(in.skip(5)).isZero();
    }
    try (ReaderAt reader = store.readerAt(digest)) {
      assertThatThrownBy(() -> reader.stream(-1)).isInstanceOf(InvalidArgumentException.class);
    }
  }
}
