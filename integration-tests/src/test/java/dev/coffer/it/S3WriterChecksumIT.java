package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.Part;

/**
 * The Writer's running digest, hashed off the writing thread part by part, and the per-part
 * checksums the server received: CRC32C by default, SHA-256 when chosen, none with WHEN_REQUIRED.
 */
class S3WriterChecksumIT {
  private static final int MIB = 1 << 20;
  private static final int PART = 5 * MIB;

  private final List<ContentStore> stores = new ArrayList<>();
  private String bucket;
  private String prefix;
  private S3Client client;

  @BeforeEach
  void setUp() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
    client = S3Mock.get().client();
  }

  @AfterEach
  void tearDown() {
    stores.forEach(ContentStore::close);
    client.close();
  }

  private ContentStore open(S3StoreConfig.ChecksumMode mode) {
    return open(mode, 2);
  }

  private ContentStore open(S3StoreConfig.ChecksumMode mode, int uploadConcurrency) {
    S3StoreConfig.Builder config = S3Mock.get().config(bucket, prefix).partSize(PART)
        .uploadConcurrency(uploadConcurrency).transfer(S3StoreConfig.Transfer.JAVA_ASYNC);
    if (mode != null) {
      config.checksumMode(mode);
    }
    ContentStore store = S3Stores.open(config.build());
    stores.add(store);
    return store;
  }

  @Test
  void digestIsRightAtEveryPointAcrossPartBoundariesWithOddWriteSizes() {
    ContentStore store = open(null);
    byte[] bytes = S3StoreIT.random(3 * PART + 12_345, 7);
    int[] sizes = {1, 777_777, PART - 777_778, 3 * MIB + 13, 2 * PART + 1, 65_537};
    try (Writer writer = store.writer("odd", Descriptor.UNKNOWN)) {
      int at = 0;
      for (int i = 0; at < bytes.length; i++) {
        int take = Math.min(sizes[i % sizes.length], bytes.length - at);
        writer.write(ByteBuffer.wrap(bytes, at, take));
        at += take;
        // Asked between writes, the digest covers exactly the bytes so far, whether they are
        // still in the buffer or in parts hashed in the background.
        assertThat(writer.digest()).isEqualTo(Digest.of(Arrays.copyOf(bytes, at)));
      }
      writer.commit(bytes.length, Digest.of(bytes), Map.of());
    }
    assertThat(Content.readBlob(store, Descriptor.of(Digest.of(bytes)))).isEqualTo(bytes);
  }

  @Test
  void truncateDuringBackgroundHashingStartsTheDigestAfresh() {
    ContentStore store = open(null);
    byte[] first = S3StoreIT.random(2 * PART + 3, 11);
    byte[] second = S3StoreIT.random(PART + 99, 12);
    try (Writer writer = store.writer("truncated", Descriptor.UNKNOWN)) {
      writer.write(ByteBuffer.wrap(first));
      writer.truncate(0);
      writer.write(ByteBuffer.wrap(second));
      assertThat(writer.digest()).isEqualTo(Digest.of(second));
      writer.commit(second.length, Digest.of(second), Map.of());
    }
    assertThat(Content.readBlob(store, Descriptor.of(Digest.of(second)))).isEqualTo(second);
  }

  @Test
  void pausedAndResumedIngestKeepsTheDigestOfEveryByte() {
    byte[] bytes = S3StoreIT.random(2 * PART + 4_321, 13);
    int pause = PART + 1_000;
    try (Writer writer = open(null).writer("paused", Descriptor.UNKNOWN)) {
      writer.write(ByteBuffer.wrap(bytes, 0, pause));
    }
    // Another store instance re-reads what the first made durable, then goes on.
    ContentStore resumer = open(null);
    try (Writer writer = resumer.writer("paused", Descriptor.UNKNOWN)) {
      assertThat(writer.status().offset()).isEqualTo(pause);
      assertThat(writer.digest()).isEqualTo(Digest.of(Arrays.copyOf(bytes, pause)));
      writer.write(ByteBuffer.wrap(bytes, pause, bytes.length - pause));
      writer.commit(bytes.length, Digest.of(bytes), Map.of());
    }
    assertThat(Content.readBlob(resumer, Descriptor.of(Digest.of(bytes)))).isEqualTo(bytes);
  }

  @Test
  void partsCarryTheirCrc32cByDefault() {
    byte[] bytes = S3StoreIT.random(2 * PART + 17, 21);
    List<Part> parts = uploadedParts(open(null, 1), bytes);
    for (Part part : parts) {
      byte[] sent = partBytes(bytes, part.partNumber());
      assertThat(part.checksumCRC32C()).as("part %d", part.partNumber()).isEqualTo(crc32c(sent));
      assertThat(part.checksumSHA256()).isNull();
    }
  }

  @Test
  void partsCarryTheirSha256WhenChosen() throws Exception {
    byte[] bytes = S3StoreIT.random(2 * PART + 17, 22);
    List<Part> parts = uploadedParts(open(S3StoreConfig.ChecksumMode.SHA256, 1), bytes);
    for (Part part : parts) {
      byte[] sent = partBytes(bytes, part.partNumber());
      assertThat(part.checksumSHA256()).as("part %d", part.partNumber())
          .isEqualTo(Base64.getEncoder().encodeToString(sha256(sent)));
      assertThat(part.checksumCRC32C()).isNull();
    }
  }

  @Test
  void partsCarryNoChecksumWhenOnlyRequiredOnesAreSent() {
    byte[] bytes = S3StoreIT.random(2 * PART + 17, 23);
    List<Part> parts = uploadedParts(open(S3StoreConfig.ChecksumMode.WHEN_REQUIRED, 1), bytes);
    for (Part part : parts) {
      assertThat(part.checksumCRC32C()).isNull();
      assertThat(part.checksumSHA256()).isNull();
    }
  }

  /**
   * Writes two full parts and a tail through a store with one part in flight, reads the two parts
   * from the server's listing of the ingest's upload, then commits the bytes and checks them.
   */
  private List<Part> uploadedParts(ContentStore store, byte[] bytes) {
    List<Part> parts;
    try (Writer writer = store.writer("parts", Descriptor.UNKNOWN)) {
      // With one buffer, the tail could only be buffered once part 2's upload had ended.
      writer.write(ByteBuffer.wrap(bytes));
      List<MultipartUpload> uploads = client.listMultipartUploads(b -> b.bucket(bucket)
          .prefix(prefix)).uploads();
      assertThat(uploads).hasSize(1);
      MultipartUpload upload = uploads.get(0);
      parts = client.listParts(b -> b.bucket(bucket).key(upload.key())
          .uploadId(upload.uploadId())).parts();
      assertThat(parts).extracting(Part::partNumber).containsExactly(1, 2);
      writer.commit(bytes.length, Digest.of(bytes), Map.of());
    }
    assertThat(Content.readBlob(store, Descriptor.of(Digest.of(bytes)))).isEqualTo(bytes);
    return parts;
  }

  private static byte[] partBytes(byte[] bytes, int partNumber) {
    int from = (partNumber - 1) * PART;
    return Arrays.copyOfRange(bytes, from, Math.min(from + PART, bytes.length));
  }

  private static String crc32c(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return Base64.getEncoder().encodeToString(
        ByteBuffer.allocate(Integer.BYTES).putInt((int) crc.getValue()).array());
  }

  private static byte[] sha256(byte[] bytes) throws NoSuchAlgorithmException {
    return MessageDigest.getInstance("SHA-256").digest(bytes);
  }
}
