package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The checksums against their standard check values, the CRT's and the JDK's. */
class ChecksumAlgorithmTest {
  private static final byte[] CHECK = "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  @Test
  void crc64NvmeHasItsCheckValue() {
    Crc64Nvme crc = new Crc64Nvme();
    crc.update(CHECK, 0, CHECK.length);
    assertThat(crc.getValue()).isEqualTo(0xae8b14860a799888L);
    crc.reset();
    for (byte b : CHECK) {
      crc.update(b);
    }
    assertThat(crc.getValue()).isEqualTo(0xae8b14860a799888L);
  }

  @Test
  void crc64NvmeAgreesWithTheCrtsAtEverySizeAndSplit() {
    Random random = new Random(1);
    for (int size : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 1000, 65_537}) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      software.amazon.awssdk.crt.checksums.CRC64NVME crt =
          new software.amazon.awssdk.crt.checksums.CRC64NVME();
      crt.update(data, 0, size);
      Crc64Nvme ours = new Crc64Nvme();
      int split = size / 3;
      ours.update(data, 0, split);
      ours.update(data, split, size - split);
      assertThat(ours.getValue()).as("size " + size).isEqualTo(crt.getValue());
      assertThat(ChecksumAlgorithm.CRC64NVME.of(data)).isEqualTo(Base64.getEncoder()
          .encodeToString(ByteBuffer.allocate(8).putLong(crt.getValue()).array()));
    }
  }

  @Test
  void crcsAreTheirBigEndianBytesAndDigestsTheirBytes() throws Exception {
    byte[] data = new byte[5000];
    new Random(2).nextBytes(data);
    CRC32C crc = new CRC32C();
    crc.update(data);
    assertThat(ChecksumAlgorithm.CRC32C.of(data)).isEqualTo(Base64.getEncoder().encodeToString(
        ByteBuffer.allocate(4).putInt((int) crc.getValue()).array()));
    assertThat(ChecksumAlgorithm.CRC32.of(CHECK)).isEqualTo(Base64.getEncoder()
        .encodeToString(ByteBuffer.allocate(4).putInt(0xcbf43926).array()));
    assertThat(ChecksumAlgorithm.SHA256.of(data)).isEqualTo(Base64.getEncoder()
        .encodeToString(MessageDigest.getInstance("SHA-256").digest(data)));
    assertThat(ChecksumAlgorithm.SHA1.of(data)).isEqualTo(Base64.getEncoder()
        .encodeToString(MessageDigest.getInstance("SHA-1").digest(data)));
  }

  @Test
  void aCompositeChecksumIsTheChecksumOfThePartChecksumsAndTheirCount() throws Exception {
    byte[] a = "part one".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] b = "part two".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(MessageDigest.getInstance("SHA-256").digest(a));
    sha.update(MessageDigest.getInstance("SHA-256").digest(b));
    String expected = Base64.getEncoder().encodeToString(sha.digest()) + "-2";
    assertThat(ChecksumAlgorithm.SHA256.composite(List.of(ChecksumAlgorithm.SHA256.of(a),
        ChecksumAlgorithm.SHA256.of(b)))).isEqualTo(expected);
  }

  @Test
  void namesAndWellFormedValues() {
    assertThat(ChecksumAlgorithm.named("crc32c")).isEqualTo(ChecksumAlgorithm.CRC32C);
    assertThat(ChecksumAlgorithm.named("CRC64NVME")).isEqualTo(ChecksumAlgorithm.CRC64NVME);
    assertThat(ChecksumAlgorithm.named("md4")).isNull();
    assertThat(ChecksumAlgorithm.CRC32.isWellFormed("AAAAAA==")).isTrue();
    assertThat(ChecksumAlgorithm.CRC32.isWellFormed("AAAAAAAAAAA=")).isFalse();
    assertThat(ChecksumAlgorithm.SHA256.isWellFormed("not base64!")).isFalse();
    assertThat(ChecksumAlgorithm.CRC32C.header()).isEqualTo("x-amz-checksum-crc32c");
    assertThat(ChecksumAlgorithm.CRC64NVME.element()).isEqualTo("ChecksumCRC64NVME");
  }
}
