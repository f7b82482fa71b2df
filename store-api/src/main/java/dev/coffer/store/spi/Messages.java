package dev.coffer.store.spi;

/** Values quoted in error messages. */
public final class Messages {

  private Messages() {}

  /**
   * The value shortened, with control characters and unpaired surrogates escaped ({@code \x0a},
   * {@code \udde0}), so it can be quoted in a message that is sent as UTF-8.
   */
  public static String printable(String value) {
    StringBuilder sb = new StringBuilder();
    int limit = Math.min(value.length(), 200);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else if (Character.isSurrogate(c) && !paired(value, i)) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (value.length() > limit) {
      sb.append("...(").append(value.length()).append(" chars)");
    }
    return sb.toString();
  }

  /** Whether the surrogate at {@code i} is one half of a high-low pair. */
  private static boolean paired(String value, int i) {
    char c = value.charAt(i);
    return Character.isHighSurrogate(c)
        ? i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))
        : i > 0 && Character.isHighSurrogate(value.charAt(i - 1));
  }
}
