package dev.coffer.s3sim;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * The checksum algorithms S3 accepts ({@code x-amz-checksum-*}), how each is spelled in headers
 * and XML, and how each is computed: CRCs as their big-endian bytes, digests as theirs, both sent
 * in base64. Which may be a multipart upload's full-object checksum follows AWS's "Checking object
 * integrity" guide: CRC64NVME only full-object, CRC32 and CRC32C either, SHA-1 and SHA-256 only
 * composite.
 */
enum ChecksumAlgorithm {
  CRC32("crc32", "CRC32", 4, true, true),
  CRC32C("crc32c", "CRC32C", 4, true, true),
  CRC64NVME("crc64nvme", "CRC64NVME", 8, true, false),
  SHA1("sha1", "SHA1", 20, false, true),
  SHA256("sha256", "SHA256", 32, false, true);

  /** {@code FULL_OBJECT} or {@code COMPOSITE}, as S3 spells a checksum type. */
  static final String FULL_OBJECT = "FULL_OBJECT";
  static final String COMPOSITE = "COMPOSITE";

  private final String lower;
  private final String upper;
  private final int bytes;
  private final boolean fullObject;
  private final boolean composite;

  ChecksumAlgorithm(String lower, String upper, int bytes, boolean fullObject, boolean composite) {
    this.lower = lower;
    this.upper = upper;
    this.bytes = bytes;
    this.fullObject = fullObject;
    this.composite = composite;
  }

  /** The request and response header, such as {@code x-amz-checksum-crc32c}. */
  String header() {
    return "x-amz-checksum-" + lower;
  }

  /** The XML element of a result, such as {@code ChecksumCRC32C}. */
  String element() {
    return "Checksum" + upper;
  }

  /** The name in {@code x-amz-checksum-algorithm} and ListParts, such as {@code CRC32C}. */
  String apiName() {
    return upper;
  }

  boolean allowsFullObject() {
    return fullObject;
  }

  boolean allowsComposite() {
    return composite;
  }

  /** The algorithm named {@code name} ({@code CRC32C}, {@code crc32c}), or null. */
  static ChecksumAlgorithm named(String name) {
    if (name == null) {
      return null;
    }
    for (ChecksumAlgorithm a : values()) {
      if (a.upper.equals(name.toUpperCase(Locale.ROOT))) {
        return a;
      }
    }
    return null;
  }

  /** Whether {@code base64} decodes to a value of this algorithm's length. */
  boolean isWellFormed(String base64) {
    try {
      return Base64.getDecoder().decode(base64).length == bytes;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The checksum of {@code length} bytes from {@code offset}, in base64. */
  String of(byte[] data, int offset, int length) {
    return Base64.getEncoder().encodeToString(raw(data, offset, length));
  }

  /** The checksum of all of {@code data}, in base64. */
  String of(byte[] data) {
    return of(data, 0, data.length);
  }

  /** The checksum's bytes. */
  byte[] raw(byte[] data, int offset, int length) {
    return switch (this) {
      case CRC32 -> crc(CRC32::new, data, offset, length, 4);
      case CRC32C -> crc(CRC32C::new, data, offset, length, 4);
      case CRC64NVME -> crc(Crc64Nvme::new, data, offset, length, 8);
      case SHA1 -> digest("SHA-1", data, offset, length);
      case SHA256 -> digest("SHA-256", data, offset, length);
    };
  }

  /**
   * A composite checksum: this algorithm over the concatenated bytes of the parts' checksums
   * (given in base64), followed by {@code -} and the number of parts.
   */
  String composite(java.util.List<String> partChecksums) {
    ByteBuffer all = ByteBuffer.allocate(bytes * partChecksums.size());
    for (String part : partChecksums) {
      all.put(Base64.getDecoder().decode(part));
    }
    return of(all.array()) + "-" + partChecksums.size();
  }

  private static byte[] crc(Supplier<java.util.zip.Checksum> kind, byte[] data, int offset,
      int length, int width) {
    java.util.zip.Checksum crc = kind.get();
    crc.update(data, offset, length);
    byte[] out = ByteBuffer.allocate(8).putLong(crc.getValue()).array();
    return java.util.Arrays.copyOfRange(out, 8 - width, 8);
  }

  static byte[] digest(String algorithm, byte[] data, int offset, int length) {
    try {
      MessageDigest md = MessageDigest.getInstance(algorithm);
      md.update(data, offset, length);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is required of every JDK", e);
    }
  }
}
