package dev.coffer.store;

import java.util.Optional;

/**
 * What a caller knows of content before it is written or read: its digest and its size, either of
 * which may be unknown. As in containerd, a size of 0 means "unknown" when opening a writer.
 *
 * @param digest the expected digest, or null if unknown
 * @param size the expected size in bytes, 0 if unknown; never negative
 */
public record Descriptor(Digest digest, long size) {

  /** A descriptor that knows nothing: no digest, size unknown. */
  public static final Descriptor UNKNOWN = new Descriptor(null, 0);

  public Descriptor {
    if (size < 0) {
      throw new InvalidArgumentException("invalid size " + size + ": must not be negative");
    }
  }

  /** A descriptor with a known digest and size. */
  public static Descriptor of(Digest digest, long size) {
    return new Descriptor(digest, size);
  }

  /** A descriptor with a known digest and unknown size. */
  public static Descriptor of(Digest digest) {
    return new Descriptor(digest, 0);
  }

  /** The digest, if known. */
  public Optional<Digest> expected() {
    return Optional.ofNullable(digest);
  }

  /**
   * The digest, which a read requires.
   *
   * @throws InvalidArgumentException if the digest is unknown
   */
  public Digest requireDigest() {
    if (digest == null) {
      throw new InvalidArgumentException("descriptor has no digest");
    }
    return digest;
  }
}
