package dev.coffer.store;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A generator of test inputs: a numbered list of edge cases and a random distribution, both drawn
 * from a {@link SplittableRandom} the caller seeds, so that the same seed gives the same values.
 *
 * <p>Edge cases are the values a property must meet whatever the seed: the empty and the longest
 * string, the bounds of a range, each value of a small enumeration, the boundary sizes of a limit.
 * An edge case may itself draw from the random (a longest string has random characters). {@link
 * #next} mixes the edge cases into the random distribution, one value in twenty; {@link #at} gives
 * edge case {@code i} while there is one. Composites keep their parts' edge cases: a union takes
 * them round-robin from its parts, a mapping maps them, a combination takes edge case {@code i}
 * of every part that has one (rotated per part, so that each edge case of each part appears once
 * among the first {@link #edges()} cases).
 *
 * <p>Generators hold no state; one may be shared by any number of threads.
 */
abstract class Gen<T> {

  /** The number of edge cases. */
  abstract int edges();

  /** Edge case {@code i}, {@code 0 <= i < edges()}. */
  abstract T edge(int i, SplittableRandom random);

  /** A value of the random distribution, without the mixed-in edge cases. */
  abstract T random(SplittableRandom random);

  /** A value of the random distribution, or one time in twenty a random edge case. */
  final T next(SplittableRandom random) {
    if (edges() > 0 && random.nextInt(20) == 0) {
      return edge(random.nextInt(edges()), random);
    }
    return random(random);
  }

  /** Edge case {@code i} if there is one, else {@link #next}. */
  final T at(int i, SplittableRandom random) {
    return i < edges() ? edge(i, random) : next(random);
  }

  // ---- leaves

  /** The given edge cases and random distribution. */
  static <T> Gen<T> of(List<T> edges, Function<SplittableRandom, T> random) {
    List<T> fixed = List.copyOf(edges);
    return new Gen<>() {
      @Override int edges() {
        return fixed.size();
      }

      @Override T edge(int i, SplittableRandom r) {
        return fixed.get(i);
      }

      @Override T random(SplittableRandom r) {
        return random.apply(r);
      }
    };
  }

  /** Always {@code value}, its one edge case. */
  static <T> Gen<T> just(T value) {
    return of(List.of(value), r -> value);
  }

  /** One of {@code values}, uniformly; each is an edge case. */
  @SafeVarargs
  static <T> Gen<T> oneOf(T... values) {
    List<T> list = List.of(values);
    return of(list, r -> list.get(r.nextInt(list.size())));
  }

  /**
   * A long in {@code [min, max]}, uniformly; edge cases are the bounds, their neighbours inside
   * the range, and -1, 0, 1 where in range.
   */
  static Gen<Long> longs(long min, long max) {
    List<Long> edges = new ArrayList<>();
    for (long v : new long[] {min, max, 0, 1, -1, min + 1, max - 1}) {
      if (v >= min && v <= max && !edges.contains(v)) {
        edges.add(v);
      }
    }
    return of(edges, r -> min == Long.MIN_VALUE && max == Long.MAX_VALUE ? r.nextLong()
        : min + r.nextLong(max - min + 1));
  }

  /** An int in {@code [min, max]}, as {@link #longs}. */
  static Gen<Integer> ints(int min, int max) {
    return longs(min, max).map(Long::intValue);
  }

  // ---- characters and strings

  /** One of the characters of {@code set}, uniformly; the first and last are edge cases. */
  static Gen<Character> chars(String set) {
    List<Character> edges = List.of(set.charAt(0), set.charAt(set.length() - 1));
    return of(edges, r -> set.charAt(r.nextInt(set.length())));
  }

  /** A character in {@code [from, to]}, uniformly; both bounds are edge cases. */
  static Gen<Character> charRange(char from, char to) {
    return of(List.of(from, to), r -> (char) (from + r.nextInt(to - from + 1)));
  }

  /** ASCII letters. */
  static Gen<Character> alpha() {
    return chars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
  }

  /** Any UTF-16 code unit, lone surrogates and noncharacters included. */
  static Gen<Character> anyChar() {
    return of(List.of('\u0000', '\uffff', '\ud800', '\udfff', ' '),
        r -> (char) r.nextInt(0x10000));
  }

  /**
   * A character of the Basic Multilingual Plane but the surrogates, the noncharacters and the
   * private-use area: ASCII, controls, accents, CJK and the rest come up. Lone surrogates come
   * from {@link #anyChar()} only.
   */
  static Gen<Character> unicodeChar() {
    return of(List.of('\u0000', ' ', '\u00e9', '\u4e2d', '\ufffd'), r -> {
      while (true) {
        char c = (char) r.nextInt(0x10000);
        boolean nonCharacter = (c >= '\ufdd0' && c <= '\ufdef') || c >= '\ufffe';
        boolean privateUse = c >= '\ue000' && c <= '\uf8ff';
        if (!nonCharacter && !privateUse && !Character.isSurrogate(c)) {
          return c;
        }
      }
    });
  }

  /**
   * A string of {@code min} to {@code max} characters; half the lengths are drawn from the whole
   * range, half from its first ten. Edge cases: the empty string where {@code min} is 0, a string
   * of each character edge case repeated {@code max(min, 1)} times, and a string of {@code max}
   * random characters.
   */
  static Gen<String> strings(Gen<Character> chars, int min, int max) {
    return new Gen<>() {
      @Override int edges() {
        return (min == 0 ? 1 : 0) + (max >= 1 ? chars.edges() : 0) + 1;
      }

      @Override String edge(int i, SplittableRandom r) {
        if (min == 0 && i-- == 0) {
          return "";
        }
        if (max >= 1 && i < chars.edges()) {
          return String.valueOf(chars.edge(i, r)).repeat(Math.max(min, 1));
        }
        return string(max, r);
      }

      @Override String random(SplittableRandom r) {
        int span = r.nextBoolean() ? max - min : Math.min(max - min, 10);
        return string(min + r.nextInt(span + 1), r);
      }

      private String string(int length, SplittableRandom r) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
          out[i] = chars.next(r);
        }
        return new String(out);
      }
    };
  }

  // ---- composites

  /** This generator's values through {@code f}. */
  final <R> Gen<R> map(Function<? super T, ? extends R> f) {
    Gen<T> source = this;
    return new Gen<>() {
      @Override int edges() {
        return source.edges();
      }

      @Override R edge(int i, SplittableRandom r) {
        return f.apply(source.edge(i, r));
      }

      @Override R random(SplittableRandom r) {
        return f.apply(source.random(r));
      }
    };
  }

  /**
   * This generator's values that pass {@code keep}; an edge case that does not is replaced by a
   * random value that does.
   */
  final Gen<T> filter(Predicate<? super T> keep) {
    Gen<T> source = this;
    return new Gen<>() {
      @Override int edges() {
        return source.edges();
      }

      @Override T edge(int i, SplittableRandom r) {
        T value = source.edge(i, r);
        return keep.test(value) ? value : random(r);
      }

      @Override T random(SplittableRandom r) {
        for (int attempt = 0; attempt < 10_000; attempt++) {
          T value = source.random(r);
          if (keep.test(value)) {
            return value;
          }
        }
        throw new IllegalStateException("the filter keeps no value of 10,000 drawn");
      }
    };
  }

  /** {@code extra} as the first edge cases, then this generator's. */
  @SafeVarargs
  final Gen<T> withEdges(T... extra) {
    List<T> first = List.of(extra);
    Gen<T> source = this;
    return new Gen<>() {
      @Override int edges() {
        return first.size() + source.edges();
      }

      @Override T edge(int i, SplittableRandom r) {
        return i < first.size() ? first.get(i) : source.edge(i - first.size(), r);
      }

      @Override T random(SplittableRandom r) {
        return source.random(r);
      }
    };
  }

  /** A generator and its weight in a {@link #frequency} union. */
  record Weighted<T>(int weight, Gen<? extends T> gen) {}

  static <T> Weighted<T> weighted(int weight, Gen<? extends T> gen) {
    return new Weighted<>(weight, gen);
  }

  /**
   * A union: a part drawn with probability proportional to its weight gives the value. The edge
   * cases are every part's, taken round-robin (the first edge case of each part, then the second,
   * and so on).
   */
  @SafeVarargs
  static <T> Gen<T> frequency(Weighted<T>... parts) {
    List<Weighted<T>> list = List.of(parts);
    int total = list.stream().mapToInt(Weighted::weight).sum();
    List<int[]> order = new ArrayList<>();
    int most = list.stream().mapToInt(w -> w.gen().edges()).max().orElse(0);
    for (int k = 0; k < most; k++) {
      for (int p = 0; p < list.size(); p++) {
        if (k < list.get(p).gen().edges()) {
          order.add(new int[] {p, k});
        }
      }
    }
    return new Gen<>() {
      @Override int edges() {
        return order.size();
      }

      @Override T edge(int i, SplittableRandom r) {
        int[] at = order.get(i);
        return list.get(at[0]).gen().edge(at[1], r);
      }

      @Override T random(SplittableRandom r) {
        int pick = r.nextInt(total);
        for (Weighted<T> part : list) {
          pick -= part.weight();
          if (pick < 0) {
            return part.gen().next(r);
          }
        }
        throw new AssertionError("weights changed");
      }
    };
  }

  /** Draws the parts of a combined value; see {@link #combine}. */
  interface Parts {
    /** A value of {@code part}: its edge case for the combined case, or a random one. */
    <P> P of(Gen<P> part);
  }

  /**
   * A value built from parts drawn through {@link Parts}. Its edge case {@code i} draws, for the
   * k-th part drawn, that part's edge case {@code (i + k) mod edges} while {@code i} is below the
   * part's number of edge cases, and a random value past it; there are as many edge cases as the
   * most of any of {@code parts}, the generators the builder draws from.
   */
  static <R> Gen<R> combine(Function<Parts, R> build, Gen<?>... parts) {
    int most = Arrays.stream(parts).mapToInt(Gen::edges).max().orElse(0);
    return new Gen<>() {
      @Override int edges() {
        return most;
      }

      @Override R edge(int i, SplittableRandom r) {
        return build.apply(new Parts() {
          private int k;

          @Override public <P> P of(Gen<P> part) {
            int n = part.edges();
            return i < n ? part.edge((i + k++) % n, r) : part.next(r);
          }
        });
      }

      @Override R random(SplittableRandom r) {
        return build.apply(new Parts() {
          @Override public <P> P of(Gen<P> part) {
            return part.next(r);
          }
        });
      }
    };
  }

  /** Two parts combined by {@code f}; see {@link #combine}. */
  static <A, B, R> Gen<R> combine(Gen<A> a, Gen<B> b, BiFunction<A, B, R> f) {
    return combine(p -> f.apply(p.of(a), p.of(b)), a, b);
  }

  /**
   * Lists of {@code min} to {@code max} elements. Edge cases: the empty list where {@code min} is
   * 0, a list of each element edge case where {@code min} is at most 1, and a list of {@code max}
   * elements.
   */
  static <T> Gen<List<T>> lists(Gen<T> element, int min, int max) {
    return new Gen<>() {
      @Override int edges() {
        return (min == 0 ? 1 : 0) + (min <= 1 && max >= 1 ? element.edges() : 0) + 1;
      }

      @Override List<T> edge(int i, SplittableRandom r) {
        if (min == 0 && i-- == 0) {
          return List.of();
        }
        if (min <= 1 && max >= 1 && i < element.edges()) {
          return List.of(element.edge(i, r));
        }
        return list(max, r);
      }

      @Override List<T> random(SplittableRandom r) {
        return list(min + r.nextInt(max - min + 1), r);
      }

      private List<T> list(int size, SplittableRandom r) {
        List<T> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
          out.add(element.next(r));
        }
        return out;
      }
    };
  }

  /**
   * Maps of 0 to {@code max} entries with distinct keys. Edge cases: the empty map, a map of one
   * entry for each key edge case and for each value edge case, and a map of {@code max} entries.
   */
  static <K, V> Gen<Map<K, V>> maps(Gen<K> keys, Gen<V> values, int max) {
    return new Gen<>() {
      @Override int edges() {
        return 1 + keys.edges() + values.edges() + 1;
      }

      @Override Map<K, V> edge(int i, SplittableRandom r) {
        if (i == 0) {
          return Map.of();
        }
        i--;
        if (i < keys.edges()) {
          return single(keys.edge(i, r), values.next(r));
        }
        i -= keys.edges();
        if (i < values.edges()) {
          return single(keys.next(r), values.edge(i, r));
        }
        return map(max, r);
      }

      @Override Map<K, V> random(SplittableRandom r) {
        return map(r.nextInt(max + 1), r);
      }

      private Map<K, V> single(K key, V value) {
        Map<K, V> map = new LinkedHashMap<>();
        map.put(key, value);
        return map;
      }

      private Map<K, V> map(int size, SplittableRandom r) {
        Map<K, V> map = new LinkedHashMap<>();
        for (int attempt = 0; map.size() < size && attempt < 100 * (size + 1); attempt++) {
          map.putIfAbsent(keys.next(r), values.next(r));
        }
        return map;
      }
    };
  }
}
