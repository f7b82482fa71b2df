package dev.coffer.store.spi;

/** Values quoted in error messages. */
public final class Messages {

  private Messages() {}

  /** The value shortened and with control characters escaped, so it can be quoted in a message. */
  public static String printable(String value) {
    StringBuilder sb = new StringBuilder();
    int limit = Math.min(value.length(), 200);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (value.length() > limit) {
      sb.append("...(").append(value.length()).append(" chars)");
    }
    return sb.toString();
  }
}
