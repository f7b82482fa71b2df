package dev.coffer.store.spi;

import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import java.util.Map;

/** The argument checks every store implementation makes, in the contract's order. */
public final class Checks {

  private Checks() {}

  /**
   * Checks the size passed to {@link dev.coffer.store.Writer#commit}, for store implementations: 0 means unknown,
   * a negative size is malformed.
   *
   * @throws InvalidArgumentException naming the size and the ref if {@code size} is negative
   */
  public static void commitSize(long size, String ref) {
    if (size < 0) {
      throw new InvalidArgumentException("invalid commit size " + size + " of ref \""
          + Messages.printable(ref) + "\": must not be negative (0 means unknown)");
    }
  }

  /**
   * The checks of {@link dev.coffer.store.Ingester#put} before anything is stored, for store implementations, in the
   * order of {@link dev.coffer.store.Writer#commit}: labels, then the expected digest.
   *
   * @return the content's digest, in the expected digest's algorithm (sha256 when none is given)
   * @throws InvalidArgumentException if a label is invalid
   * @throws FailedPreconditionException naming both digests if {@code expected} is not the
   *     content's digest
   */
  public static Digest put(byte[] content, Digest expected, Map<String, String> labels) {
    java.util.Objects.requireNonNull(content, "content");
    Labels.validate(labels);
    Digest actual = expected == null ? Digest.of(content)
        : Digest.of(expected.algorithm(), content);
    if (expected != null && !expected.equals(actual)) {
      throw new FailedPreconditionException("unexpected put digest " + actual + ", expected "
          + expected);
    }
    return actual;
  }
}
