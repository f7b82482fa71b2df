package dev.coffer.store.s3;

import dev.coffer.store.DigestAlgorithm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.zip.CRC32C;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * The checksums of the bodies the store sends and reads, as S3 spells them: base64 SHA-256, and
 * CRC32C as the base64 of its four big-endian bytes; which one a PutObject carries under each
 * checksum mode (INT-6); and a stream hashed to its end.
 */
final class BodyChecksums {

  private BodyChecksums() {}

  /**
   * Adds the checksum of a PutObject's body that {@code mode} asks for: {@code sha256} if known (S3
   * then checks the content address), else a SHA-256 or CRC32C computed here, or none with
   * {@code WHEN_REQUIRED}. With a checksum, a body changed on its way is refused by S3 even though
   * it is sent unsigned (INT-6).
   *
   * @param sha256 the body's SHA-256 if known, else null
   */
  static void addTo(PutObjectRequest.Builder request, S3StoreConfig.ChecksumMode mode,
      byte[] bytes, int length, byte[] sha256) {
    if (sha256 != null && mode != S3StoreConfig.ChecksumMode.WHEN_REQUIRED) {
      request.checksumSHA256(base64(sha256));
    } else if (mode == S3StoreConfig.ChecksumMode.SHA256) {
      request.checksumSHA256(base64(sha256(bytes, 0, length)));
    } else if (mode == S3StoreConfig.ChecksumMode.CRC32C) {
      request.checksumCRC32C(crc32c(bytes, 0, length));
    }
  }

  /** The SHA-256 of the bytes. */
  static byte[] sha256(byte[] bytes, int offset, int length) {
    MessageDigest hasher = DigestAlgorithm.SHA256.newHasher();
    hasher.update(bytes, offset, length);
    return hasher.digest();
  }

  /** The CRC32C of the bytes as S3 spells it: the four big-endian bytes in base64. */
  static String crc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return crc32c(crc);
  }

  /** The CRC32C {@code crc} holds, as S3 spells it. */
  static String crc32c(CRC32C crc) {
    return base64(ByteBuffer.allocate(Integer.BYTES).putInt((int) crc.getValue()).array());
  }

  /** The bytes in base64, as S3's checksum headers carry them. */
  static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  /**
   * Reads a stream to its end into {@code hasher} and, if {@code copy} is not null, into it.
   *
   * @return the bytes read
   */
  static long drain(InputStream in, MessageDigest hasher, ByteArrayOutputStream copy)
      throws IOException {
    byte[] buffer = new byte[1 << 16];
    long total = 0;
    int n;
    while ((n = in.read(buffer)) >= 0) {
      hasher.update(buffer, 0, n);
      if (copy != null) {
        copy.write(buffer, 0, n);
      }
      total += n;
    }
    return total;
  }
}
