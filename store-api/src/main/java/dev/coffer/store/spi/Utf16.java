package dev.coffer.store.spi;

/** Well-formed UTF-16: what a string needs to be text in UTF-8, as records and protobuf store it. */
final class Utf16 {
  private Utf16() {}

  /** The index of the first surrogate of {@code s} not in a high-low pair, or -1 if none. */
  static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return i;
      }
      if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }
}
