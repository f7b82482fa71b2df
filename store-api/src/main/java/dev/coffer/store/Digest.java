package dev.coffer.store;

import dev.coffer.store.spi.Messages;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A content digest: an algorithm and the lowercase hexadecimal encoding of the hash, written
 * {@code algorithm:hex} (for example {@code sha256:2c26b4...}).
 *
 * <p>Instances are immutable and validated on construction: the hex part must have the algorithm's
 * length and be lowercase hexadecimal, or {@link InvalidArgumentException} is thrown naming the value.
 *
 * @param algorithm the hash algorithm
 * @param hex the hash in lowercase hexadecimal
 */
public record Digest(DigestAlgorithm algorithm, String hex) implements Comparable<Digest> {

  private static final HexFormat HEX = HexFormat.of();

  /** The digest of no bytes with sha256. */
  public static final Digest EMPTY_SHA256 = of(new byte[0]);

  public Digest {
    if (algorithm == null) {
      throw new InvalidArgumentException("digest algorithm is missing");
    }
    if (hex == null || hex.length() != algorithm.hexLength() || !isLowerHex(hex)) {
      throw new InvalidArgumentException(
          "invalid " + algorithm + " digest \"" + algorithm + ":" + hex + "\": expected "
              + algorithm.hexLength() + " lowercase hexadecimal characters");
    }
  }

  /**
   * Parses {@code algorithm:hex}.
   *
   * @throws InvalidArgumentException if the string is null, has no {@code :}, names an unsupported
   *     algorithm or has a hex part of the wrong length or alphabet; the message quotes the string
   */
  public static Digest parse(String value) {
    if (value == null || value.isEmpty()) {
      throw new InvalidArgumentException("invalid digest \"" + value + "\": empty");
    }
    int colon = value.indexOf(':');
    if (colon < 0) {
      throw new InvalidArgumentException(
          "invalid digest \"" + Messages.printable(value) + "\": expected algorithm:hex");
    }
    String label = value.substring(0, colon);
    DigestAlgorithm algorithm = DigestAlgorithm.forLabel(label).orElseThrow(
        () -> new InvalidArgumentException("invalid digest \"" + Messages.printable(value)
            + "\": unsupported algorithm \"" + Messages.printable(label) + "\" (sha256, sha384, sha512)"));
    String hex = value.substring(colon + 1);
    if (hex.length() != algorithm.hexLength() || !isLowerHex(hex)) {
      throw new InvalidArgumentException("invalid digest \"" + Messages.printable(value) + "\": expected "
          + algorithm.hexLength() + " lowercase hexadecimal characters after \"" + label + ":\"");
    }
    return new Digest(algorithm, hex);
  }

  /** The sha256 digest of {@code bytes}. */
  public static Digest of(byte[] bytes) {
    return of(DigestAlgorithm.CANONICAL, bytes);
  }

  /** The digest of {@code bytes} with {@code algorithm}. */
  public static Digest of(DigestAlgorithm algorithm, byte[] bytes) {
    return fromHasher(algorithm, algorithm.newHasher().digest(bytes));
  }

  /**
   * The digest of every byte remaining in {@code in} with {@code algorithm}; the stream is read to its
   * end but not closed.
   *
   * @throws UncheckedIOException if reading fails
   */
  public static Digest of(DigestAlgorithm algorithm, InputStream in) {
    MessageDigest hasher = algorithm.newHasher();
    byte[] buffer = new byte[64 * 1024];
    try {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        hasher.update(buffer, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return fromHasher(algorithm, hasher.digest());
  }

  /** The digest whose hash is {@code hash}, as returned by {@link MessageDigest#digest()}. */
  public static Digest fromHasher(DigestAlgorithm algorithm, byte[] hash) {
    Objects.requireNonNull(hash, "hash");
    return new Digest(algorithm, HEX.formatHex(hash));
  }

  /** The raw hash bytes. */
  public byte[] hash() {
    return HEX.parseHex(hex);
  }

  /** {@code algorithm:hex}. */
  @Override
  public String toString() {
    return algorithm.label() + ":" + hex;
  }

  /**
   * A function of the value alone, the same in every JVM: the algorithm's label and the hex. (A
   * record's own hash would mix in the enum's identity hash, which differs between JVMs, and with
   * it the order of every hash map of digests.)
   */
  @Override
  public int hashCode() {
    return 31 * algorithm.label().hashCode() + hex.hashCode();
  }

  @Override
  public int compareTo(Digest other) {
    return toString().compareTo(other.toString());
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

}
