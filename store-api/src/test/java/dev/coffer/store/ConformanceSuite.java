package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.coffer.store.spi.Labels;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance suite every {@link ContentStore} must pass: containerd's content-store test suite,
 * the behaviour around it, filters, and the reference counts and links of the seed blob store.
 *
 * <p>To run it against an implementation, subclass it and implement {@link #createStore()}, which is
 * called before each test and must return an empty store independent of every other (for a shared
 * bucket, a fresh key prefix). Override {@link #createPeer(ContentStore)} to return a second store
 * over the same backing data, as another host would see it; by default the same store is used. The
 * suite closes every store it obtained after each test.
 *
 * <p>Test methods are public so that a backend that differs on purpose can override the test
 * concerned, with a comment saying why. Helpers for such overrides are protected. A case is a
 * separate test method, named after containerd's case where there is one; the five resume cases
 * are one parameterised test over mode, size and fraction.
 */
public abstract class ConformanceSuite {

  /** The label containerd sets on blobs that must survive garbage collection. */
  protected static final String GC_ROOT = "containerd.io/gc.root";

  private static final Duration CONCURRENCY_GUARD = Duration.ofMinutes(3);

  /** The store under test, fresh for each test. */
  protected ContentStore store;

  private final List<ContentStore> opened = new ArrayList<>();
  private ContentStore peer;

  /** A new, empty store, independent of every store returned before. */
  protected abstract ContentStore createStore();

  /**
   * A second store over the same backing data as {@code store}, as another host would open it. The
   * default returns {@code store} itself.
   */
  protected ContentStore createPeer(ContentStore store) {
    return store;
  }

  @BeforeEach
  final void openStore() {
    store = createStore();
    opened.add(store);
  }

  @AfterEach
  final void closeStores() {
    RuntimeException failure = null;
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    opened.clear();
    peer = null;
    if (failure != null) {
      throw failure;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers for subclasses and the cases below.

  /** The peer of the store under test (see {@link #createPeer}), created once per test. */
  protected final ContentStore peer() {
    if (peer == null) {
      peer = newPeer();
    }
    return peer;
  }

  /** Another peer of the store under test, closed after the test. */
  protected final ContentStore newPeer() {
    ContentStore another = createPeer(store);
    if (another != store) {
      opened.add(another);
    }
    return another;
  }

  /** {@code size} pseudo-random bytes, different on every call. */
  protected static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    ThreadLocalRandom.current().nextBytes(bytes);
    return bytes;
  }

  /** The labels of containerd's suite: a gc root stamped with the current time in RFC 3339. */
  protected static Map<String, String> rootLabels() {
    return Map.of(GC_ROOT, Instant.now().toString());
  }

  /** Writes and commits {@code content} under {@code ref} through {@link Content#writeBlob}. */
  protected final Digest writeBlob(String ref, byte[] content, Map<String, String> labels) {
    Digest digest = Digest.of(content);
    Content.writeBlob(store, ref, new ByteArrayInputStream(content),
        Descriptor.of(digest, content.length), labels);
    return digest;
  }

  /** Writes and commits {@code content} without labels. */
  protected final Digest writeBlob(String ref, byte[] content) {
    return writeBlob(ref, content, null);
  }

  /** Commits {@code content} under {@code ref} taking one reference; returns the info after it. */
  protected final Info commitAndRef(String ref, byte[] content) {
    try (Writer writer = store.writer(ref, Descriptor.UNKNOWN)) {
      writer.write(content);
      return writer.commitAndRef(content.length, Digest.of(content), null);
    }
  }

  /** Commits 100 random bytes under {@code ref} with one reference; returns their digest. */
  protected final Digest referencedBlob(String ref) {
    return commitAndRef(ref, randomBytes(100)).digest();
  }

  /** Asserts the reference count of the blob {@code digest}. */
  protected final void assertRefCount(Digest digest, long expected) {
    assertThat(store.info(digest).refCount()).as("reference count of %s", digest)
        .isEqualTo(expected);
  }

  /** The whole blob {@code digest} of the store under test. */
  protected final byte[] readBlob(Digest digest) {
    return Content.readBlob(store, Descriptor.of(digest));
  }

  /** The digests of the blobs {@link Manager#walk} reports for {@code filters}. */
  protected final Set<Digest> walk(String... filters) {
    Set<Digest> seen = new HashSet<>();
    store.walk(info -> assertThat(seen.add(info.digest()))
        .as("walk reports %s once", info.digest()).isTrue(), filters);
    return seen;
  }

  /** The refs {@link IngestManager#listStatuses} reports for {@code filters}. */
  protected final Set<String> listRefs(String... filters) {
    return store.listStatuses(filters).stream().map(Status::ref).collect(Collectors.toSet());
  }

  protected static void assertWithin(Instant actual, Instant before, Instant after, String what) {
    assertThat(actual).as(what + " inside [" + before + ", " + after + "]")
        .isBetween(before, after);
  }

  /** Asserts that {@code call} fails with exactly {@code type} and a message naming {@code named}. */
  protected static void assertFails(Class<? extends StoreException> type, String named,
      ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(type).hasMessageContaining(named);
  }

  /** Asserts that {@code call} fails with exactly {@code type}. */
  protected static void assertFails(Class<? extends StoreException> type, ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOf(type);
  }

  /** Asserts that {@code ref} is locked for another writer, in this store and on a peer. */
  protected final void assertLocked(String ref) {
    assertFails(UnavailableException.class, ref, () -> store.writer(ref, Descriptor.UNKNOWN));
    assertFails(UnavailableException.class, ref, () -> peer().writer(ref, Descriptor.UNKNOWN));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static Digest digestOf(byte[] content, int length) {
    return Digest.of(Arrays.copyOf(content, length));
  }

  private Digest otherDigest() {
    return Digest.of(randomBytes(32));
  }

  // ---------------------------------------------------------------------------------------------
  // containerd's suite (semantics section 2).

  @Test
  public void writer() {
    int bigSize = 32 << 20;
    record Case(String ref, byte[] content, Descriptor descriptor) {}
    byte[] c1 = randomBytes(256);
    byte[] c2 = randomBytes(256);
    byte[] c3 = randomBytes(256);
    byte[] c4 = randomBytes(256);
    byte[] c5 = randomBytes(bigSize);
    List<Case> cases = List.of(
        new Case("c1", c1, Descriptor.UNKNOWN),
        new Case("c2", c2, new Descriptor(null, c2.length)),
        new Case("c3", c3, Descriptor.of(Digest.of(c3))),
        new Case("c4", c4, Descriptor.of(Digest.of(c4), c4.length)),
        new Case("c5", c5, Descriptor.of(Digest.of(c5), c5.length)));
    List<Writer> writers = new ArrayList<>();
    try {
      for (Case c : cases) {
        writers.add(store.writer(c.ref(), c.descriptor()));
      }
      for (int i = 0; i < cases.size(); i++) {
        Case c = cases.get(i);
        Writer w = writers.get(i);
        Digest expected = Digest.of(c.content());
        w.write(c.content());
        Map<String, String> labels = rootLabels();
        Instant before = Instant.now();
        w.commit(0, null, labels);
        Instant after = Instant.now();
        assertThat(w.digest()).as(c.ref()).isEqualTo(expected);
        Info info = store.info(expected);
        assertThat(info.digest()).isEqualTo(expected);
        assertThat(info.size()).as(c.ref()).isEqualTo(c.content().length);
        assertThat(info.labels()).as(c.ref()).isEqualTo(labels);
        assertWithin(info.createdAt(), before, after, c.ref() + " createdAt");
        assertWithin(info.updatedAt(), before, after, c.ref() + " updatedAt");
      }
    } finally {
      writers.forEach(Writer::close);
    }
    assertThat(readBlob(Digest.of(c5))).isEqualTo(c5);
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  public void updateStatus() {
    byte[] content = randomBytes(256);
    Digest digest = Digest.of(content);
    Instant beforeOpen = Instant.now();
    try (Writer w = store.writer("update-status", Descriptor.of(digest, 256))) {
      Instant afterOpen = Instant.now();
      Status initial = w.status();
      assertThat(initial.ref()).isEqualTo("update-status");
      assertThat(initial.offset()).isZero();
      assertThat(initial.total()).isEqualTo(256);
      assertThat(initial.expected()).isEqualTo(digest);
      assertThat(w.digest()).isEqualTo(Digest.EMPTY_SHA256);
      assertThat(initial.updatedAt()).isEqualTo(initial.startedAt());
      assertWithin(initial.startedAt(), beforeOpen, afterOpen, "startedAt");

      int written = 0;
      for (int chunk : new int[] {64, 128, 64}) {
        Instant before = Instant.now();
        w.write(content, written, chunk);
        Instant after = Instant.now();
        written += chunk;
        Status status = w.status();
        assertThat(status.offset()).isEqualTo(written);
        assertThat(status.total()).isEqualTo(256);
        assertThat(status.startedAt()).isEqualTo(initial.startedAt());
        assertWithin(status.updatedAt(), before, after, "updatedAt after " + written + " bytes");
        assertThat(w.digest()).isEqualTo(digestOf(content, written));
        assertThat(store.status("update-status")).isEqualTo(status);
      }
    }
  }

  @Test
  public void commitExists() {
    byte[] content = randomBytes(256);
    Digest d1 = writeBlob("c1", content);
    Digest[] expectations = {d1, null};
    for (int i = 0; i < expectations.length; i++) {
      Digest expected = expectations[i];
      String ref = "c1-commitexists-" + i;
      try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
        w.write(content);
        assertFails(AlreadyExistsException.class, () -> w.commit(content.length, expected, null));
      }
      assertFails(NotFoundException.class, ref, () -> store.status(ref));
    }
  }

  @Test
  public void resume() {
    byte[] content = randomBytes(256);
    Digest digest = Digest.of(content);
    Descriptor descriptor = Descriptor.of(digest, 256);
    Status beforeClose;
    Instant beforeWrite;
    Instant afterWrite;
    Writer first = store.writer("resume", descriptor);
    try {
      beforeWrite = Instant.now();
      first.write(content, 0, 128);
      afterWrite = Instant.now();
      beforeClose = first.status();
    } finally {
      first.close();
    }
    try (Writer w = store.writer("resume", descriptor)) {
      Status resumed = w.status();
      assertThat(resumed).isEqualTo(beforeClose);
      assertThat(resumed.offset()).isEqualTo(128);
      assertThat(resumed.total()).isEqualTo(256);
      assertWithin(resumed.updatedAt(), beforeWrite, afterWrite, "updatedAt");
      assertThat(w.digest()).isEqualTo(digestOf(content, 128));
      w.write(content, 128, 128);
      w.commit(256, digest, null);
      assertThatCode(w::close).doesNotThrowAnyException();
    }
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  /** How a resumed ingest is completed: containerd's five resume cases. */
  protected enum ResumeMode {
    /** truncate(0), then write everything again. */
    TRUNCATE("ResumeTruncate"),
    /** Write the bytes after the offset. */
    DISCARD("ResumeDiscard"),
    /** {@link Content#copy} from a plain stream, which is skipped to the offset. */
    COPY("ResumeCopy"),
    /** {@link Content#copy} from a seekable channel, positioned at the offset. */
    COPY_SEEKER("ResumeCopySeeker"),
    /** {@link Content#copy} from a random-access source, read from the offset. */
    COPY_READER_AT("ResumeCopyReaderAt");

    private final String caseName;

    ResumeMode(String caseName) {
      this.caseName = caseName;
    }

    @Override
    public String toString() {
      return caseName;
    }
  }

  /** Every resume mode over sizes {500, 5000, 50000} and fractions {0, 0.1, 0.5, 0.9, 1}. */
  static Stream<Arguments> resumeCases() {
    List<Arguments> cases = new ArrayList<>();
    for (ResumeMode mode : ResumeMode.values()) {
      for (int size : new int[] {500, 5000, 50000}) {
        for (double fraction : new double[] {0, 0.1, 0.5, 0.9, 1.0}) {
          cases.add(Arguments.of(mode, size, fraction));
        }
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}, size {1}, fraction {2}")
  @MethodSource("dev.coffer.store.ConformanceSuite#resumeCases")
  public void resumeModes(ResumeMode mode, int size, double fraction) {
    byte[] content = randomBytes(size);
    Digest digest = Digest.of(content);
    int limit = (int) (size * fraction);
    String ref = "ref-" + size + "-" + limit;
    Descriptor descriptor = Descriptor.of(digest, size);
    try (Writer w = store.writer(ref, descriptor)) {
      w.write(content, 0, limit);
    }
    Instant before;
    Instant after;
    try (Writer w = store.writer(ref, descriptor)) {
      assertThat(w.status().offset()).isEqualTo(limit);
      assertThat(w.digest()).isEqualTo(digestOf(content, limit));
      before = Instant.now();
      switch (mode) {
        case TRUNCATE -> {
          w.truncate(0);
          assertThat(w.status().offset()).isZero();
          w.write(content);
          w.commit(size, digest, null);
        }
        case DISCARD -> {
          w.write(content, limit, size - limit);
          w.commit(size, digest, null);
        }
        case COPY -> Content.copy(w, new ByteArrayInputStream(content), size, digest, null);
        case COPY_SEEKER -> Content.copy(w, new BytesChannel(content), size, digest, null);
        case COPY_READER_AT -> Content.copy(w, new BytesReaderAt(content), size, digest, null);
        default -> throw new AssertionError(mode);
      }
      after = Instant.now();
    }
    Info info = store.info(digest);
    assertThat(info.size()).isEqualTo(size);
    assertWithin(info.createdAt(), before, after, "createdAt");
    assertWithin(info.updatedAt(), before, after, "updatedAt");
    assertThat(readBlob(digest)).isEqualTo(content);
    assertFails(NotFoundException.class, ref, () -> store.status(ref));
  }

  @Test
  public void smallBlob() {
    byte[] foobar = "foobar".getBytes(StandardCharsets.US_ASCII);
    Digest digest = writeBlob("small", foobar);
    assertThat(digest.toString())
        .isEqualTo("sha256:c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2");
    try (ReaderAt reader = store.readerAt(Descriptor.of(digest, 6))) {
      assertThat(reader.size()).isEqualTo(6);
      byte[] buffer = new byte[7];
      int n = reader.read(buffer, 0, 7, 0);
      assertThat(n).isEqualTo(6);
      assertThat(Arrays.copyOf(buffer, n)).isEqualTo(foobar);
      assertThat(buffer[6]).isZero();
      assertThat(reader.read(buffer, 0, 7, 6)).isEqualTo(-1);
      try (InputStream in = reader.stream(0)) {
        assertThat(in.readAllBytes()).isEqualTo(foobar);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Test
  public void labels() {
    byte[] content = randomBytes(256);
    Digest digest = Digest.of(content);
    String root = Instant.now().toString();
    Map<String, String> labels = Map.of("k1", "v1", "k2", "v2", GC_ROOT, root);
    Instant beforeCommit = Instant.now();
    try (Writer w = store.writer("labels", Descriptor.of(digest, 256))) {
      w.write(content);
      w.commit(256, digest, labels);
    }
    Instant afterCommit = Instant.now();
    Info committed = store.info(digest);
    assertThat(committed.labels()).isEqualTo(labels);
    assertWithin(committed.createdAt(), beforeCommit, afterCommit, "createdAt");
    assertThat(committed.updatedAt()).isEqualTo(committed.createdAt());

    Map<String, String> replaced = Map.of("k1", "newvalue", "k3", "v3", GC_ROOT, root);
    Instant beforeUpdate = Instant.now();
    Info returned = store.update(Info.forUpdate(digest, replaced));
    Instant afterUpdate = Instant.now();
    Info updated = store.info(digest);
    assertThat(updated.labels()).isEqualTo(replaced);
    assertThat(updated.createdAt()).isEqualTo(committed.createdAt());
    assertWithin(updated.updatedAt(), beforeUpdate, afterUpdate, "updatedAt after update");
    assertThat(updated.size()).isEqualTo(256);
    assertThat(returned.labels()).isEqualTo(replaced);
    assertThat(returned.updatedAt()).isEqualTo(updated.updatedAt());

    beforeUpdate = Instant.now();
    store.update(Info.forUpdate(digest, Map.of("k1", "v1", GC_ROOT, root)), "labels.k3", "labels.k1");
    afterUpdate = Instant.now();
    updated = store.info(digest);
    assertThat(updated.labels()).isEqualTo(Map.of("k1", "v1", GC_ROOT, root));
    assertThat(updated.createdAt()).isEqualTo(committed.createdAt());
    assertWithin(updated.updatedAt(), beforeUpdate, afterUpdate, "updatedAt after fieldpath update");
  }

  @Test
  public void labelsEmptyValueDeletesLabel() {
    Digest digest = writeBlob("empty-label", randomBytes(100), Map.of("k1", "v1", "k2", "v2"));
    store.update(Info.forUpdate(digest, Map.of("k1", "")), "labels.k1");
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k2", "v2"));
  }

  @Test
  public void labelsFieldpathLabelsReplacesAll() {
    Digest digest = writeBlob("all-labels", randomBytes(100), Map.of("k1", "v1", "k2", "v2"));
    store.update(Info.forUpdate(digest, Map.of("k3", "v3")), "labels");
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k3", "v3"));
  }

  @Test
  public void commitErrorState() {
    byte[] c1 = randomBytes(256);
    Digest d1 = writeBlob("c1", c1);
    String ref = "c1-commiterror-state";

    // 1 and 2: the lock is taken at open; committing existing content discards the ingest.
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      assertLocked(ref);
      w.write(c1);
      assertLocked(ref);
      assertFails(AlreadyExistsException.class, () -> w.commit(256, d1, null));
    }
    assertFails(NotFoundException.class, ref, () -> store.status(ref));

    // 3: only a fresh ingest holds exactly d1's bytes again.
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      assertLocked(ref);
      assertThat(w.status().offset()).isZero();
      w.write(c1);
      assertFails(AlreadyExistsException.class, () -> w.commit(256, null, null));
    }

    // 4: a wrong digest fails and keeps the ingest.
    byte[] more = concat(c1, "more".getBytes(StandardCharsets.US_ASCII));
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      assertLocked(ref);
      assertThat(w.status().offset()).isZero();
      w.write(more);
      assertFails(FailedPreconditionException.class, () -> w.commit(260, otherDigest(), null));
    }

    // 5: the 260 bytes survived; a wrong size fails.
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      assertLocked(ref);
      assertThat(w.status().offset()).isEqualTo(260);
      assertFails(FailedPreconditionException.class, () -> w.commit(256, null, null));
    }

    // 6: the right size commits.
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      assertLocked(ref);
      assertThat(w.status().offset()).isEqualTo(260);
      w.commit(260, null, null);
    }
    assertThat(readBlob(Digest.of(more))).isEqualTo(more);

    // 7: the commit dropped the ingest; d1 again exists.
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      assertLocked(ref);
      assertThat(w.status().offset()).isZero();
      w.write(c1);
      assertFails(AlreadyExistsException.class, () -> w.commit(256, d1, null));
    }

    // 8: truncating an empty ingest twice.
    for (int i = 0; i < 2; i++) {
      Writer w = store.writer(ref, Descriptor.UNKNOWN);
      assertLocked(ref);
      assertThatCode(() -> w.truncate(0)).doesNotThrowAnyException();
      assertThatCode(w::close).doesNotThrowAnyException();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Behaviour outside containerd's suite (semantics section 3).

  @Test
  public void writerWithEmptyRefIsInvalid() {
    assertFails(InvalidArgumentException.class, () -> store.writer("", Descriptor.UNKNOWN));
    assertFails(InvalidArgumentException.class, () -> store.writer("a\nb", Descriptor.UNKNOWN));
  }

  @Test
  public void writerWithCommittedDigestFailsAtOpen() {
    byte[] content = randomBytes(300);
    Digest digest = writeBlob("committed", content);
    assertFails(AlreadyExistsException.class, digest.toString(),
        () -> store.writer("again", Descriptor.of(digest, content.length)));
    assertFails(AlreadyExistsException.class, digest.toString(),
        () -> store.writer("again", Descriptor.of(digest)));
    assertFails(NotFoundException.class, "again", () -> store.status("again"));
  }

  @Test
  public void unknownDigestIsNotFound() {
    Digest unknown = otherDigest();
    String named = unknown.toString();
    assertFails(NotFoundException.class, named, () -> store.info(unknown));
    assertFails(NotFoundException.class, named,
        () -> store.update(Info.forUpdate(unknown, Map.of("k", "v"))));
    assertFails(NotFoundException.class, named, () -> store.readerAt(unknown));
    assertFails(NotFoundException.class, named, () -> store.readerAt(Descriptor.of(unknown, 10)));
    assertFails(NotFoundException.class, named, () -> store.delete(unknown));
  }

  @Test
  public void malformedDigestIsInvalid() {
    for (String bad : List.of("sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "nocolon",
        "sha256:" + "A".repeat(64), "")) {
      assertFails(InvalidArgumentException.class, () -> Digest.parse(bad));
    }
    assertFails(InvalidArgumentException.class, () -> store.readerAt(Descriptor.UNKNOWN));
  }

  @Test
  public void unknownRefIsNotFound() {
    assertFails(NotFoundException.class, "no-such-ref", () -> store.status("no-such-ref"));
    assertFails(NotFoundException.class, "no-such-ref", () -> store.abort("no-such-ref"));
  }

  @Test
  public void updateWithOtherFieldpathIsInvalid() {
    Digest digest = writeBlob("fieldpaths", randomBytes(100), Map.of("k", "v"));
    for (String fieldpath : List.of("size", "digest", "createdat", "updatedAt", "annotations.k")) {
      assertFails(InvalidArgumentException.class, fieldpath,
          () -> store.update(Info.forUpdate(digest, Map.of("k", "w")), fieldpath));
    }
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
  }

  @Test
  public void truncateToNonZeroIsRefusedOrExact() {
    byte[] content = randomBytes(200);
    try (Writer w = store.writer("truncate", Descriptor.UNKNOWN)) {
      w.write(content);
      boolean truncated;
      try {
        w.truncate(50);
        truncated = true;
      } catch (InvalidArgumentException refused) {
        truncated = false;
      }
      int expectedOffset = truncated ? 50 : 200;
      assertThat(w.status().offset()).isEqualTo(expectedOffset);
      assertThat(w.digest()).isEqualTo(digestOf(content, expectedOffset));
      w.write(content, expectedOffset, 200 - expectedOffset);
      w.commit(200, Digest.of(content), null);
    }
    assertThat(readBlob(Digest.of(content))).isEqualTo(content);
  }

  @Test
  public void closedWriterCannotCommitAndCloseIsIdempotent() {
    byte[] content = randomBytes(100);
    Writer w = store.writer("closed", Descriptor.UNKNOWN);
    w.write(content);
    w.close();
    assertThatCode(w::close).doesNotThrowAnyException();
    assertFails(FailedPreconditionException.class, () -> w.commit(100, Digest.of(content), null));
    assertFails(FailedPreconditionException.class, () -> w.write(content));
    assertThat(w.status().offset()).as("status after close").isEqualTo(100);
    assertThat(store.status("closed").offset()).isEqualTo(100);
    assertFails(NotFoundException.class, () -> store.info(Digest.of(content)));
  }

  @Test
  public void closedWriterFailsBeforeExistingContent() {
    byte[] content = randomBytes(100);
    Digest digest = writeBlob("existing", content);
    Writer w = store.writer("closed-existing", Descriptor.UNKNOWN);
    w.write(content);
    w.close();
    assertFails(FailedPreconditionException.class, () -> w.commit(100, digest, null));
  }

  @Test
  public void listStatusesAfterOpenAndClose() {
    store.writer("myref", Descriptor.UNKNOWN).close();
    List<Status> statuses = store.listStatuses();
    assertThat(statuses).hasSize(1);
    assertThat(statuses.get(0).ref()).isEqualTo("myref");
    assertThat(statuses.get(0).offset()).isZero();
  }

  @Test
  public void statusOfOpenIngest() {
    try (Writer w = store.writer("open", Descriptor.UNKNOWN)) {
      w.write(randomBytes(10));
      assertThat(store.status("open")).isEqualTo(w.status());
      assertThat(store.listStatuses()).containsExactly(w.status());
    }
  }

  @Test
  public void commitChecksSizeBeforeExistingContent() {
    byte[] content = randomBytes(100);
    Digest digest = writeBlob("existing", content);
    try (Writer w = store.writer("size-first", Descriptor.UNKNOWN)) {
      w.write(content);
      assertFails(FailedPreconditionException.class, () -> w.commit(99, digest, null));
    }
    try (Writer w = store.writer("size-first", Descriptor.UNKNOWN)) {
      assertFails(FailedPreconditionException.class, () -> w.commit(101, null, null));
    }
    assertThat(store.status("size-first").offset()).isEqualTo(100);
  }

  @Test
  public void commitChecksDigestBeforeExistingContent() {
    byte[] content = randomBytes(100);
    writeBlob("existing", content);
    try (Writer w = store.writer("digest-first", Descriptor.UNKNOWN)) {
      w.write(content);
      assertFails(FailedPreconditionException.class, () -> w.commit(0, otherDigest(), null));
    }
    assertThat(store.status("digest-first").offset()).isEqualTo(100);
  }

  @Test
  public void failedCommitKeepsIngest() {
    byte[] content = randomBytes(120);
    Digest digest = Digest.of(content);
    try (Writer w = store.writer("keep", Descriptor.UNKNOWN)) {
      w.write(content);
      assertFails(FailedPreconditionException.class, () -> w.commit(121, digest, null));
    }
    try (Writer w = store.writer("keep", Descriptor.UNKNOWN)) {
      assertThat(w.status().offset()).isEqualTo(120);
      assertThat(w.digest()).isEqualTo(digest);
      w.commit(0, null, null);
    }
    Info info = store.info(digest);
    assertThat(info.size()).isEqualTo(120);
    assertThat(info.refCount()).isZero();
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void commitReleasesLockWhateverTheOutcome() {
    byte[] content = randomBytes(100);
    Writer failed = store.writer("released", Descriptor.UNKNOWN);
    failed.write(content);
    assertFails(FailedPreconditionException.class, () -> failed.commit(5, null, null));
    try (Writer w = store.writer("released", Descriptor.UNKNOWN)) {
      assertThat(w.status().offset()).isEqualTo(100);
      w.commit(100, Digest.of(content), null);
    }
    assertFails(FailedPreconditionException.class, () -> failed.commit(100, null, null));
    assertThat(readBlob(Digest.of(content))).isEqualTo(content);
  }

  @Test
  public void labelAtLimitIsAccepted() {
    byte[] content = randomBytes(64);
    String key = "k";
    String value = "v".repeat(Labels.MAX_LABEL_BYTES - key.length());
    try (Writer w = store.writer("label-limit", Descriptor.UNKNOWN)) {
      w.write(content);
      w.commit(64, null, Map.of(key, value));
    }
    assertThat(store.info(Digest.of(content)).labels()).isEqualTo(Map.of(key, value));
  }

  @Test
  public void labelOverLimitIsInvalidBeforeSizeChecksAndKeepsIngest() {
    byte[] content = randomBytes(64);
    Map<String, String> labels = Map.of("big", "v".repeat(Labels.MAX_LABEL_BYTES));
    try (Writer w = store.writer("label-over", Descriptor.UNKNOWN)) {
      w.write(content);
      assertFails(InvalidArgumentException.class, "big", () -> w.commit(64, null, labels));
    }
    // Labels are checked first: a wrong size still reports the label.
    try (Writer w = store.writer("label-over", Descriptor.UNKNOWN)) {
      assertFails(InvalidArgumentException.class, "big", () -> w.commit(65, null, labels));
    }
    assertThat(store.status("label-over").offset()).isEqualTo(64);
    assertFails(NotFoundException.class, () -> store.info(Digest.of(content)));
  }

  @Test
  public void updateWithLabelOverLimitIsInvalid() {
    Digest digest = writeBlob("update-over", randomBytes(64), Map.of("k", "v"));
    assertFails(InvalidArgumentException.class, "big", () -> store.update(
        Info.forUpdate(digest, Map.of("big", "v".repeat(Labels.MAX_LABEL_BYTES)))));
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
  }

  /**
   * A label with an unpaired surrogate (not text: no UTF-8 encodes it) is refused at commit, at
   * put and at update, naming the key; the blob it was meant for stays readable with its labels.
   */
  @Test
  public void labelWithAnUnpairedSurrogateIsInvalidAndTheBlobStaysReadable() {
    byte[] content = randomBytes(64);
    Map<String, String> badKey = Map.of("k\uDDE0", "v");
    Map<String, String> badValue = Map.of("k", "v\uD83D");
    try (Writer w = store.writer("label-surrogate", Descriptor.UNKNOWN)) {
      w.write(content);
      assertFails(InvalidArgumentException.class, "unpaired surrogate",
          () -> w.commit(64, null, badKey));
    }
    try (Writer w = store.writer("label-surrogate", Descriptor.UNKNOWN)) {
      assertFails(InvalidArgumentException.class, "\"k\"", () -> w.commit(64, null, badValue));
    }
    assertThat(store.status("label-surrogate").offset()).as("the ingest kept").isEqualTo(64);
    store.abort("label-surrogate");
    assertFails(InvalidArgumentException.class, "unpaired surrogate",
        () -> store.put(content, null, badValue));
    assertFails(NotFoundException.class, () -> store.info(Digest.of(content)));
    Digest digest = writeBlob("label-surrogate", content, Map.of("k", "v"));
    assertFails(InvalidArgumentException.class, "unpaired surrogate",
        () -> store.update(Info.forUpdate(digest, badKey)));
    assertFails(InvalidArgumentException.class, "unpaired surrogate",
        () -> store.update(Info.forUpdate(digest, badValue)));
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void copyTreatsAlreadyExistsAsSuccess() {
    byte[] content = randomBytes(500);
    Digest digest = writeBlob("existing", content);
    try (Writer w = store.writer("copy-again", Descriptor.UNKNOWN)) {
      assertThatCode(() -> Content.copy(w, new ByteArrayInputStream(content), 500, digest, null))
          .doesNotThrowAnyException();
    }
    assertFails(NotFoundException.class, () -> store.status("copy-again"));
  }

  @Test
  public void writeBlobOfExistingContentDoesNotReadSource() {
    byte[] content = randomBytes(500);
    Digest digest = writeBlob("existing", content);
    InputStream unreadable = new InputStream() {
      @Override
      public int read() {
        throw new AssertionError("the source of an existing blob was read");
      }
    };
    Content.writeBlob(store, "again", unreadable, Descriptor.of(digest, 500), null);
    assertFails(NotFoundException.class, () -> store.status("again"));
  }

  @Test
  public void copyFromShortSourceFails() {
    byte[] content = randomBytes(1000);
    Digest digest = Digest.of(content);
    try (Writer w = store.writer("short", Descriptor.of(digest, 1000))) {
      w.write(content, 0, 600);
    }
    byte[] shortSource = Arrays.copyOf(content, 400);
    try (Writer w = store.writer("short", Descriptor.of(digest, 1000))) {
      assertThatThrownBy(() -> Content.copy(w, new ByteArrayInputStream(shortSource), 1000, digest,
          null)).isInstanceOf(FailedPreconditionException.class)
          .hasMessageContainingAll("400", "600", "short");
      assertThatThrownBy(() -> Content.copy(w, new BytesReaderAt(shortSource), 1000, digest, null))
          .isInstanceOf(FailedPreconditionException.class)
          .hasMessageContainingAll("400", "600", "short");
      assertThatThrownBy(() -> Content.copy(w, new BytesChannel(shortSource), 1000, digest, null))
          .isInstanceOf(FailedPreconditionException.class)
          .hasMessageContainingAll("400", "600", "short");
    }
    try (Writer w = store.writer("short", Descriptor.of(digest, 1000))) {
      assertFails(FailedPreconditionException.class,
          () -> Content.copy(w, new BytesReaderAt(Arrays.copyOf(content, 900)), 1000, digest, null));
    }
    assertFails(NotFoundException.class, () -> store.info(digest));
  }

  // ---------------------------------------------------------------------------------------------
  // Filters through walk and listStatuses (semantics section 4).

  @Test
  public void walkFilters() {
    String root = Instant.now().toString();
    Digest a = writeBlob("a", randomBytes(50), Map.of(GC_ROOT, root, "team", "build"));
    Digest b = writeBlob("b", randomBytes(50), Map.of("team", "test", "tier", "gold"));
    Digest c = writeBlob("c", randomBytes(50));
    Digest d = writeBlob("d", randomBytes(50), Map.of("note", "a \"quoted\", value"));

    assertThat(walk()).containsExactlyInAnyOrder(a, b, c, d);
    assertThat(walk("labels.\"containerd.io/gc.root\"")).containsExactly(a);
    assertThat(walk("labels.\"containerd.io/gc.root\"==" + root)).containsExactly(a);
    assertThat(walk("labels.team")).containsExactlyInAnyOrder(a, b);
    assertThat(walk("labels.team==build")).containsExactly(a);
    assertThat(walk("labels.\"team\"==\"build\"")).containsExactly(a);
    assertThat(walk("labels.team!=build")).containsExactlyInAnyOrder(b, c, d);
    assertThat(walk("labels.missing==x")).isEmpty();
    assertThat(walk("labels.missing!=x")).containsExactlyInAnyOrder(a, b, c, d);
    assertThat(walk("labels.team~=/^b/")).containsExactly(a);
    assertThat(walk("labels.team~=|es|")).containsExactly(b);
    assertThat(walk("labels.team~=\"^(build|test)$\"")).containsExactlyInAnyOrder(a, b);
    assertThat(walk("labels.team~=ui")).containsExactly(a);
    assertThat(walk("labels.team==test,labels.tier==gold")).containsExactly(b);
    assertThat(walk("labels.team==build,labels.tier==gold")).isEmpty();
    assertThat(walk("labels.team == test , labels.tier")).containsExactly(b);
    assertThat(walk("labels.team==build", "labels.tier==gold")).containsExactlyInAnyOrder(a, b);
    assertThat(walk("digest==" + c)).containsExactly(c);
    assertThat(walk("digest~=^sha256:")).containsExactlyInAnyOrder(a, b, c, d);
    assertThat(walk("labels.note==\"a \\\"quoted\\\", value\"")).containsExactly(d);
    assertThat(walk("size==50")).isEmpty();
  }

  @Test
  public void walkFilterParseErrorsAreInvalid() {
    writeBlob("a", randomBytes(50), Map.of("team", "build"));
    for (String bad : List.of("labels.team==", "labels.team=build", "labels.\"unterminated",
        ",", "labels.team~=/[/", "labels..team", "labels.team==a b")) {
      assertFails(InvalidArgumentException.class, () -> store.walk(info -> { }, bad));
      assertFails(InvalidArgumentException.class, () -> store.listStatuses(bad));
    }
  }

  @Test
  public void listStatusesFilters() {
    for (String ref : List.of("ingest-a", "ingest-b", "other/x")) {
      store.writer(ref, Descriptor.UNKNOWN).close();
    }
    assertThat(listRefs()).containsExactlyInAnyOrder("ingest-a", "ingest-b", "other/x");
    assertThat(listRefs("ref==ingest-a")).containsExactly("ingest-a");
    assertThat(listRefs("ref!=ingest-a")).containsExactlyInAnyOrder("ingest-b", "other/x");
    assertThat(listRefs("ref~=^ingest-")).containsExactlyInAnyOrder("ingest-a", "ingest-b");
    assertThat(listRefs("ref~=/^other\\//")).containsExactly("other/x");
    assertThat(listRefs("ref==\"other/x\"")).containsExactly("other/x");
    assertThat(listRefs("ref==ingest-a", "ref==other/x"))
        .containsExactlyInAnyOrder("ingest-a", "other/x");
    assertThat(listRefs("ref~=ingest,ref!=ingest-b")).containsExactly("ingest-a");
    assertThat(listRefs("ref")).hasSize(3);
    assertThat(listRefs("labels.x")).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------
  // Further cases: concurrency, sizes, algorithms, reads, walk, delete, abort, locks.

  @Test
  public void concurrentWritersOnDistinctRefs() throws Exception {
    int threads = 4;
    int blobsPerThread = 3;
    CyclicBarrier start = new CyclicBarrier(threads);
    Map<Digest, byte[]> written = new HashMap<>();
    List<Callable<Map<Digest, byte[]>>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      tasks.add(() -> {
        start.await();
        Map<Digest, byte[]> mine = new HashMap<>();
        for (int i = 0; i < blobsPerThread; i++) {
          byte[] content = randomBytes(20_000 + i);
          try (Writer w = store.writer("thread-" + thread + "-" + i, Descriptor.UNKNOWN)) {
            w.write(content, 0, 10_000);
            w.write(content, 10_000, content.length - 10_000);
            w.commit(content.length, Digest.of(content), null);
          }
          mine.put(Digest.of(content), content);
        }
        return mine;
      });
    }
    for (Map<Digest, byte[]> result : runConcurrently(tasks)) {
      written.putAll(result);
    }
    assertThat(written).hasSize(threads * blobsPerThread);
    assertThat(walk()).isEqualTo(written.keySet());
    written.forEach((digest, content) -> assertThat(readBlob(digest)).isEqualTo(content));
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  public void concurrentCommitsOfSameContentOneWins() throws Exception {
    int threads = 6;
    byte[] content = randomBytes(40_000);
    Digest digest = Digest.of(content);
    List<Writer> writers = new ArrayList<>();
    try {
      for (int i = 0; i < threads; i++) {
        ContentStore s = i % 2 == 0 ? store : newPeer();
        Writer w = s.writer("same-" + i, Descriptor.of(digest, content.length));
        writers.add(w);
        w.write(content);
      }
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Callable<Boolean>> tasks = new ArrayList<>();
      for (Writer w : writers) {
        tasks.add(() -> {
          start.await();
          try {
            w.commit(content.length, digest, null);
            return true;
          } catch (AlreadyExistsException e) {
            return false;
          }
        });
      }
      List<Boolean> outcomes = runConcurrently(tasks);
      assertThat(outcomes.stream().filter(won -> won).count()).as("commits that won").isEqualTo(1);
      assertThat(outcomes.stream().filter(won -> !won).count()).isEqualTo(threads - 1);
    } finally {
      writers.forEach(Writer::close);
    }
    assertThat(store.info(digest).size()).isEqualTo(content.length);
    assertThat(readBlob(digest)).isEqualTo(content);
    assertThat(store.listStatuses()).isEmpty();
    assertThat(walk()).containsExactly(digest);
  }

  @Test
  public void concurrentRefsAndDerefsKeepTheCount() throws Exception {
    int threads = 4;
    int refs = 6;
    int derefs = 3;
    Digest digest = referencedBlob("counted");
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      ContentStore s = t % 2 == 0 ? store : newPeer();
      tasks.add(() -> {
        start.await();
        for (int i = 0; i < refs; i++) {
          retryAborted(() -> s.ref(digest));
          if (i < derefs) {
            retryAborted(() -> s.deref(digest));
          }
        }
        return null;
      });
    }
    runConcurrently(tasks);
    assertRefCount(digest, 1 + (long) threads * (refs - derefs));
  }

  @Test
  public void concurrentLabelUpdatesAreNotLost() throws Exception {
    int threads = 4;
    int updates = 5;
    Digest digest = writeBlob("labelled", randomBytes(100), Map.of("keep", "yes"));
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      ContentStore s = t % 2 == 0 ? store : newPeer();
      int thread = t;
      tasks.add(() -> {
        start.await();
        for (int i = 0; i < updates; i++) {
          String key = "t" + thread + "-" + i;
          retryAborted(() -> s.update(Info.forUpdate(digest, Map.of(key, "v")), "labels." + key));
        }
        return null;
      });
    }
    runConcurrently(tasks);
    Map<String, String> expected = new HashMap<>(Map.of("keep", "yes"));
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < updates; i++) {
        expected.put("t" + t + "-" + i, "v");
      }
    }
    assertThat(store.info(digest).labels()).isEqualTo(expected);
  }

  /** Runs {@code call} again while it fails with {@link AbortedException}, as the contract allows. */
  private static void retryAborted(Runnable call) {
    for (int attempt = 1; ; attempt++) {
      try {
        call.run();
        return;
      } catch (AbortedException e) {
        if (attempt == 20) {
          throw e;
        }
      }
    }
  }

  private static <T> List<T> runConcurrently(List<Callable<T>> tasks) throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(tasks.size());
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (Callable<T> task : tasks) {
        futures.add(executor.submit(task));
      }
      List<T> results = new ArrayList<>();
      for (Future<T> future : futures) {
        // A guard against a hung store, not a performance assertion.
        results.add(future.get(CONCURRENCY_GUARD.toSeconds(), TimeUnit.SECONDS));
      }
      return results;
    } finally {
      executor.shutdownNow();
      if (!executor.awaitTermination(1, TimeUnit.MINUTES)) {
        fail("concurrent tasks did not stop");
      }
    }
  }

  @Test
  public void zeroSizeBlob() {
    try (Writer w = store.writer("empty", Descriptor.of(Digest.EMPTY_SHA256, 0))) {
      assertThat(w.digest()).isEqualTo(Digest.EMPTY_SHA256);
      w.commit(0, Digest.EMPTY_SHA256, null);
    }
    Info info = store.info(Digest.EMPTY_SHA256);
    assertThat(info.size()).isZero();
    try (ReaderAt reader = store.readerAt(Digest.EMPTY_SHA256)) {
      assertThat(reader.size()).isZero();
      assertThat(reader.read(new byte[4], 0, 4, 0)).isEqualTo(-1);
    }
    assertThat(readBlob(Digest.EMPTY_SHA256)).isEmpty();
    assertThat(walk()).containsExactly(Digest.EMPTY_SHA256);
  }

  @Test
  public void sha512Blob() {
    nonCanonicalBlob(DigestAlgorithm.SHA512);
  }

  @Test
  public void sha384Blob() {
    nonCanonicalBlob(DigestAlgorithm.SHA384);
  }

  private void nonCanonicalBlob(DigestAlgorithm algorithm) {
    byte[] content = randomBytes(3000);
    Digest digest = Digest.of(algorithm, content);
    try (Writer w = store.writer(algorithm.label(), Descriptor.of(digest, content.length))) {
      assertThat(w.digest()).isEqualTo(Digest.of(algorithm, new byte[0]));
      w.write(content, 0, 1000);
      assertThat(w.digest()).isEqualTo(Digest.of(algorithm, Arrays.copyOf(content, 1000)));
      w.write(content, 1000, 2000);
      assertThat(w.digest()).isEqualTo(digest);
      w.commit(content.length, digest, null);
      assertThat(w.digest()).isEqualTo(digest);
    }
    Info info = store.info(digest);
    assertThat(info.digest().algorithm()).isEqualTo(algorithm);
    assertThat(info.size()).isEqualTo(3000);
    assertThat(readBlob(digest)).isEqualTo(content);
    assertThat(walk()).containsExactly(digest);
    assertThat(walk("digest~=^" + algorithm.label() + ":")).containsExactly(digest);
    assertFails(NotFoundException.class, () -> store.info(Digest.of(content)));
  }

  @Test
  public void sha512ResumeKnowsAlgorithm() {
    byte[] content = randomBytes(2000);
    Digest digest = Digest.of(DigestAlgorithm.SHA512, content);
    Descriptor descriptor = Descriptor.of(digest, content.length);
    try (Writer w = store.writer("sha512-resume", descriptor)) {
      w.write(content, 0, 700);
    }
    try (Writer w = store.writer("sha512-resume", descriptor)) {
      assertThat(w.digest())
          .isEqualTo(Digest.of(DigestAlgorithm.SHA512, Arrays.copyOf(content, 700)));
      w.write(content, 700, 1300);
      w.commit(content.length, digest, null);
    }
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void readsPastTheEnd() {
    byte[] content = randomBytes(1000);
    Digest digest = writeBlob("reads", content);
    try (ReaderAt reader = store.readerAt(digest)) {
      assertThat(reader.size()).isEqualTo(1000);
      byte[] buffer = new byte[100];
      assertThat(reader.read(buffer, 0, 100, 1000)).isEqualTo(-1);
      assertThat(reader.read(buffer, 0, 100, 5000)).isEqualTo(-1);
      ByteBuffer straddling = ByteBuffer.allocate(100);
      assertThat(reader.read(straddling, 950)).isEqualTo(50);
      assertThat(straddling.position()).isEqualTo(50);
      assertThat(Arrays.copyOf(straddling.array(), 50))
          .isEqualTo(Arrays.copyOfRange(content, 950, 1000));
      assertThat(reader.read(buffer, 10, 30, 500)).isEqualTo(30);
      assertThat(Arrays.copyOfRange(buffer, 10, 40)).isEqualTo(Arrays.copyOfRange(content, 500, 530));
      assertFails(InvalidArgumentException.class, () -> reader.read(ByteBuffer.allocate(1), -1));
    }
  }

  @Test
  public void readerAfterCloseFails() {
    Digest digest = writeBlob("closed-reader", randomBytes(10));
    ReaderAt reader = store.readerAt(digest);
    reader.close();
    assertThatCode(reader::close).doesNotThrowAnyException();
    assertFails(FailedPreconditionException.class, () -> reader.read(ByteBuffer.allocate(1), 0));
  }

  @Test
  public void walkSeesExactlyCommittedDigests() {
    Set<Digest> committed = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      committed.add(writeBlob("walk-" + i, randomBytes(100 + i)));
    }
    try (Writer w = store.writer("uncommitted", Descriptor.UNKNOWN)) {
      w.write(randomBytes(100));
    }
    assertThat(walk()).isEqualTo(committed);
  }

  @Test
  public void walkStopsOnException() {
    for (int i = 0; i < 3; i++) {
      writeBlob("walk-" + i, randomBytes(10 + i));
    }
    List<Info> seen = new ArrayList<>();
    IllegalStateException stop = new IllegalStateException("stop");
    assertThatThrownBy(() -> store.walk(info -> {
      seen.add(info);
      throw stop;
    })).isSameAs(stop);
    assertThat(seen).hasSize(1);
  }

  @Test
  public void deleteThenInfoIsNotFound() {
    byte[] content = randomBytes(100);
    Digest digest = writeBlob("delete", content);
    Digest kept = writeBlob("kept", randomBytes(100));
    store.delete(digest);
    assertFails(NotFoundException.class, digest.toString(), () -> store.info(digest));
    assertFails(NotFoundException.class, () -> store.readerAt(digest));
    assertFails(NotFoundException.class, () -> store.delete(digest));
    assertThat(walk()).containsExactly(kept);
    // The content can be written again.
    assertThat(writeBlob("again", content)).isEqualTo(digest);
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void abortRemovesIngest() {
    try (Writer w = store.writer("aborted", Descriptor.UNKNOWN)) {
      w.write(randomBytes(100));
    }
    store.writer("kept", Descriptor.UNKNOWN).close();
    store.abort("aborted");
    assertFails(NotFoundException.class, "aborted", () -> store.status("aborted"));
    assertThat(listRefs()).containsExactly("kept");
    assertFails(NotFoundException.class, "aborted", () -> store.abort("aborted"));
    try (Writer w = store.writer("aborted", Descriptor.UNKNOWN)) {
      assertThat(w.status().offset()).isZero();
      assertThat(w.digest()).isEqualTo(Digest.EMPTY_SHA256);
    }
  }

  @Test
  public void abortOfOpenIngestIsUnavailable() {
    try (Writer w = store.writer("open", Descriptor.UNKNOWN)) {
      w.write(randomBytes(10));
      assertFails(UnavailableException.class, "open", () -> store.abort("open"));
      assertThat(w.status().offset()).isEqualTo(10);
    }
  }

  @Test
  public void secondWriterOnOpenRefIsUnavailable() {
    try (Writer w = store.writer("locked", Descriptor.UNKNOWN)) {
      assertLocked("locked");
      w.write(randomBytes(10));
      assertLocked("locked");
    }
    try (Writer w = peer().writer("locked", Descriptor.UNKNOWN)) {
      assertThat(w.status().offset()).isEqualTo(10);
      assertFails(UnavailableException.class, "locked",
          () -> store.writer("locked", Descriptor.UNKNOWN));
    }
  }

  @Test
  public void peerSeesCommittedBlobsAndIngests() {
    byte[] content = randomBytes(500);
    Digest digest = writeBlob("shared", content, Map.of("k", "v"));
    try (Writer w = store.writer("pending", Descriptor.UNKNOWN)) {
      w.write(content, 0, 100);
    }
    ContentStore peer = peer();
    assertThat(peer.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(Content.readBlob(peer, Descriptor.of(digest))).isEqualTo(content);
    assertThat(peer.status("pending").offset()).isEqualTo(100);
    try (Writer w = peer.writer("pending", Descriptor.UNKNOWN)) {
      assertThat(w.digest()).isEqualTo(digestOf(content, 100));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reference counts and links (semantics section 5).

  @Test
  public void commitWithoutReferenceStartsAtZero() {
    Digest digest = writeBlob("plain", randomBytes(100));
    Info info = store.info(digest);
    assertThat(info.refCount()).isZero();
    assertThat(info.links()).isEmpty();
  }

  @Test
  public void commitAndRefStartsAtOneAndAddsOneForExistingContent() {
    byte[] content = randomBytes(300);
    Digest digest = Digest.of(content);
    Info first;
    try (Writer w = store.writer("first", Descriptor.of(digest, 300))) {
      w.write(content);
      first = w.commitAndRef(300, digest, Map.of("k", "v"));
    }
    assertThat(first.digest()).isEqualTo(digest);
    assertThat(first.refCount()).isEqualTo(1);
    assertRefCount(digest, 1);
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));

    Info second = commitAndRef("second", content);
    assertThat(second.refCount()).isEqualTo(2);
    assertRefCount(digest, 2);
    assertFails(NotFoundException.class, () -> store.status("second"));
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void commitAndRefChecksSizeAndDigest() {
    byte[] content = randomBytes(100);
    try (Writer w = store.writer("checked", Descriptor.UNKNOWN)) {
      w.write(content);
      assertFails(FailedPreconditionException.class, () -> w.commitAndRef(99, null, null));
    }
    try (Writer w = store.writer("checked", Descriptor.UNKNOWN)) {
      assertFails(FailedPreconditionException.class, () -> w.commitAndRef(0, otherDigest(), null));
    }
    assertThat(store.status("checked").offset()).isEqualTo(100);
    assertFails(NotFoundException.class, () -> store.info(Digest.of(content)));
  }

  @Test
  public void putStoresNewContentWithoutReference() {
    byte[] content = randomBytes(200);
    Digest digest = Digest.of(content);
    Info info = store.put(content, digest, Map.of("k", "v"));
    assertThat(info.digest()).isEqualTo(digest);
    assertThat(info.size()).isEqualTo(200);
    assertThat(info.refCount()).isZero();
    assertThat(info.labels()).isEqualTo(Map.of("k", "v"));
    assertRefCount(digest, 0);
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(readBlob(digest)).isEqualTo(content);
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  public void putOfExistingContentIsAlreadyExists() {
    byte[] content = randomBytes(200);
    Digest digest = store.put(content, null, null).digest();
    assertFails(AlreadyExistsException.class, digest.toString(),
        () -> store.put(content, null, Map.of("k", "v")));
    assertThat(store.info(digest).labels()).isEmpty();
    assertRefCount(digest, 0);
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  public void putAndRefStartsAtOneAndAddsOneForExistingContent() {
    byte[] content = randomBytes(300);
    Digest digest = Digest.of(content);
    Info first = store.putAndRef(content, digest, Map.of("k", "v"));
    assertThat(first.digest()).isEqualTo(digest);
    assertThat(first.refCount()).isEqualTo(1);
    Info second = store.putAndRef(content, null, Map.of("other", "label"));
    assertThat(second.refCount()).isEqualTo(2);
    assertRefCount(digest, 2);
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(readBlob(digest)).isEqualTo(content);
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  public void putChecksDigestAndLabels() {
    byte[] content = randomBytes(100);
    Digest other = otherDigest();
    assertFails(FailedPreconditionException.class, other.toString(),
        () -> store.put(content, other, null));
    assertFails(FailedPreconditionException.class, Digest.of(content).toString(),
        () -> store.putAndRef(content, other, null));
    assertFails(InvalidArgumentException.class, () -> store.put(content, null, Map.of("", "v")));
    assertFails(InvalidArgumentException.class,
        () -> store.putAndRef(content, null, Map.of("", "v")));
    assertFails(NotFoundException.class, () -> store.info(Digest.of(content)));
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  public void putOfEmptyContent() {
    Info info = store.put(new byte[0], Digest.EMPTY_SHA256, null);
    assertThat(info.digest()).isEqualTo(Digest.EMPTY_SHA256);
    assertThat(info.size()).isZero();
    assertThat(readBlob(Digest.EMPTY_SHA256)).isEmpty();
    assertThat(store.putAndRef(new byte[0], null, null).refCount()).isEqualTo(1);
    assertRefCount(Digest.EMPTY_SHA256, 1);
  }

  @Test
  public void putResurrectsDeletedContent() {
    byte[] content = randomBytes(150);
    Digest digest = store.putAndRef(content, null, null).digest();
    store.deref(digest);
    assertFails(NotFoundException.class, () -> store.info(digest));
    Info again = store.put(content, digest, Map.of("k", "v"));
    assertThat(again.refCount()).isZero();
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(readBlob(digest)).isEqualTo(content);

    byte[] other = randomBytes(150);
    Digest otherDigest = store.putAndRef(other, null, null).digest();
    store.deref(otherDigest);
    assertThat(store.putAndRef(other, null, null).refCount()).isEqualTo(1);
    assertRefCount(otherDigest, 1);
    assertThat(readBlob(otherDigest)).isEqualTo(other);
  }

  /** A file of {@code content} in a new temporary directory. */
  protected static java.nio.file.Path file(byte[] content) {
    try {
      java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("coffer-conformance");
      dir.toFile().deleteOnExit();
      java.nio.file.Path file = dir.resolve("content");
      java.nio.file.Files.write(file, content);
      file.toFile().deleteOnExit();
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Below one part, and above (6 MiB: parts of the S3 store's 5 MiB), and empty. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {0, 300, 6 << 20})
  public void putFileStoresTheFileUnderItsDigestOnce(int size) throws IOException {
    byte[] content = randomBytes(size);
    Digest digest = Digest.of(content);
    java.nio.file.Path file = file(content);
    Info info = store.putFile(file, digest, Map.of("k", "v"));
    assertThat(info.digest()).isEqualTo(digest);
    assertThat(info.size()).isEqualTo(size);
    assertThat(info.refCount()).isZero();
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(readBlob(digest)).isEqualTo(content);
    assertFails(AlreadyExistsException.class, digest.toString(),
        () -> store.putFile(file, digest, Map.of("k", "other")));
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(store.putFileAndRef(file, digest, null).refCount()).isEqualTo(1);
    assertThat(store.putFileAndRef(file, digest, Map.of("k", "other")).refCount()).isEqualTo(2);
    assertRefCount(digest, 2);
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(store.listStatuses()).isEmpty();
  }

  /** The file changed after it was hashed: nothing is stored under either digest. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {300, 6 << 20})
  public void putFileOfOtherBytesThanExpectedStoresNothing(int size) throws IOException {
    byte[] content = randomBytes(size);
    Digest digest = Digest.of(content);
    byte[] changed = content.clone();
    changed[size / 2] ^= 1;
    java.nio.file.Path file = file(changed);
    assertFails(FailedPreconditionException.class, digest.toString(),
        () -> store.putFileAndRef(file, digest, null));
    assertFails(FailedPreconditionException.class, Digest.of(changed).toString(),
        () -> store.putFile(file, digest, null));
    assertFails(NotFoundException.class, () -> store.info(digest));
    assertFails(NotFoundException.class, () -> store.info(Digest.of(changed)));
    assertThat(store.listStatuses()).isEmpty();
    // The right bytes are then stored as usual.
    assertThat(store.putFileAndRef(file(content), digest, null).refCount()).isEqualTo(1);
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void putFileChecksItsArguments() {
    byte[] content = randomBytes(100);
    java.nio.file.Path file = file(content);
    assertFails(InvalidArgumentException.class,
        () -> store.putFile(file, Digest.of(content), Map.of("", "v")));
    assertFails(InvalidArgumentException.class, () -> store.putFile(file, null, null));
    assertFails(NotFoundException.class, () -> store.info(Digest.of(content)));
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  public void putFileResurrectsDeletedContent() throws IOException {
    byte[] content = randomBytes(150);
    Digest digest = store.putAndRef(content, null, null).digest();
    store.deref(digest);
    assertFails(NotFoundException.class, () -> store.info(digest));
    assertThat(store.putFileAndRef(file(content), digest, Map.of("k", "v")).refCount())
        .isEqualTo(1);
    assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void refAddsOne() {
    Digest digest = referencedBlob("r");
    assertThat(store.ref(digest).refCount()).isEqualTo(2);
    assertThat(store.ref(digest).refCount()).isEqualTo(3);
    assertRefCount(digest, 3);
    Digest plain = writeBlob("plain", randomBytes(100));
    assertThat(store.ref(plain).refCount()).isEqualTo(1);
  }

  @Test
  public void refOfUnknownIsNotFound() {
    Digest unknown = otherDigest();
    assertFails(NotFoundException.class, unknown.toString(), () -> store.ref(unknown));
    assertFails(NotFoundException.class, unknown.toString(), () -> store.deref(unknown));
  }

  @Test
  public void derefRemovesAtZero() {
    byte[] content = randomBytes(100);
    Digest digest = commitAndRef("r", content).digest();
    store.ref(digest);
    store.deref(digest);
    assertRefCount(digest, 1);
    assertThat(readBlob(digest)).isEqualTo(content);
    store.deref(digest);
    assertFails(NotFoundException.class, () -> store.info(digest));
    assertFails(NotFoundException.class, () -> store.readerAt(digest));
    assertFails(NotFoundException.class, () -> store.deref(digest));
    assertThat(walk()).isEmpty();
  }

  @Test
  public void derefOfUnreferencedBlobFails() {
    byte[] content = randomBytes(100);
    Digest digest = writeBlob("plain", content);
    assertFails(FailedPreconditionException.class, digest.toString(), () -> store.deref(digest));
    assertRefCount(digest, 0);
    assertThat(readBlob(digest)).isEqualTo(content);
  }

  @Test
  public void linkTransfersReference() {
    Digest to = referencedBlob("to");
    Digest from = referencedBlob("from");
    store.link(to, from);
    assertRefCount(to, 1);
    assertThat(store.info(from).links()).containsExactly(to);
    assertRefCount(from, 1);
    assertThat(store.info(to).links()).isEmpty();
  }

  @Test
  public void relinkDiscountsOneReference() {
    Digest to = referencedBlob("to");
    Digest from = referencedBlob("from");
    store.ref(to);
    store.link(to, from);
    assertRefCount(to, 2);
    store.link(to, from);
    assertRefCount(to, 1);
    assertThat(store.info(from).links()).containsExactly(to);
  }

  @Test
  public void linkOfUnknownIsNotFound() {
    Digest known = referencedBlob("known");
    Digest unknown = otherDigest();
    assertFails(NotFoundException.class, unknown.toString(), () -> store.link(unknown, known));
    assertFails(NotFoundException.class, unknown.toString(), () -> store.link(known, unknown));
    assertFails(NotFoundException.class, unknown.toString(), () -> store.unlink(unknown, known));
    assertFails(NotFoundException.class, unknown.toString(), () -> store.unlink(known, unknown));
    assertRefCount(known, 1);
    assertThat(store.info(known).links()).isEmpty();
  }

  @Test
  public void linkToUnreferencedBlobFails() {
    Digest to = writeBlob("plain", randomBytes(100));
    Digest from = referencedBlob("from");
    assertFails(FailedPreconditionException.class, to.toString(), () -> store.link(to, from));
    assertThat(store.info(from).links()).isEmpty();
    assertRefCount(to, 0);
  }

  @Test
  public void unlinkRemovesLinkAndDereferences() {
    Digest to = referencedBlob("to");
    Digest from = referencedBlob("from");
    store.ref(to);
    store.link(to, from);
    store.unlink(to, from);
    assertThat(store.info(from).links()).isEmpty();
    assertRefCount(to, 1);
    store.link(to, from);
    store.unlink(to, from);
    assertFails(NotFoundException.class, () -> store.info(to));
    assertThat(store.info(from).links()).isEmpty();
    assertRefCount(from, 1);
  }

  @Test
  public void unlinkOfAbsentLinkIsNoOp() {
    Digest to = referencedBlob("to");
    Digest from = referencedBlob("from");
    store.unlink(to, from);
    assertRefCount(to, 1);
    assertRefCount(from, 1);
    assertThat(store.info(from).links()).isEmpty();
    assertThat(store.info(to).links()).isEmpty();
  }

  @Test
  public void derefCascadesThroughLinks() {
    Digest a = referencedBlob("a");
    Digest b = referencedBlob("b");
    Digest c = referencedBlob("c");
    Digest other = referencedBlob("other");
    store.link(b, a);
    store.link(c, b);
    store.deref(a);
    for (Digest removed : List.of(a, b, c)) {
      assertFails(NotFoundException.class, () -> store.info(removed));
    }
    assertThat(walk()).containsExactly(other);
  }

  @Test
  public void derefCascadeStopsAtReferencedBlob() {
    Digest a = referencedBlob("a");
    Digest b = referencedBlob("b");
    Digest c = referencedBlob("c");
    store.link(b, a);
    store.link(c, b);
    store.ref(b);
    store.deref(a);
    assertFails(NotFoundException.class, () -> store.info(a));
    assertRefCount(b, 1);
    assertThat(store.info(b).links()).containsExactly(c);
    assertRefCount(c, 1);
  }

  @Test
  public void derefOfLinkCycleTerminatesAndRemovesAll() {
    Digest a = referencedBlob("a");
    Digest b = referencedBlob("b");
    Digest c = referencedBlob("c");
    store.link(b, a);
    store.link(c, b);
    store.link(a, c);
    assertRefCount(a, 1);
    assertThat(store.info(c).links()).containsExactly(a);
    store.deref(a);
    for (Digest removed : List.of(a, b, c)) {
      assertFails(NotFoundException.class, () -> store.info(removed));
    }
    assertThat(walk()).isEmpty();
  }

  @Test
  public void deleteReleasesItsLinksAndLeavesLinksToItDangling() {
    Digest a = referencedBlob("a");
    Digest b = referencedBlob("b");
    Digest c = referencedBlob("c");
    store.link(b, a);
    store.link(a, c);
    store.delete(a);
    assertFails(NotFoundException.class, () -> store.info(a));
    assertFails(NotFoundException.class, () -> store.info(b));
    assertRefCount(c, 1);
    assertThatCode(() -> store.deref(c)).doesNotThrowAnyException();
    assertThat(walk()).isEmpty();
  }

  /** PROTO-1: a reference of an earlier life of a blob is not spent on its later life. */
  @Test
  public void aDerefOfAnEarlierIncarnationIsNotFoundAndChangesNothing() {
    byte[] content = randomBytes(100);
    Info first = commitAndRef("first", content);
    store.delete(first.digest());
    Info second = commitAndRef("second", content);
    assertThat(second.incarnation()).isNotEqualTo(first.incarnation()).isNotZero();
    assertThat(store.ref(second.digest()).incarnation()).isEqualTo(second.incarnation());
    assertFails(NotFoundException.class, first.digest().toString(),
        () -> store.deref(first.digest(), first.incarnation()));
    assertRefCount(first.digest(), 2);
    store.deref(second.digest(), second.incarnation());
    assertRefCount(first.digest(), 1);
    assertThat(store.info(first.digest()).incarnation()).isEqualTo(second.incarnation());
  }

  /** PROTO-1: a link keeps the incarnation of its target; unlink and cascade spend only that. */
  @Test
  public void aLinkToAnEarlierIncarnationReleasesNothingOfTheNewOne() {
    byte[] content = randomBytes(100);
    Digest to = commitAndRef("to", content).digest();
    Digest viaCascade = referencedBlob("cascade");
    Digest viaUnlink = referencedBlob("unlink");
    store.ref(to);
    store.link(to, viaCascade);
    store.link(to, viaUnlink);
    store.delete(to);
    commitAndRef("to-again", content);

    store.unlink(to, viaUnlink);
    store.deref(viaCascade);

    assertRefCount(to, 1);
    assertThat(readBlob(to)).isEqualTo(content);
    assertThat(store.info(viaUnlink).links()).isEmpty();
  }

  /**
   * PROTO-1: linking again to a blob committed anew replaces a link to its earlier incarnation and
   * takes the caller's reference into it; it does not count as linked already (the protocol
   * checker's seed 1 with incarnations found this).
   */
  @Test
  public void aLinkAgainToALaterIncarnationReplacesTheStaleLinkAndKeepsTheReference() {
    byte[] content = randomBytes(100);
    Digest to = commitAndRef("to", content).digest();
    Digest from = referencedBlob("from");
    store.link(to, from);
    store.deref(to);
    assertFails(NotFoundException.class, () -> store.info(to));
    commitAndRef("to-again", content);
    store.ref(to);

    store.link(to, from);

    assertRefCount(to, 2);
    store.unlink(to, from);
    assertRefCount(to, 1);
    assertThat(readBlob(to)).isEqualTo(content);
  }

  /**
   * {@code linkAll} has, for each target, the outcome of {@code link}: a new target's reference
   * passes to its link, a target linked already loses the caller's reference, and a link to an
   * earlier incarnation of a target is replaced and keeps the new reference (PROTO-1).
   */
  @Test
  public void linkAllHasTheOutcomeOfALinkToEachTarget() {
    Digest fresh = referencedBlob("fresh");
    Digest already = referencedBlob("already");
    byte[] content = randomBytes(100);
    Digest renewed = commitAndRef("renewed", content).digest();
    Digest from = referencedBlob("from");
    store.link(already, from);
    store.ref(already);
    store.link(renewed, from);
    store.deref(renewed);
    assertFails(NotFoundException.class, () -> store.info(renewed));
    commitAndRef("renewed-again", content);
    store.ref(renewed);

    store.linkAll(List.of(fresh, already, renewed), from);

    assertThat(store.info(from).links()).containsExactlyInAnyOrder(fresh, already, renewed);
    assertRefCount(fresh, 1);
    assertRefCount(already, 1);
    assertRefCount(renewed, 2);
    assertRefCount(from, 1);
    store.unlink(renewed, from);
    assertRefCount(renewed, 1);
    store.deref(from);
    assertFails(NotFoundException.class, () -> store.info(fresh));
    assertFails(NotFoundException.class, () -> store.info(already));
    assertRefCount(renewed, 1);
    assertThat(readBlob(renewed)).isEqualTo(content);
  }

  /** {@code linkAll} to a missing target, or from a missing blob, is NotFound. */
  @Test
  public void linkAllToOrFromAMissingBlobIsNotFound() {
    Digest to = referencedBlob("to");
    Digest from = referencedBlob("from");
    assertFails(NotFoundException.class, () -> store.linkAll(List.of(otherDigest()), from));
    assertFails(NotFoundException.class, () -> store.linkAll(List.of(to), otherDigest()));
    assertRefCount(to, 1);
  }

  /** {@code linkAll} with no targets changes nothing. */
  @Test
  public void linkAllWithNoTargetsChangesNothing() {
    Digest from = referencedBlob("from");
    store.linkAll(List.of(), from);
    assertThat(store.info(from).links()).isEmpty();
    assertRefCount(from, 1);
  }

  /**
   * {@code linkNew} gives each target {@code from} does not link to yet one reference, held by
   * the new link (a target at count 0 included); a target linked already is untouched, a link to
   * an earlier incarnation is replaced by one holding a reference of the new incarnation
   * (PROTO-1), and the caller's references are not used: a second call changes nothing.
   */
  @Test
  public void linkNewGivesEachNewTargetOneReferenceHeldByItsLinkAndARerunIsExact() {
    Digest unreferenced = writeBlob("unreferenced", randomBytes(100));
    Digest held = referencedBlob("held");
    Digest already = referencedBlob("already");
    byte[] content = randomBytes(100);
    Digest renewed = commitAndRef("renewed", content).digest();
    Digest from = referencedBlob("from");
    store.link(already, from);
    store.link(renewed, from);
    store.deref(renewed);
    assertFails(NotFoundException.class, () -> store.info(renewed));
    commitAndRef("renewed-again", content);

    List<Digest> targets = List.of(unreferenced, held, already, renewed, held);
    store.linkNew(targets, from);

    assertThat(store.info(from).links())
        .containsExactlyInAnyOrder(unreferenced, held, already, renewed);
    assertRefCount(unreferenced, 1);
    assertRefCount(held, 2);
    assertRefCount(already, 1);
    assertRefCount(renewed, 2);
    assertRefCount(from, 1);

    store.linkNew(targets, from); // a rerun: every link is there already

    assertRefCount(unreferenced, 1);
    assertRefCount(held, 2);
    assertRefCount(already, 1);
    assertRefCount(renewed, 2);
    store.deref(from);
    assertFails(NotFoundException.class, () -> store.info(unreferenced));
    assertFails(NotFoundException.class, () -> store.info(already));
    assertRefCount(held, 1);
    assertRefCount(renewed, 1);
    assertThat(readBlob(renewed)).isEqualTo(content);
  }

  /**
   * {@code newLinks(from)} (the mark at creation): content its put creates ends, once linked, with
   * exactly the one reference its link holds, whatever the store counted in between; content
   * found stored is AlreadyExists and unchanged by the put, and gains the link's reference at the
   * link; a rerun of the link changes nothing; from a missing blob it is NotFound naming it.
   */
  @Test
  public void newLinksCreatesContentHeldByItsLinkAndALinkOfStoredContentIsExact() {
    Digest from = referencedBlob("from");
    Digest held = referencedBlob("held");
    byte[] heldContent = readBlob(held);
    NewLinks links = store.newLinks(from);
    assertThat(links.from()).isEqualTo(from);
    byte[] content = randomBytes(100);
    Digest created = links.put(content, null, Map.of()).digest();
    assertFails(AlreadyExistsException.class, () -> links.put(heldContent, held, Map.of()));
    assertRefCount(held, 1);

    links.link(List.of(created, held, created));

    assertThat(store.info(from).links()).containsExactlyInAnyOrder(created, held);
    assertRefCount(created, 1);
    assertRefCount(held, 2);
    links.link(List.of(created, held)); // a rerun: every link is there already
    assertRefCount(created, 1);
    assertRefCount(held, 2);
    assertThat(readBlob(created)).isEqualTo(content);
    store.deref(from);
    assertFails(NotFoundException.class, () -> store.info(created));
    assertRefCount(held, 1);
    Digest missing = otherDigest();
    assertFails(NotFoundException.class, missing.toString(), () -> store.newLinks(missing));
  }

  /**
   * {@code newLinks(from).putFile}: a file put through the operation (below one part, and in
   * parts: 6 MiB against the S3 store's 5 MiB) ends, once linked, with exactly the one reference
   * its link holds, its bytes those of the file; stored content is AlreadyExists and unchanged;
   * a file whose bytes are not the expected digest's stores nothing.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(ints = {300, 6 << 20})
  public void newLinksPutFileCreatesContentHeldByItsLink(int size) throws IOException {
    Digest from = referencedBlob("from");
    Digest held = referencedBlob("held");
    NewLinks links = store.newLinks(from);
    byte[] content = randomBytes(size);
    Digest created = Digest.of(content);
    assertThat(links.putFile(file(content), created, Map.of()).digest()).isEqualTo(created);
    assertFails(AlreadyExistsException.class,
        () -> links.putFile(file(readBlob(held)), held, Map.of()));
    byte[] other = randomBytes(size);
    Digest otherDigest = Digest.of(randomBytes(size));
    assertFails(FailedPreconditionException.class,
        () -> links.putFile(file(other), otherDigest, Map.of()));
    assertFails(NotFoundException.class, () -> store.info(otherDigest));
    assertRefCount(held, 1);

    links.link(List.of(created, held));

    assertThat(store.info(from).links()).containsExactlyInAnyOrder(created, held);
    assertRefCount(created, 1);
    assertRefCount(held, 2);
    assertThat(readBlob(created)).isEqualTo(content);
    store.deref(from);
    assertFails(NotFoundException.class, () -> store.info(created));
    assertRefCount(held, 1);
  }

  /**
   * {@code linkNew} to a missing target, or from a missing blob, is NotFound naming it, and
   * changes nothing: no link, no reference.
   */
  @Test
  public void linkNewToOrFromAMissingBlobIsNotFoundNamingItAndChangesNothing() {
    Digest to = referencedBlob("to");
    Digest from = referencedBlob("from");
    Digest missing = otherDigest();
    assertFails(NotFoundException.class, missing.toString(),
        () -> store.linkNew(List.of(to, missing), from));
    assertFails(NotFoundException.class, missing.toString(),
        () -> store.linkNew(List.of(to), missing));
    assertThat(store.info(from).links()).isEmpty();
    assertRefCount(to, 1);
    assertRefCount(from, 1);
    Digest deleted = referencedBlob("deleted");
    store.deref(deleted);
    assertFails(NotFoundException.class, deleted.toString(),
        () -> store.linkNew(List.of(deleted, to), from));
    assertThat(store.info(from).links()).isEmpty();
    assertRefCount(to, 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Maintenance: gc and fsck.

  @Test
  public void gcRemovesAbandonedIngestsAndKeepsOpenOnesAndBlobs() {
    Digest kept = writeBlob("committed", randomBytes(100));
    try (Writer abandoned = store.writer("abandoned", Descriptor.UNKNOWN)) {
      abandoned.write(randomBytes(300));
    }
    try (Writer open = store.writer("open", Descriptor.UNKNOWN)) {
      open.write(randomBytes(10));

      GcReport dry = store.gc(new GcOptions(Duration.ZERO, true));
      assertThat(dry.ingestsRemoved()).isEqualTo(1);
      assertThat(listRefs()).containsExactlyInAnyOrder("abandoned", "open");

      GcReport report = store.gc(new GcOptions(Duration.ZERO, false));
      assertThat(report.ingestsRemoved()).isEqualTo(1);
      assertThat(report.bytesFreed()).isGreaterThanOrEqualTo(300);
      assertThat(report.skipped()).extracting(GcReport.Skip::subject).contains("open");
      assertThat(listRefs()).containsExactly("open");
      assertFails(NotFoundException.class, () -> store.status("abandoned"));
      open.write(randomBytes(5));
      assertThat(open.status().offset()).isEqualTo(15);
    }
    assertThat(readBlob(kept)).hasSize(100);
    assertThat(store.status("open").offset()).isEqualTo(15);
  }

  @Test
  public void gcKeepsIngestsYoungerThanTheAge() {
    try (Writer w = store.writer("young", Descriptor.UNKNOWN)) {
      w.write(randomBytes(10));
    }
    assertThat(store.gc(new GcOptions(Duration.ofHours(1), false)).ingestsRemoved()).isZero();
    assertThat(listRefs()).containsExactly("young");
  }

  @Test
  public void gcNeverRemovesReferencedOrUnreferencedLiveBlobs() {
    Digest referenced = referencedBlob("referenced");
    Digest plain = writeBlob("plain", randomBytes(64));
    Digest released = referencedBlob("released");
    store.deref(released);
    store.gc(new GcOptions(Duration.ZERO, false));
    assertRefCount(referenced, 1);
    assertThat(store.info(plain).refCount()).isZero();
    assertFails(NotFoundException.class, () -> store.info(released));
    byte[] again = "released".getBytes(StandardCharsets.UTF_8);
    Info back = commitAndRef("released-again", again);
    assertThat(back.refCount()).isEqualTo(1);
    assertThat(readBlob(back.digest())).isEqualTo(again);
  }

  @Test
  public void fsckOfAConsistentStoreIsClean() {
    Digest a = referencedBlob("a");
    Digest b = referencedBlob("b");
    store.link(b, a);
    FsckReport report = store.fsck(false);
    assertThat(report.findings()).isEmpty();
    assertThat(report.clean()).isTrue();
    assertThat(report.blobsChecked()).isGreaterThanOrEqualTo(2);
  }

  @Test
  public void fsckReportsAndRepairsADanglingLink() {
    Digest a = referencedBlob("a");
    Digest b = referencedBlob("b");
    store.link(b, a);
    store.delete(b);

    FsckReport found = store.fsck(false);
    assertThat(found.findings()).singleElement().satisfies(f -> {
      assertThat(f.kind()).isEqualTo(FsckReport.Kind.DANGLING_LINK);
      assertThat(f.subject()).isEqualTo(a.toString());
      assertThat(f.detail()).contains(b.toString());
      assertThat(f.repaired()).isFalse();
    });
    assertThat(found.clean()).isFalse();

    FsckReport repaired = store.fsck(true);
    assertThat(repaired.findings()).singleElement().satisfies(f -> assertThat(f.repaired()).isTrue());
    assertThat(store.info(a).links()).isEmpty();
    assertRefCount(a, 1);
    assertThat(store.fsck(false).findings()).isEmpty();
  }
}
