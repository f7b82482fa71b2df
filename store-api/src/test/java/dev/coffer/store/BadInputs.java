package dev.coffer.store;

import static dev.coffer.store.Gen.weighted;

import dev.coffer.store.spi.Labels;
import dev.coffer.store.spi.Refs;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The inputs of {@link BadInputProperties}: digest strings, refs, label maps, fieldpaths, filters,
 * sizes and offsets, each a {@link Gen} whose edge cases name the values every run must try
 * (empty, longest, the bounds of each limit and the values just past them, non-ASCII text).
 */
final class BadInputs {
  private BadInputs() {}

  private static final String LOWER_HEX = "0123456789abcdef";

  /**
   * Digest strings: arbitrary text, well-formed digests of each algorithm, hex one character short
   * or long for each algorithm and of any length up to 140, upper-case hex, unknown algorithms, the
   * hex length of another algorithm, other separators, surrounding white space.
   */
  static Gen<String> digestStrings() {
    Gen<String> algorithms = Gen.oneOf("sha256", "sha384", "sha512");
    Gen<String> valid = Gen.combine(p -> {
      String alg = p.of(algorithms);
      int length = DigestAlgorithm.forLabel(alg).orElseThrow().hexLength();
      return alg + ":" + p.of(Gen.strings(Gen.chars(LOWER_HEX), length, length));
    }, algorithms);
    Gen<String> wrongLength = Gen.combine(algorithms,
        Gen.strings(Gen.chars(LOWER_HEX), 0, 140), (alg, h) -> alg + ":" + h)
        .withEdges("sha256:" + "a".repeat(63), "sha256:" + "a".repeat(65),
            "sha384:" + "a".repeat(95), "sha384:" + "a".repeat(97),
            "sha512:" + "a".repeat(127), "sha512:" + "a".repeat(129), "sha256:");
    Gen<String> upperHex = valid.map(s -> s.substring(0, s.indexOf(':') + 1)
            + s.substring(s.indexOf(':') + 1).toUpperCase(Locale.ROOT))
        .filter(s -> !s.equals(s.toLowerCase(Locale.ROOT)));
    Gen<String> unknownAlgorithm = Gen.combine(
        Gen.oneOf("md5", "sha1", "sha3-256", "blake3", "SHA256", "sha256 ", "sha-256", "sha224", "",
            "sha2561"),
        Gen.strings(Gen.chars(LOWER_HEX), 64, 64), (alg, h) -> alg + ":" + h);
    Gen<String> otherAlgorithmLength = Gen.combine(p -> p.of(algorithms) + ":"
        + "a".repeat(p.of(Gen.oneOf(64, 96, 128))), algorithms, Gen.oneOf(64, 96, 128));
    return Gen.frequency(
        weighted(3, Gen.strings(Gen.unicodeChar(), 0, 80)),
        weighted(3, valid),
        weighted(2, wrongLength),
        weighted(2, upperHex),
        weighted(2, unknownAlgorithm),
        weighted(1, otherAlgorithmLength),
        weighted(1, valid.map(s -> s.replace(':', '/'))),
        weighted(1, valid.map(s -> " " + s)),
        weighted(1, valid.map(s -> s + "\n")));
  }

  /**
   * Refs: the empty ref, arbitrary text (lone surrogates and controls included), path-like pieces
   * joined, slash-separated words, long refs of one- to four-byte characters around
   * {@link Refs#MAX_REF_BYTES} (exactly at it and one character past it), control characters.
   */
  static Gen<String> refs() {
    Gen<String> pieces = Gen.oneOf("../", "..", "/", "./", "\\", "%2e%2e/", "~",
        "ref", "layer-1", " ", "\u00e9", "\u4e2d", "\ud83d\ude00", "\u0000", "\n", "\t", "\u007f",
        "\u0085", "\ud800", "\udc00", "\u202e", "\ufeff", "=", "&", "?", "#", "*", ":");
    Gen<String> joined = Gen.lists(pieces, 1, 12).map(l -> String.join("", l));
    Gen<String> slashes = Gen.lists(Gen.strings(Gen.alpha(), 1, 8), 1, 8)
        .map(l -> String.join("/", l));
    int max = Refs.MAX_REF_BYTES;
    Gen<String> longRefs = Gen.combine(Gen.oneOf("a", "\u00e9", "\u4e2d", "\ud83d\ude00", "../"),
        Gen.ints(200, 1100), String::repeat)
        .withEdges("a".repeat(max), "a".repeat(max + 1), "\u00e9".repeat(max / 2),
            "\u00e9".repeat(max / 2 + 1), "\u4e2d".repeat(max / 3), "\u4e2d".repeat(max / 3 + 1),
            "\ud83d\ude00".repeat(max / 4), "\ud83d\ude00".repeat(max / 4 + 1),
            "../".repeat(max / 3), "../".repeat(max / 3 + 1));
    return Gen.frequency(
        weighted(1, Gen.just("")),
        weighted(4, Gen.strings(Gen.unicodeChar(), 0, 40)),
        weighted(4, Gen.strings(Gen.anyChar(), 0, 20)),
        weighted(5, joined),
        weighted(2, slashes),
        weighted(2, longRefs),
        weighted(1, Gen.strings(Gen.charRange('\u0000', '\u001f'), 1, 5)));
  }

