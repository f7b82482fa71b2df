package dev.coffer.store;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;

/**
 * Runs a property over generated cases, each a JUnit dynamic test named by its number and input.
 *
 * <p>Case {@code i} of a property draws from its own {@link SplittableRandom}, seeded from the
 * run's seed, the property's name and {@code i}: a case is the same whichever cases run before
 * it. Even-numbered cases take the generator's edge cases in order while there are any (so that
 * half the cases at most are edge cases); the others are random. A failing case throws an
 * {@link AssertionError} naming the property, the case, the input and the seed, with the system
 * properties that run it again. The cases of a property may share state (those of
 * {@link BadInputProperties} share one store), so the cases after a failure are skipped (aborted):
 * the failure may have left that state anyhow.
 *
 * <p>System properties: {@value #SEED} sets the seed (a long, or {@code random} for a new one,
 * printed); the default is fixed, so that every run tries the same inputs. {@value #TRIES}
 * overrides every property's number of cases; {@value #CASE} runs only the case of that number.
 */
final class PropertyCases {
  static final String SEED = "coffer.props.seed";
  static final String TRIES = "coffer.props.tries";
  static final String CASE = "coffer.props.case";
  static final long DEFAULT_SEED = 20261203L;

  private static final int NAME_CHARS = 100;
  private static final int MESSAGE_CHARS = 600;
  private static volatile Long randomSeed;

  private PropertyCases() {}

  /** The seed of this run: {@value #SEED}, or {@link #DEFAULT_SEED}. */
  static long seed() {
    String value = System.getProperty(SEED, "").trim();
    if (value.isEmpty()) {
      return DEFAULT_SEED;
    }
    if (value.equals("random")) {
      synchronized (PropertyCases.class) {
        if (randomSeed == null) {
          randomSeed = new SplittableRandom().nextLong();
          System.out.println("bad-input properties: -D" + SEED + "=" + randomSeed);
        }
        return randomSeed;
      }
    }
    return Long.parseLong(value);
  }

  /**
   * The cases of {@code property}: {@code tries} inputs of {@code gen} (or {@value #TRIES}), each
   * a dynamic test that runs {@code check} on it; {@code show} describes an input.
   */
  static <T> Stream<DynamicTest> cases(String property, int tries, Gen<T> gen,
      Function<? super T, String> show, Consumer<? super T> check) {
    long seed = seed();
    int count = Integer.getInteger(TRIES, tries);
    Integer only = Integer.getInteger(CASE);
    IntStream numbers = only != null ? IntStream.of(only) : IntStream.range(0, count);
    AtomicInteger failed = new AtomicInteger(-1);
    return numbers.mapToObj(i -> {
      T input = input(gen, caseRandom(seed, property, i), i);
      String shown = show.apply(input);
      return DynamicTest.dynamicTest("#" + i + " " + shorten(shown, NAME_CHARS), () -> {
        if (failed.get() >= 0) {
          Assumptions.abort("not run: case #" + failed.get() + " failed and may have left the"
              + " store in any state");
        }
        try {
          check.accept(input);
        } catch (AssertionError | RuntimeException e) {
          failed.set(i);
          throw new AssertionError(property + " fails on case #" + i + " of seed " + seed
              + " (rerun: -D" + SEED + "=" + seed + " -D" + CASE + "=" + i + "), input "
              + shorten(shown, MESSAGE_CHARS) + ": " + e.getMessage(), e);
        }
      });
    });
  }

  private static <T> T input(Gen<T> gen, SplittableRandom random, int i) {
    return i % 2 == 0 && i / 2 < gen.edges() ? gen.edge(i / 2, random) : gen.next(random);
  }

  private static SplittableRandom caseRandom(long seed, String property, int i) {
    return new SplittableRandom(mix(mix(seed ^ property.hashCode()) + i));
  }

  /** Stafford's variant 13 of MurmurHash3's finaliser, as SplittableRandom mixes its seeds. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  // ---- showing inputs

  /**
   * {@code value} quoted, in ASCII: other characters as {@code \\uXXXX}, so that a lone
   * surrogate or a control shows in names and reports, and a run of more than eight equal
   * characters (or surrogate pairs) as {@code "c"*n}, so that a string at a size limit shows whole:
   * {@code "k"*4095 + "v"}. Past {@value #MESSAGE_CHARS} characters of text it is cut, with the
   * length.
   */
  static String quote(String value) {
    if (value == null) {
      return "null";
    }
    List<String> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int shown = 0;
    int i = 0;
    while (i < value.length() && shown < MESSAGE_CHARS) {
      int unit = Character.isSurrogatePair(value.charAt(i),
          i + 1 < value.length() ? value.charAt(i + 1) : (char) 0) ? 2 : 1;
      String c = value.substring(i, i + unit);
      int run = 1;
      while (value.startsWith(c, i + run * unit)) {
        run++;
      }
      if (run > 8) {
        if (!literal.isEmpty()) {
          parts.add("\"" + literal + "\"");
          literal.setLength(0);
        }
        parts.add("\"" + escape(c) + "\"*" + run);
        shown += 8;
      } else {
        run = 1;
        literal.append(escape(c));
        shown++;
      }
      i += run * unit;
    }
    if (!literal.isEmpty() || parts.isEmpty()) {
      parts.add("\"" + literal + "\"");
    }
    String quoted = String.join(" + ", parts);
    return i < value.length() ? quoted + "...(" + value.length() + " chars)" : quoted;
  }

  private static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c >= 0x20 && c < 0x7f) {
        sb.append(c == '"' || c == '\\' ? "\\" + c : String.valueOf(c));
      } else {
        sb.append(String.format("\\u%04x", (int) c));
      }
    }
    return sb.toString();
  }

  private static String shorten(String shown, int chars) {
    return shown.length() <= chars ? shown : shown.substring(0, chars) + "...";
  }
}
