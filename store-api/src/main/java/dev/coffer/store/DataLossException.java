package dev.coffer.store;

/**
 * Stored bytes are not what they claim to be (errdefs DataLoss): bytes read under a digest that do
 * not hash to it, or an object whose length differs from the size its record gives. The message
 * names the digest (or ref), what was expected and what was found. Repeating the call does not help:
 * the stored copy is damaged, and {@code fsck --verify --repair} makes it recoverable by the next
 * commit of the true bytes (invariant INT-3 of docs/architecture.md).
 */
public final class DataLossException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the digest or ref, expected and actual. */
  public DataLossException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the digest or ref and its cause. */
  public DataLossException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Bytes read under {@code digest} hashed to {@code actual}. */
  public static DataLossException digestMismatch(Digest digest, Digest actual) {
    return new DataLossException("content " + digest + " is corrupt: its bytes hash to " + actual
        + ", expected " + digest);
  }

  /** Content stored under {@code digest} holds {@code actual} bytes, not {@code expected}. */
  public static DataLossException lengthMismatch(Digest digest, long expected, long actual) {
    return new DataLossException("content " + digest + " is corrupt: it holds " + actual
        + " bytes, expected " + expected);
  }
}
