package dev.coffer.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/** The digest algorithms a store accepts: sha256 (the default), sha384 and sha512. */
public enum DigestAlgorithm {
  SHA256("sha256", "SHA-256", 32),
  SHA384("sha384", "SHA-384", 48),
  SHA512("sha512", "SHA-512", 64);

  /** The algorithm used when none is named. */
  public static final DigestAlgorithm CANONICAL = SHA256;

  private final String label;
  private final String jcaName;
  private final int byteLength;

  DigestAlgorithm(String label, String jcaName, int byteLength) {
    this.label = label;
    this.jcaName = jcaName;
    this.byteLength = byteLength;
  }

  /** The name used in digest strings, such as {@code sha256}. */
  public String label() {
    return label;
  }

  /** The length of a digest in bytes. */
  public int byteLength() {
    return byteLength;
  }

  /** The length of a digest in lowercase hexadecimal characters. */
  public int hexLength() {
    return byteLength * 2;
  }

  /** A new hasher for this algorithm, from the JDK's providers. Not thread-safe. */
  public MessageDigest newHasher() {
    try {
      return MessageDigest.getInstance(jcaName);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no " + jcaName, e);
    }
  }

  /**
   * The algorithm with the given label ({@code sha256}, {@code sha384}, {@code sha512}), or empty if
   * the label names no supported algorithm, as containerd's {@code HashForLabel}.
   */
  public static Optional<DigestAlgorithm> forLabel(String label) {
    if (label != null) {
      for (DigestAlgorithm a : values()) {
        if (a.label.equals(label)) {
          return Optional.of(a);
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return label;
  }
}
