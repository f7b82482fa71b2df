package dev.coffer.store.spi;

import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.spi.Messages;
import java.nio.charset.StandardCharsets;

/** Validation of ingest refs, shared by every store so they accept and refuse the same refs. */
public final class Refs {

  /** The longest ref accepted, in UTF-8 bytes. */
  public static final int MAX_REF_BYTES = 1024;

  private Refs() {}

  /**
   * Checks a ref: not null, not empty, at most {@value #MAX_REF_BYTES} UTF-8 bytes, well-formed
   * UTF-16 and without control characters. Any other string, including one with {@code /} or
   * {@code ..}, is a valid ref: stores never use a ref as a path.
   *
   * @return the ref
   * @throws InvalidArgumentException naming the ref if it is not valid
   */
  public static String validate(String ref) {
    if (ref == null || ref.isEmpty()) {
      throw new InvalidArgumentException("invalid ref \"\": must not be empty");
    }
    for (int i = 0; i < ref.length(); i++) {
      char c = ref.charAt(i);
      if (Character.isISOControl(c)) {
        throw new InvalidArgumentException("invalid ref \"" + Messages.printable(ref)
            + "\": control character at index " + i);
      }
    }
    int unpaired = Utf16.unpairedSurrogate(ref);
    if (unpaired >= 0) {
      throw new InvalidArgumentException("invalid ref \"" + Messages.printable(ref)
          + "\": unpaired surrogate at index " + unpaired);
    }
    int bytes = ref.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_REF_BYTES) {
      throw new InvalidArgumentException("invalid ref \"" + Messages.printable(ref) + "\": "
          + bytes + " bytes, more than " + MAX_REF_BYTES);
    }
    return ref;
  }
}
