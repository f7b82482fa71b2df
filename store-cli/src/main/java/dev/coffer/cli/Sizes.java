package dev.coffer.cli;

import java.util.Locale;

/** Human sizes: parsing {@code 64MiB}, {@code 10G}, {@code 4096} and formatting byte counts. */
final class Sizes {
  private Sizes() {}

  static long parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    int i = 0;
    while (i < s.length() && Character.isDigit(s.charAt(i))) {
      i++;
    }
    if (i == 0) {
      throw new IllegalArgumentException("expected a number of bytes, e.g. 512MiB");
    }
    long n = Long.parseLong(s.substring(0, i));
    long unit = switch (s.substring(i).trim()) {
      case "", "b" -> 1;
      case "k", "kb", "kib" -> 1L << 10;
      case "m", "mb", "mib" -> 1L << 20;
      case "g", "gb", "gib" -> 1L << 30;
      case "t", "tb", "tib" -> 1L << 40;
      default -> throw new IllegalArgumentException("unknown unit \"" + s.substring(i) + "\"");
    };
    return Math.multiplyExact(n, unit);
  }

  static String format(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
