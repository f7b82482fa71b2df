package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.coffer.store.spi.Labels;
import dev.coffer.store.spi.Messages;
import dev.coffer.store.spi.Refs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.arbitraries.StringArbitrary;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

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
 * <p>Each property gets a fresh store from {@link #createStore()}, seeded with three blobs, and
 * {@link #afterRun(ContentStore)} is called before it is closed. The number of tries is jqwik's
 * default, {@code jqwik.tries.default}, which a module may lower for slow backends.
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

  @BeforeProperty
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
    for (Map.Entry<Digest, byte[]> e : Map.of(a, plain, b, labelled, c, linked).entrySet()) {
      seeds.add(new Seed(store.info(e.getKey()), e.getValue()));
    }
  }

  @AfterProperty
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

  @Provide
  Arbitrary<String> digestStrings() {
    StringArbitrary lowerHex = Arbitraries.strings().withChars("0123456789abcdef");
    Arbitrary<String> algorithms = Arbitraries.of("sha256", "sha384", "sha512");
    Arbitrary<String> valid = algorithms.flatMap(alg -> lowerHex
        .ofLength(DigestAlgorithm.forLabel(alg).orElseThrow().hexLength()).map(h -> alg + ":" + h));
    Arbitrary<String> wrongLength = Combinators.combine(algorithms,
        lowerHex.ofMinLength(0).ofMaxLength(140)).as((alg, h) -> alg + ":" + h);
    Arbitrary<String> upperHex = valid.map(s -> s.substring(0, s.indexOf(':') + 1)
        + s.substring(s.indexOf(':') + 1).toUpperCase(Locale.ROOT))
        .filter(s -> !s.equals(s.toLowerCase(Locale.ROOT)));
    Arbitrary<String> unknownAlgorithm = Combinators.combine(
        Arbitraries.of("md5", "sha1", "sha3-256", "blake3", "SHA256", "sha256 ", "sha-256",
            "sha224", "", "sha2561"),
        lowerHex.ofLength(64)).as((alg, h) -> alg + ":" + h);
    Arbitrary<String> otherAlgorithmLength = Combinators.combine(algorithms,
        Arbitraries.of(64, 96, 128)).as((alg, n) -> alg + ":" + "a".repeat(n));
    Arbitrary<String> separators = valid.map(s -> s.replace(':', '/'));
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.strings().ofMaxLength(80)),
        Tuple.of(3, valid),
        Tuple.of(2, wrongLength),
        Tuple.of(2, upperHex),
        Tuple.of(2, unknownAlgorithm),
        Tuple.of(1, otherAlgorithmLength),
        Tuple.of(1, separators),
        Tuple.of(1, valid.map(s -> " " + s)),
        Tuple.of(1, valid.map(s -> s + "\n")));
  }

  /** A digest string parses exactly when it is well formed; an absent digest is NotFound. */
  @Property
  void digestStringsParseOrAreRefusedAndAbsentDigestsAreNotFound(
      @ForAll("digestStrings") String value) {
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

  @Property
  void digestHexOfTheWrongShapeIsRefusedByTheRecord(
      @ForAll("digestStrings") String value) {
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

  @Provide
  Arbitrary<String> refs() {
    Arbitrary<String> pieces = Arbitraries.of("../", "..", "/", "./", "\\", "%2e%2e/", "~",
        "ref", "layer-1", " ", "\u00e9", "\u4e2d", "\ud83d\ude00", "\u0000", "\n", "\t", "\u007f",
        "\u0085", "\ud800", "\udc00", "\u202e", "\ufeff", "=", "&", "?", "#", "*", ":");
    Arbitrary<String> joined = pieces.list().ofMinSize(1).ofMaxSize(12)
        .map(l -> String.join("", l));
    Arbitrary<String> slashes = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8).list()
        .ofMinSize(1).ofMaxSize(8).map(l -> String.join("/", l));
    Arbitrary<String> longRefs = Combinators.combine(Arbitraries.of("a", "\u00e9", "\u4e2d",
        "\ud83d\ude00", "../"), Arbitraries.integers().between(200, 1100))
        .as((unit, n) -> unit.repeat(n));
    return Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just("")),
        Tuple.of(4, Arbitraries.strings().ofMaxLength(40)),
        Tuple.of(4, Arbitraries.strings().all().ofMaxLength(20)),
        Tuple.of(5, joined),
        Tuple.of(2, slashes),
        Tuple.of(2, longRefs),
        Tuple.of(1, Arbitraries.strings().withCharRange('\u0000', '\u001f')
            .ofMinLength(1).ofMaxLength(5)));
  }

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
  @Property
  void refsAreAcceptedOrRefusedByEveryCall(@ForAll("refs") String ref) {
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

  @Provide
  Arbitrary<Map<String, String>> labelMaps() {
    Arbitrary<String> smallKeys = Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just("")),
        Tuple.of(6, Arbitraries.strings().ofMinLength(1).ofMaxLength(20)),
        Tuple.of(2, Arbitraries.of("containerd.io/gc.root", "a.b", "k", "\u00e9",
            "labels.x", "\ud83d\ude00")));
    Arbitrary<String> bigKeys = Combinators.combine(Arbitraries.of("k", "\u00e9", "\u4e2d"),
        Arbitraries.integers().between(1000, 4200)).as((unit, n) -> unit.repeat(n));
    Arbitrary<String> keys = Arbitraries.frequencyOf(
        Tuple.of(8, smallKeys), Tuple.of(1, bigKeys));
    Arbitrary<String> values = Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just("")),
        Tuple.of(6, Arbitraries.strings().ofMaxLength(30)),
        Tuple.of(3, Combinators.combine(Arbitraries.of("v", "\u00e9", "\u4e2d",
            "\ud83d\ude00"), Arbitraries.integers().between(500, 4200))
            .as((unit, n) -> unit.repeat(n))));
    return Arbitraries.maps(keys, values).ofMaxSize(5);
  }

  /** containerd's label rule, stated independently: non-empty key, key + value ≤ 4096 bytes. */
  private static List<String> invalidKeys(Map<String, String> labels) {
    List<String> invalid = new ArrayList<>();
    labels.forEach((k, v) -> {
      if (k.isEmpty() || k.getBytes(StandardCharsets.UTF_8).length
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
  @Property
  void labelsAreStoredOrRefusedAtCommitAndUpdate(
      @ForAll("labelMaps") Map<String, String> labels,
      @ForAll("labelMaps") Map<String, String> update,
      @ForAll("fieldpaths") List<String> fieldpaths) {
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

  @Provide
  Arbitrary<List<String>> fieldpaths() {
    Arbitrary<String> paths = Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.of("labels", "labels.k", "labels.a.b",
            "labels.containerd.io/gc.root", "labels.")),
        Tuple.of(2, Arbitraries.of("digest", "size", "createdAt", "label", "",
            "Labels.k", " labels")),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(20).map(s -> "labels." + s)),
        Tuple.of(1, Arbitraries.strings().ofMaxLength(20)));
    return Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.just(List.<String>of())),
        Tuple.of(5, paths.list().ofMinSize(1).ofMaxSize(3)));
  }

  // ---- filters

  @Provide
  Arbitrary<String> filters() {
    Arbitrary<String> fields = Arbitraries.of("digest", "labels.k", "labels.\"a.b\"",
        "labels.\"containerd.io/gc.root\"", "ref", "labels", "size", "labels.k.x", "\"q\"",
        "1abc", "_x", "a-b", "labels.\"unterminated", "labels..k", ".k");
    Arbitrary<String> operators = Arbitraries.of("==", "!=", "~=", "=", "!", "~", "===", "");
    Arbitrary<String> values = Arbitraries.of("v", "\"quoted\"", "\"esc\\\"aped\"",
        "\"bad\\escape\"", "/[a-z]+/", "|a|b|", "/[/", "/(/", "*", "\"\"", "/a{2,1}/", "|(?<x|",
        "/\\/", "\"\\u00e9\"", "v w", ",", "sha256:abc", "\u00e9", "/x/", "\"unterminated");
    Arbitrary<String> selector = Combinators.combine(fields, operators, values)
        .as((f, o, v) -> o.isEmpty() ? f : f + o + v);
    Arbitrary<String> grammar = selector.list().ofMinSize(1).ofMaxSize(3)
        .map(l -> String.join(",", l));
    return Arbitraries.frequencyOf(
        Tuple.of(5, grammar),
        Tuple.of(3, Arbitraries.strings().ofMaxLength(40)),
        Tuple.of(2, Arbitraries.strings().withChars("labels.\"/|,=!~ ab\\")
            .ofMaxLength(30)),
        Tuple.of(1, Arbitraries.just("")));
  }

  /**
   * A filter string that parses selects through walk exactly the seeded blobs it matches, and
   * through listStatuses only existing ingests; one that does not parse is refused by all three.
   */
  @Property
  void filtersParseOrAreRefusedByWalkAndListStatuses(@ForAll("filters") String filter) {
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

  @Provide
  Arbitrary<Long> sizes() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.longs().between(-3, 3)),
        Tuple.of(2, Arbitraries.of(Long.MIN_VALUE, Long.MAX_VALUE, -1L << 32,
            Integer.MAX_VALUE + 1L, (long) Integer.MIN_VALUE)),
        Tuple.of(3, Arbitraries.longs().between(-400, 400)),
        Tuple.of(2, Arbitraries.longs()));
  }

  /** How a commit names its expected digest. */
  enum Expected { NONE, RIGHT, WRONG, OTHER_ALGORITHM }

  /**
   * A descriptor refuses a negative size; a commit refuses a negative size, fails a size or
   * digest that disagrees with the bytes (keeping the ingest at its offset), and otherwise stores
   * the bytes; truncate refuses sizes outside 0..offset.
   */
  @Property
  void sizesAtOpenCommitAndTruncateAreCheckedAgainstTheBytes(
      @ForAll("sizes") long declared, @ForAll("sizes") long commitDelta,
      @ForAll("sizes") long truncateTo, @ForAll Expected expected,
      @ForAll @IntRange(min = 1, max = 300) int length) {
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
  @Example
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
  @Property
  void readsAtAnyPositionReturnTheBytesOrTheEnd(@ForAll("sizes") long position,
      @ForAll @IntRange(min = 0, max = 2) int which,
      @ForAll @IntRange(min = 1, max = 64) int capacity) {
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
