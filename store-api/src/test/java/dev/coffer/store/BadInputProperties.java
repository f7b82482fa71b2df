package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.coffer.store.BadInputs.Expected;
import dev.coffer.store.BadInputs.LabelCase;
import dev.coffer.store.BadInputs.ReadCase;
import dev.coffer.store.BadInputs.SizeCase;
import dev.coffer.store.spi.Messages;
import dev.coffer.store.spi.Refs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Property-based checks of a {@link ContentStore} against bad input, reusable by every
 * implementation like {@link ConformanceSuite}: subclass it and implement {@link #createStore()}.
 *
 * <p>Generated digests, refs, labels, filters, sizes and offsets go through the public API. Every
 * call must either succeed (valid input) or fail with the error class the contract names, whose
 * message names the offending value; no other exception may escape. Per operation:
 * <ul>
 *   <li>a malformed digest string, ref, label, fieldpath, filter, negative size or offset:
 *       {@link InvalidArgumentException};
 *   <li>a well-formed digest or ref that the store does not hold: {@link NotFoundException}, or
 *       {@link InvalidArgumentException} where the same call also carries a malformed label or
 *       fieldpath (a store may validate before or after looking the digest up);
 *   <li>a commit whose size or digest disagrees with the bytes written:
 *       {@link FailedPreconditionException}, and the ingest is kept at its offset;
 *   <li>a truncate to a size between 0 and the offset: success or {@link InvalidArgumentException}
 *       (a store need only support {@code truncate(0)}).
 * </ul>
 * Blobs seeded before the run must end with the same info and bytes.
 *
 * <p>Each property is a {@link TestFactory} of {@link #tries()} cases, each a dynamic test named
 * by its number and input, drawn by {@link PropertyCases} from the generators of
 * {@link BadInputs}: their edge cases (empty and longest values, the bounds of each limit and one
 * past them, non-ASCII text) in the even-numbered cases while they last, random inputs in the
 * others. The seed is fixed, so every run tries the same inputs; {@code -Dcoffer.props.seed=N}
 * (or {@code random}) draws others, {@code -Dcoffer.props.tries=N} sets the number of cases and
 * {@code -Dcoffer.props.case=N} runs one case. A failure names the property, the case, its input
 * and the seed, and the properties that rerun it.
 *
 * <p>Each property gets a fresh store from {@link #createStore()}, seeded with three blobs, which
 * all its cases share; {@link #afterRun(ContentStore)} is called before it is closed.
 */
public abstract class BadInputProperties {

  private static final AtomicLong SEQUENCE = new AtomicLong();

  /** The store under test, fresh for each property. */
  protected ContentStore store;
  private final List<Seed> seeds = new ArrayList<>();

  /** A seeded blob: its info and bytes as they were before the run. */
  private record Seed(Info info, byte[] bytes) {}

  /** A new, empty store, independent of every store returned before. */
  protected abstract ContentStore createStore();

  /** Checks made after each property, before the store is closed; none by default. */
  protected void afterRun(ContentStore store) {}

  /**
   * The number of cases of each property; 1,000 by default, which a module may lower for slow
   * backends. {@code -Dcoffer.props.tries} overrides it.
   */
  protected int tries() {
    return 1000;
  }

  private <T> Stream<DynamicTest> cases(String property, Gen<T> gen,
      Function<? super T, String> show, Consumer<? super T> check) {
    return PropertyCases.cases(property, tries(), gen, show, check);
  }

  @BeforeEach
  final void seed() {
    store = createStore();
    byte[] plain = "seed: plain".getBytes(StandardCharsets.UTF_8);
    byte[] labelled = "seed: labelled".getBytes(StandardCharsets.UTF_8);
    byte[] linked = "seed: linked".getBytes(StandardCharsets.UTF_8);
    Digest a = commit("seed-plain", plain, null, false);
    Digest b = commit("seed-labelled", labelled, Map.of("k", "v", "containerd.io/gc.root", "t"),
        true);
    Digest c = commit("seed-linked", linked, null, true);
    store.ref(c);
    store.link(c, b);
    // In this order, so that a case that picks a seeded blob by number picks the same one.
    seeds.add(new Seed(store.info(a), plain));
    seeds.add(new Seed(store.info(b), labelled));
    seeds.add(new Seed(store.info(c), linked));
  }

  @AfterEach
  final void checkSeedsAndClose() {
    try {
      for (Seed seed : seeds) {
        assertThat(store.info(seed.info().digest())).as("info of seeded %s", seed.info().digest())
            .isEqualTo(seed.info());
        assertThat(Content.readBlob(store, seed.info().descriptor()))
            .as("bytes of seeded %s", seed.info().digest()).isEqualTo(seed.bytes());
      }
      afterRun(store);
    } finally {
      store.close();
    }
  }

  private Digest commit(String ref, byte[] bytes, Map<String, String> labels, boolean takeRef) {
    Writer writer = store.writer(ref, Descriptor.UNKNOWN);
    writer.write(bytes);
    Digest digest = Digest.of(bytes);
    if (takeRef) {
      writer.commitAndRef(bytes.length, digest, labels);
    } else {
      writer.commit(bytes.length, digest, labels);
    }
    return digest;
  }

  private Digest seeded(int i) {
    return seeds.get(i).info().digest();
  }

  private boolean isSeeded(Digest digest) {
    return seeds.stream().anyMatch(s -> s.info().digest().equals(digest));
  }

  /** Unique bytes for one try, so that no two tries commit the same content. */
  private static byte[] unique(int length) {
    byte[] bytes = new byte[Math.max(length, 8)];
    ByteBuffer.wrap(bytes).putLong(SEQUENCE.incrementAndGet() ^ System.nanoTime() << 20);
    Arrays.fill(bytes, 8, bytes.length, (byte) 'x');
    return bytes;
  }

  private static String freshRef(String what) {
    return "prop-" + what + "-" + SEQUENCE.incrementAndGet() + "-" + System.nanoTime();
  }

  // ---- outcomes

  /** Runs {@code call} and returns what it threw, or null; anything but a StoreException fails. */
  private static StoreException outcome(String what, Runnable call) {
    try {
      call.run();
      return null;
    } catch (StoreException e) {
      return e;
    } catch (RuntimeException | Error e) {
      throw new AssertionError(what + " threw " + e + ", outside the store's error classes", e);
    }
  }

  private static <T> T succeeds(String what, Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException | Error e) {
      throw new AssertionError(what + " should succeed but threw " + e, e);
    }
  }

  /** Asserts {@code call} throws exactly one of {@code classes} with a message naming a value. */
  @SafeVarargs
  private static StoreException fails(String what, Runnable call, List<String> named,
      Class<? extends StoreException>... classes) {
    StoreException e = outcome(what, call);
    if (e == null) {
      fail(what + " should fail with " + Arrays.toString(classes) + " but succeeded");
    }
    if (Arrays.stream(classes).noneMatch(c -> c.isInstance(e))) {
      throw new AssertionError(what + " threw " + e + ", expected one of "
          + Arrays.toString(classes), e);
    }
    assertNames(what, e, named);
    return e;
  }

  /** The message of {@code e} quotes one of the values, as given or as shown in messages. */
  private static void assertNames(String what, StoreException e, List<String> values) {
    String message = e.getMessage();
    assertThat(message).as("message of %s", what).isNotNull();
    for (String value : values) {
      if (value == null || value.isEmpty()) {
        if (message.contains("\"\"") || message.contains("empty")) {
          return;
        }
      } else if (message.contains(value) || message.contains(Messages.printable(value))) {
        return;
      }
    }
    fail("the message of " + what + " names none of " + shorten(values) + ": " + message);
  }

  private static String shorten(List<String> values) {
    return values.stream().map(v -> v == null ? "null" : Messages.printable(v)).toList().toString();
  }

  // ---- digests

  /** A digest string parses exactly when it is well formed; an absent digest is NotFound. */
  @TestFactory
  Stream<DynamicTest> digestStringsParseOrAreRefusedAndAbsentDigestsAreNotFound() {
    return cases("digestStringsParseOrAreRefusedAndAbsentDigestsAreNotFound",
        BadInputs.digestStrings(), PropertyCases::quote, this::digestStringParsesOrIsRefused);
  }

  private void digestStringParsesOrIsRefused(String value) {
    StoreException refused = outcome("Digest.parse", () -> Digest.parse(value));
    boolean wellFormed = isWellFormedDigest(value);
    if (!wellFormed) {
      fails("Digest.parse(\"" + Messages.printable(value) + "\")", () -> Digest.parse(value),
          List.of(value), InvalidArgumentException.class);
      return;
    }
    assertThat(refused).as("Digest.parse of well-formed \"%s\"", value).isNull();
    Digest digest = Digest.parse(value);
    assertThat(digest.toString()).isEqualTo(value);
    assertThat(new Digest(digest.algorithm(), digest.hex())).isEqualTo(digest);
    if (isSeeded(digest)) {
      return;
    }
    List<String> named = List.of(value);
    Digest other = seeded(0);
    Map<String, Runnable> calls = new LinkedHashMap<>();
    calls.put("info", () -> store.info(digest));
    calls.put("readerAt", () -> store.readerAt(digest).close());
    calls.put("update", () -> store.update(Info.forUpdate(digest, Map.of("k", "v"))));
    calls.put("delete", () -> store.delete(digest));
    calls.put("ref", () -> store.ref(digest));
    calls.put("deref", () -> store.deref(digest));
    calls.put("link to", () -> store.link(digest, other));
    calls.put("link from", () -> store.link(other, digest));
    calls.put("unlink to", () -> store.unlink(digest, other));
    calls.put("unlink from", () -> store.unlink(other, digest));
    calls.forEach((name, call) -> fails(name + " of absent " + value, call, named,
        NotFoundException.class));
  }

  /** The digest record takes exactly the hex of its algorithm's length in lower case. */
  @TestFactory
  Stream<DynamicTest> digestHexOfTheWrongShapeIsRefusedByTheRecord() {
    return cases("digestHexOfTheWrongShapeIsRefusedByTheRecord", BadInputs.digestStrings(),
        PropertyCases::quote, BadInputProperties::digestHexIsTakenOrRefused);
  }

  private static void digestHexIsTakenOrRefused(String value) {
    int colon = value.indexOf(':');
    String hex = colon < 0 ? value : value.substring(colon + 1);
    for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
      boolean valid = hex.length() == algorithm.hexLength() && hex.chars()
          .allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
      if (valid) {
        assertThat(succeeds("new Digest", () -> new Digest(algorithm, hex)).hex()).isEqualTo(hex);
      } else {
        fails("new Digest(" + algorithm + ", \"" + Messages.printable(hex) + "\")",
            () -> new Digest(algorithm, hex), List.of(algorithm + ":" + hex),
            InvalidArgumentException.class);
      }
    }
  }

  /** An independent statement of the digest grammar in content-store-semantics.md. */
  private static boolean isWellFormedDigest(String value) {
    int colon = value.indexOf(':');
    if (colon < 0) {
      return false;
    }
    int length = switch (value.substring(0, colon)) {
      case "sha256" -> 64;
      case "sha384" -> 96;
      case "sha512" -> 128;
      default -> -1;
    };
    String hex = value.substring(colon + 1);
    return hex.length() == length
        && hex.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }

  // ---- refs

  /** The ref rules of {@link Refs}, stated independently. */
  private static boolean isValidRef(String ref) {
    return !ref.isEmpty() && isWellFormedUtf16(ref)
        && ref.chars().noneMatch(Character::isISOControl)
        && ref.getBytes(StandardCharsets.UTF_8).length <= Refs.MAX_REF_BYTES;
  }

  private static boolean isWellFormedUtf16(String s) {
    return s.codePoints().noneMatch(cp -> cp >= 0xd800 && cp <= 0xdfff);
  }

  /**
   * A valid ref opens a writer whose ingest can be resumed, listed and aborted; an invalid one is
   * refused by every call that takes a ref; an absent valid ref is NotFound.
   */
  @TestFactory
  Stream<DynamicTest> refsAreAcceptedOrRefusedByEveryCall() {
    return cases("refsAreAcceptedOrRefusedByEveryCall", BadInputs.refs(), PropertyCases::quote,
        this::refIsAcceptedOrRefused);
  }

  private void refIsAcceptedOrRefused(String ref) {
    List<String> named = List.of(ref);
    String shown = "\"" + Messages.printable(ref) + "\"";
    if (!isValidRef(ref)) {
      fails("writer(" + shown + ")", () -> store.writer(ref, Descriptor.UNKNOWN), named,
          InvalidArgumentException.class);
      fails("status(" + shown + ")", () -> store.status(ref), named,
          InvalidArgumentException.class);
      fails("abort(" + shown + ")", () -> store.abort(ref), named,
          InvalidArgumentException.class);
      assertThat(store.listStatuses()).as("ingests after refusing %s", shown).isEmpty();
      return;
    }
    fails("status(" + shown + ")", () -> store.status(ref), named, NotFoundException.class);
    fails("abort(" + shown + ")", () -> store.abort(ref), named, NotFoundException.class);
    byte[] bytes = unique(16);
    try (Writer writer = succeeds("writer(" + shown + ")",
        () -> store.writer(ref, Descriptor.UNKNOWN))) {
      writer.write(bytes);
    }
    Status status = succeeds("status(" + shown + ")", () -> store.status(ref));
    assertThat(status.ref()).isEqualTo(ref);
    assertThat(status.offset()).isEqualTo(bytes.length);
    assertThat(store.listStatuses()).extracting(Status::ref).containsExactly(ref);
    try (Writer resumed = store.writer(ref, Descriptor.UNKNOWN)) {
      assertThat(resumed.status().offset()).isEqualTo(bytes.length);
      assertThat(resumed.digest()).isEqualTo(Digest.of(bytes));
    }
    store.abort(ref);
    fails("status(" + shown + ") after abort", () -> store.status(ref), named,
        NotFoundException.class);
  }

  // ---- labels

  /**
   * containerd's label rule, stated independently: non-empty key, key + value ≤ 4096 bytes; and
   * both text (no unpaired surrogate: no UTF-8, so no record or protobuf message, can hold one).
   */
  private static List<String> invalidKeys(Map<String, String> labels) {
    List<String> invalid = new ArrayList<>();
    labels.forEach((k, v) -> {
      if (k.isEmpty() || !isWellFormedUtf16(k) || !isWellFormedUtf16(v)
          || k.getBytes(StandardCharsets.UTF_8).length
          + v.getBytes(StandardCharsets.UTF_8).length > 4096) {
        invalid.add(k);
      }
    });
    return invalid;
  }

  private static Map<String, String> withoutEmptyValues(Map<String, String> labels) {
    Map<String, String> kept = new TreeMap<>(labels);
    kept.values().removeIf(String::isEmpty);
    return kept;
  }

  /**
   * A commit with invalid labels is refused naming a key and keeps the ingest; a commit with
   * valid ones stores exactly the non-empty ones. An update of the new blob with other labels
   * and fieldpaths either applies them or is refused, and never stores an invalid label.
   */
  @TestFactory
  Stream<DynamicTest> labelsAreStoredOrRefusedAtCommitAndUpdate() {
    return cases("labelsAreStoredOrRefusedAtCommitAndUpdate", BadInputs.labelCases(),
        c -> "labels " + show(c.labels()) + ", update " + show(c.update()) + ", fieldpaths "
            + c.fieldpaths().stream().map(PropertyCases::quote).toList(),
        this::labelsAreStoredOrRefused);
  }

  private static String show(Map<String, String> labels) {
    StringBuilder sb = new StringBuilder("{");
    labels.forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(PropertyCases.quote(k))
        .append('=').append(PropertyCases.quote(v)));
    return sb.append('}').toString();
  }

  private void labelsAreStoredOrRefused(LabelCase c) {
    Map<String, String> labels = c.labels();
    Map<String, String> update = c.update();
    List<String> fieldpaths = c.fieldpaths();
    String ref = freshRef("labels");
    byte[] bytes = unique(32);
    Digest digest = Digest.of(bytes);
    List<String> invalid = invalidKeys(labels);
    Writer writer = store.writer(ref, Descriptor.UNKNOWN);
    writer.write(bytes);
    if (!invalid.isEmpty()) {
      fails("commit with labels " + shorten(invalid), () -> writer.commit(0, null, labels),
          invalid, InvalidArgumentException.class);
      assertThat(store.status(ref).offset()).as("the ingest kept").isEqualTo(bytes.length);
      store.abort(ref);
      return;
    }
    succeeds("commit with valid labels", () -> {
      writer.commit(bytes.length, digest, labels);
      return null;
    });
    Info committed = store.info(digest);
    assertThat(committed.labels()).isEqualTo(withoutEmptyValues(labels));
    List<String> updateInvalid = invalidKeys(update);
    boolean pathsValid = fieldpaths.stream().allMatch(
        p -> p != null && (p.equals("labels") || p.startsWith("labels.") && p.length() > 7));
    String[] paths = fieldpaths.toArray(String[]::new);
    List<String> named = new ArrayList<>(updateInvalid);
    fieldpaths.stream().filter(p -> p != null && !p.equals("labels")
        && !(p.startsWith("labels.") && p.length() > 7)).forEach(named::add);
    StoreException e = outcome("update", () -> store.update(Info.forUpdate(digest, update),
        paths));
    if (e == null) {
      assertThat(pathsValid).as("update succeeded with fieldpaths %s", fieldpaths).isTrue();
      Info after = store.info(digest);
      assertThat(invalidKeys(after.labels())).as("invalid labels stored").isEmpty();
      if (fieldpaths.isEmpty()) {
        assertThat(after.labels()).isEqualTo(withoutEmptyValues(update));
      }
    } else {
      assertThat(e).as("update refused").isInstanceOf(InvalidArgumentException.class);
      assertThat(pathsValid && updateInvalid.isEmpty()).as("update refused: %s", e).isFalse();
      assertNames("update", e, named);
      assertThat(store.info(digest).labels()).as("labels after a refused update")
          .isEqualTo(committed.labels());
    }
    store.delete(digest);
  }

  // ---- filters

  /**
   * A filter string that parses selects through walk exactly the seeded blobs it matches, and
   * through listStatuses only existing ingests; one that does not parse is refused by all three.
   */
  @TestFactory
  Stream<DynamicTest> filtersParseOrAreRefusedByWalkAndListStatuses() {
    return cases("filtersParseOrAreRefusedByWalkAndListStatuses", BadInputs.filters(),
        PropertyCases::quote, this::filterParsesOrIsRefused);
  }

  private void filterParsesOrIsRefused(String filter) {
    StoreException refused = outcome("Filter.parse", () -> Filter.parse(filter));
    List<String> named = List.of(filter);
    if (refused != null) {
      assertThat(refused).as("Filter.parse refusal").isInstanceOf(InvalidArgumentException.class);
      assertNames("Filter.parse", refused, named);
      fails("walk", () -> store.walk(i -> { }, filter), named, InvalidArgumentException.class);
      fails("listStatuses", () -> store.listStatuses(filter), named,
          InvalidArgumentException.class);
      return;
    }
    Filter parsed = Filter.parse(filter);
    List<Info> walked = new ArrayList<>();
    succeeds("walk", () -> {
      store.walk(walked::add, filter);
      return null;
    });
    List<Info> expected = seeds.stream().map(Seed::info).filter(parsed::matches).toList();
    assertThat(walked).as("blobs matching %s", filter)
        .containsExactlyInAnyOrderElementsOf(expected);
    assertThat(succeeds("listStatuses", () -> store.listStatuses(filter))).isEmpty();
  }

  // ---- sizes and offsets

  /**
   * A descriptor refuses a negative size; a commit refuses a negative size, fails a size or
   * digest that disagrees with the bytes (keeping the ingest at its offset), and otherwise stores
   * the bytes; truncate refuses sizes outside 0..offset.
   */
  @TestFactory
  Stream<DynamicTest> sizesAtOpenCommitAndTruncateAreCheckedAgainstTheBytes() {
    return cases("sizesAtOpenCommitAndTruncateAreCheckedAgainstTheBytes", BadInputs.sizeCases(),
        SizeCase::toString, this::sizesAreChecked);
  }

  private void sizesAreChecked(SizeCase c) {
    long declared = c.declared();
    long commitDelta = c.commitDelta();
    long truncateTo = c.truncateTo();
    Expected expected = c.expected();
    int length = c.length();
    if (declared < 0) {
      fails("Descriptor of size " + declared, () -> Descriptor.of(null, declared),
          List.of(Long.toString(declared)), InvalidArgumentException.class);
    }
    String ref = freshRef("sizes");
    byte[] bytes = unique(length);
    Digest actual = Digest.of(bytes);
    Writer writer = store.writer(ref, new Descriptor(null, Math.max(0, declared)));
    writer.write(bytes);
    long offset = bytes.length;
    if (truncateTo < 0 || truncateTo > offset) {
      fails("truncate(" + truncateTo + ") of " + offset + " bytes",
          () -> writer.truncate(truncateTo), List.of(Long.toString(truncateTo)),
          InvalidArgumentException.class);
      assertThat(writer.status().offset()).isEqualTo(offset);
    }
    // Sizes near the bytes written are the interesting ones; the delta picks one of them.
    long size = Math.abs(commitDelta) <= 3 ? offset + commitDelta
        : commitDelta % 2 == 0 ? commitDelta : 0;
    Digest digest = switch (expected) {
      case NONE -> null;
      case RIGHT -> actual;
      case WRONG -> Digest.of(unique(length));
      case OTHER_ALGORITHM -> Digest.of(DigestAlgorithm.SHA512, bytes);
    };
    String what = "commit(" + size + ", " + digest + ") of " + offset + " bytes";
    if (size < 0) {
      fails(what, () -> writer.commit(size, digest, null), List.of(Long.toString(size)),
          InvalidArgumentException.class);
    } else if (size > 0 && size != offset) {
      fails(what, () -> writer.commit(size, digest, null), List.of(Long.toString(size)),
          FailedPreconditionException.class);
    } else if (expected == Expected.WRONG) {
      fails(what, () -> writer.commit(size, digest, null), List.of(digest.toString()),
          FailedPreconditionException.class);
    } else {
      // The same bytes under another algorithm: a store may hash with the expected digest's
      // algorithm (containerd does) or with the one the ingest started with.
      StoreException e = outcome(what, () -> writer.commit(size, digest, null));
      if (e == null) {
        Info info = store.info(digest != null ? digest : actual);
        assertThat(info.size()).isEqualTo(offset);
        assertThat(Content.readBlob(store, info.descriptor())).isEqualTo(bytes);
        store.delete(info.digest());
        return;
      }
      assertThat(expected).as("%s failed: %s", what, e).isEqualTo(Expected.OTHER_ALGORITHM);
      assertThat(e).isInstanceOf(FailedPreconditionException.class);
      assertNames(what, e, List.of(digest.toString()));
    }
    Status kept = store.status(ref);
    assertThat(kept.offset()).as("the ingest kept after %s", what).isEqualTo(offset);
    assertThat(kept.total()).isEqualTo(Math.max(0, declared));
    store.abort(ref);
  }

  /** Regression: a negative commit size was taken for "unknown" and the blob committed. */
  @Test
  void aNegativeCommitSizeIsRefusedAndKeepsTheIngest() {
    String ref = freshRef("negative");
    byte[] bytes = unique(20);
    Writer writer = store.writer(ref, Descriptor.UNKNOWN);
    writer.write(bytes);
    fails("commit(-20)", () -> writer.commit(-20, Digest.of(bytes), null), List.of("-20"),
        InvalidArgumentException.class);
    assertThat(store.status(ref).offset()).isEqualTo(bytes.length);
    fails("info of the refused blob", () -> store.info(Digest.of(bytes)),
        List.of(Digest.of(bytes).toString()), NotFoundException.class);
    store.abort(ref);
  }

  /**
   * Reads of a seeded blob at any position return its bytes from there, -1 at or past the end,
   * and refuse a negative position naming it.
   */
  @TestFactory
  Stream<DynamicTest> readsAtAnyPositionReturnTheBytesOrTheEnd() {
    return cases("readsAtAnyPositionReturnTheBytesOrTheEnd", BadInputs.readCases(),
        ReadCase::toString, this::readReturnsTheBytesOrTheEnd);
  }

  private void readReturnsTheBytesOrTheEnd(ReadCase c) {
    long position = c.position();
    int which = c.which();
    int capacity = c.capacity();
    Seed seed = seeds.get(which);
    long at = Math.abs(position) <= 400 && position >= 0 ? position % (seed.bytes().length + 2)
        : position;
    try (ReaderAt reader = store.readerAt(seed.info().descriptor())) {
      ByteBuffer dst = ByteBuffer.allocate(capacity);
      String what = "read at " + at + " of " + seed.info().digest();
      if (at < 0) {
        fails(what, () -> reader.read(dst, at), List.of(Long.toString(at)),
            InvalidArgumentException.class);
        return;
      }
      int n = succeeds(what, () -> reader.read(dst, at));
      if (at >= seed.bytes().length) {
        assertThat(n).as(what).isEqualTo(-1);
      } else {
        assertThat(n).as(what).isBetween(1, capacity);
        byte[] got = Arrays.copyOf(dst.array(), n);
        assertThat(got).isEqualTo(Arrays.copyOfRange(seed.bytes(), (int) at, (int) at + n));
      }
    }
  }
}