  /**
   * Label maps of up to five labels: empty, short and well-known keys; keys and values of 500 to
   * 4,200 one- to four-byte characters; keys and values of any UTF-16 units (lone surrogates
   * included); maps whose key and value add up to exactly {@link Labels#MAX_LABEL_BYTES} bytes and
   * to one byte more.
   */
  static Gen<Map<String, String>> labelMaps() {
    Gen<String> smallKeys = Gen.frequency(
        weighted(1, Gen.just("")),
        weighted(6, Gen.strings(Gen.unicodeChar(), 1, 20)),
        weighted(1, Gen.strings(Gen.anyChar(), 1, 10)),
        weighted(2, Gen.oneOf("containerd.io/gc.root", "a.b", "k", "\u00e9", "labels.x",
            "\ud83d\ude00")));
    Gen<String> bigKeys = Gen.combine(Gen.oneOf("k", "\u00e9", "\u4e2d"), Gen.ints(1000, 4200),
        String::repeat);
    Gen<String> keys = Gen.frequency(weighted(8, smallKeys), weighted(1, bigKeys));
    Gen<String> values = Gen.frequency(
        weighted(1, Gen.just("")),
        weighted(6, Gen.strings(Gen.unicodeChar(), 0, 30)),
        weighted(1, Gen.strings(Gen.anyChar(), 0, 10)),
        weighted(3, Gen.combine(Gen.oneOf("v", "\u00e9", "\u4e2d", "\ud83d\ude00"),
            Gen.ints(500, 4200), String::repeat)));
    int max = Labels.MAX_LABEL_BYTES;
    return Gen.maps(keys, values, 5).withEdges(
        Map.of("k".repeat(max - 1), "v"), Map.of("k".repeat(max), "v"),
        Map.of("k", "v".repeat(max - 1)), Map.of("k", "v".repeat(max)),
        Map.of("\u00e9".repeat(max / 2), ""), Map.of("\u00e9".repeat(max / 2), "v"),
        Map.of("\u4e2d".repeat(max / 3), "v"), Map.of("\u4e2d".repeat(max / 3), "vv"),
        Map.of("kkkk", "\ud83d\ude00".repeat(max / 4 - 1)),
        Map.of("kkkkk", "\ud83d\ude00".repeat(max / 4 - 1)),
        Map.of("", "v"), Map.of("k", ""), Map.of("k\udde0", "v"), Map.of("k", "v\ud83d"),
        Map.of("\ud83d\ude00\ud83d", "v"));
  }

  /**
   * Fieldpaths of an update: none, or one to three of the label paths, other fields, malformed
   * label paths and arbitrary text.
   */
  static Gen<List<String>> fieldpaths() {
    Gen<String> paths = Gen.frequency(
        weighted(3, Gen.oneOf("labels", "labels.k", "labels.a.b", "labels.containerd.io/gc.root",
            "labels.")),
        weighted(2, Gen.oneOf("digest", "size", "createdAt", "label", "", "Labels.k", " labels")),
        weighted(1, Gen.strings(Gen.unicodeChar(), 0, 20).map(s -> "labels." + s)),
        weighted(1, Gen.strings(Gen.unicodeChar(), 0, 20)));
    return Gen.frequency(
        weighted(2, Gen.just(List.<String>of())),
        weighted(5, Gen.lists(paths, 1, 3)));
  }

