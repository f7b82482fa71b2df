package dev.coffer.store.spi;

import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.spi.Messages;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Validation of blob labels, as containerd's {@code labels.Validate}. */
public final class Labels {

  /** The largest key plus value accepted, in UTF-8 bytes. */
  public static final int MAX_LABEL_BYTES = 4096;

  private Labels() {}

  /**
   * Checks one label: a non-empty key, key and value well-formed UTF-16 (an unpaired surrogate is
   * not text: no UTF-8 encodes it, so no record or protobuf message could hold it), and key plus
   * value at most {@value #MAX_LABEL_BYTES} bytes.
   *
   * @throws InvalidArgumentException naming the key if the label is not valid
   */
  public static void validate(String key, String value) {
    if (key == null || key.isEmpty()) {
      throw new InvalidArgumentException("invalid label: empty key");
    }
    int inKey = Utf16.unpairedSurrogate(key);
    int inValue = value == null ? -1 : Utf16.unpairedSurrogate(value);
    if (inKey >= 0 || inValue >= 0) {
      throw new InvalidArgumentException("invalid label \"" + Messages.printable(key)
          + "\": unpaired surrogate at index " + (inKey >= 0 ? inKey + " of its key"
          : inValue + " of its value"));
    }
    int size = key.getBytes(StandardCharsets.UTF_8).length
        + (value == null ? 0 : value.getBytes(StandardCharsets.UTF_8).length);
    if (size > MAX_LABEL_BYTES) {
      throw new InvalidArgumentException("invalid label \"" + Messages.printable(key)
          + "\": key and value are " + size + " bytes, more than " + MAX_LABEL_BYTES);
    }
  }

  /**
   * Checks every label of {@code labels}; null or empty is valid.
   *
   * @throws InvalidArgumentException naming the first invalid key
   */
  public static void validate(Map<String, String> labels) {
    if (labels != null) {
      labels.forEach(Labels::validate);
    }
  }
}
