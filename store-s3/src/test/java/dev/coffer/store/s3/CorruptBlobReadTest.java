package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * A blob object overwritten behind the store's back by another client: every whole, sequential
 * read fails with DataLossException naming the digest (INT-2 of docs/architecture.md); a ranged
 * read is served as stored, since it cannot be verified by itself.
 */
class CorruptBlobReadTest extends SimStoreTestBase {

  private void overwrite(Digest digest, byte[] bytes) {
    stores.client(SimStores.INSPECTOR, config().build()).putObject(
        b -> b.bucket(SimStores.BUCKET).key(keys.blob(digest)), RequestBody.fromBytes(bytes));
  }

  private static byte[] flipped(byte[] content) {
    byte[] bad = content.clone();
    bad[bad.length / 2] ^= 1;
    return bad;
  }

  private static byte[] drain(ReaderAt reader) throws Exception {
    try (InputStream in = reader.stream(0)) {
      return in.readAllBytes();
    }
  }

  @Test
  void aFlippedBitFailsEveryWholeReadWithDataLoss() throws Exception {
    ContentStore store = open("h");
    for (int size : new int[] {1000, 12 * MIB + 3}) {
      byte[] content = random(size, size);
      Digest digest = Digest.of(content);
      Content.writeBlob(store, "r" + size, new java.io.ByteArrayInputStream(content),
          Descriptor.of(digest, size), null);
      overwrite(digest, flipped(content));

      assertThatThrownBy(() -> Content.readBlob(store, Descriptor.of(digest, size)))
          .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString());
      try (ReaderAt reader = store.readerAt(Descriptor.of(digest, size))) {
        assertThatThrownBy(() -> drain(reader)).isInstanceOf(DataLossException.class)
            .hasMessageContaining(digest.toString())
            .hasMessageContaining(Digest.of(flipped(content)).toString());
      }
      // A ranged read is not verified: it returns what is stored.
      try (ReaderAt reader = store.readerAt(Descriptor.of(digest, size))) {
        ByteBuffer dst = ByteBuffer.allocate(10);
        assertThat(reader.read(dst, size / 2 - 5)).isEqualTo(10);
        assertThat(dst.array()[5]).isEqualTo(flipped(content)[size / 2]);
      }
    }
  }

  @Test
  void anObjectOfAnotherLengthFailsWithDataLossAtOnce() {
    ContentStore store = open("h");
    byte[] content = random(5000, 7);
    Digest digest = Digest.of(content);
    store.put(content, digest, null);
    overwrite(digest, java.util.Arrays.copyOf(content, 4000));
    try (ReaderAt reader = store.readerAt(Descriptor.of(digest, 5000))) {
      assertThatThrownBy(() -> reader.read(ByteBuffer.allocate(100), 0))
          .isInstanceOf(DataLossException.class)
          .hasMessageContaining("4000 bytes, expected 5000");
    }
  }

  @Test
  void anIntactBlobReadsInOrderAfterAJump() throws Exception {
    ContentStore store = open("h");
    byte[] content = random(3 * MIB, 9);
    Digest digest = Digest.of(content);
    store.put(content, digest, null);
    try (ReaderAt reader = store.readerAt(Descriptor.of(digest, content.length))) {
      reader.read(ByteBuffer.allocate(10), 1000); // a jump: that pass is not verified
      assertThat(drain(reader)).isEqualTo(content); // a new pass from 0 is, and passes
    }
  }
}