  /**
   * Filter strings: one to three selectors of the grammar's fields, operators and values (valid
   * and not), arbitrary text, text of the grammar's own characters, and the empty filter.
   */
  static Gen<String> filters() {
    Gen<String> fields = Gen.oneOf("digest", "labels.k", "labels.\"a.b\"",
        "labels.\"containerd.io/gc.root\"", "ref", "labels", "size", "labels.k.x", "\"q\"",
        "1abc", "_x", "a-b", "labels.\"unterminated", "labels..k", ".k");
    Gen<String> operators = Gen.oneOf("==", "!=", "~=", "=", "!", "~", "===", "");
    Gen<String> values = Gen.oneOf("v", "\"quoted\"", "\"esc\\\"aped\"",
        "\"bad\\escape\"", "/[a-z]+/", "|a|b|", "/[/", "/(/", "*", "\"\"", "/a{2,1}/", "|(?<x|",
        "/\\/", "\"\\u00e9\"", "v w", ",", "sha256:abc", "\u00e9", "/x/", "\"unterminated");
    Gen<String> selector = Gen.combine(p -> {
      String field = p.of(fields);
      String operator = p.of(operators);
      String value = p.of(values);
      return operator.isEmpty() ? field : field + operator + value;
    }, fields, operators, values);
    return Gen.frequency(
        weighted(5, Gen.lists(selector, 1, 3).map(l -> String.join(",", l))),
        weighted(3, Gen.strings(Gen.unicodeChar(), 0, 40)),
        weighted(2, Gen.strings(Gen.chars("labels.\"/|,=!~ ab\\"), 0, 30)),
        weighted(1, Gen.just("")));
  }

  /**
   * Sizes and offsets: -3 to 3, the extremes of long and int and 2^32 below zero, -400 to 400,
   * and any long.
   */
  static Gen<Long> sizes() {
    return Gen.frequency(
        weighted(3, Gen.longs(-3, 3)),
        weighted(2, Gen.oneOf(Long.MIN_VALUE, Long.MAX_VALUE, -1L << 32, Integer.MAX_VALUE + 1L,
            (long) Integer.MIN_VALUE)),
        weighted(3, Gen.longs(-400, 400)),
        weighted(2, Gen.longs(Long.MIN_VALUE, Long.MAX_VALUE)));
  }

  /** How a commit names its expected digest. */
  enum Expected { NONE, RIGHT, WRONG, OTHER_ALGORITHM }

  /** A commit with labels, then an update of the blob with other labels and fieldpaths. */
  record LabelCase(Map<String, String> labels, Map<String, String> update,
      List<String> fieldpaths) {}

  static Gen<LabelCase> labelCases() {
    Gen<Map<String, String>> maps = labelMaps();
    Gen<List<String>> paths = fieldpaths();
    return Gen.combine(p -> new LabelCase(p.of(maps), p.of(maps), p.of(paths)), maps, paths);
  }

  /**
   * An ingest of {@code length} bytes declared of size {@code declared}, a truncate to
   * {@code truncateTo} and a commit whose size {@code commitDelta} picks, naming a digest as
   * {@code expected} says.
   */
  record SizeCase(long declared, long commitDelta, long truncateTo, Expected expected,
      int length) {}

  static Gen<SizeCase> sizeCases() {
    Gen<Long> sizes = sizes();
    Gen<Expected> expected = Gen.oneOf(Expected.values());
    Gen<Integer> lengths = Gen.ints(1, 300);
    return Gen.combine(p -> new SizeCase(p.of(sizes), p.of(sizes), p.of(sizes), p.of(expected),
        p.of(lengths)), sizes, expected, lengths);
  }

  /** A read at {@code position} of seeded blob {@code which} into {@code capacity} bytes. */
  record ReadCase(long position, int which, int capacity) {}

  static Gen<ReadCase> readCases() {
    Gen<Long> positions = sizes();
    Gen<Integer> which = Gen.ints(0, 2);
    Gen<Integer> capacities = Gen.ints(1, 64);
    return Gen.combine(p -> new ReadCase(p.of(positions), p.of(which), p.of(capacities)),
        positions, which, capacities);
  }
}
