package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;

/**
 * INT-5: a large commit checks the blob object it copied before its record goes live: the length,
 * and the full-object CRC32C S3 keeps for the copy against the one computed while writing. Here
 * the object is replaced by another client right after the copy, as a faulty copy would leave it.
 */
class PublishCheckTest extends SimStoreTestBase {
  private static final String REF = "layer";

  /** After the first CopyObject, replaces the blob object with {@code damage} of the content. */
  private void damageTheCopy(Digest digest, byte[] content, UnaryOperator<byte[]> damage) {
    AtomicBoolean done = new AtomicBoolean();
    sim().network().interceptor(e -> {
      e.proceed();
      if (e.operation() == Operation.COPY_OBJECT && !done.getAndSet(true)) {
        stores.client(SimStores.INSPECTOR, config().build()).putObject(
            b -> b.bucket(SimStores.BUCKET).key(keys.blob(digest))
                .checksumAlgorithm(ChecksumAlgorithm.CRC32_C),
            RequestBody.fromBytes(damage.apply(content)));
      }
    });
  }

  private void commitFailsThenARetryStoresTheContent(UnaryOperator<byte[]> damage,
      String message) {
    ContentStore store = open("h");
    byte[] content = random(12 * MIB + 9, 1);
    Digest digest = Digest.of(content);
    damageTheCopy(digest, content, damage);
    Writer w = store.writer(REF, Descriptor.UNKNOWN);
    w.write(ByteBuffer.wrap(content));
    assertThatThrownBy(() -> w.commit(content.length, digest, Map.of()))
        .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString())
        .hasMessageContaining(message);
    w.close();
    assertThatThrownBy(() -> store.info(digest)).isInstanceOf(NotFoundException.class);

    try (Writer again = store.writer(REF, Descriptor.UNKNOWN)) {
      again.commit(content.length, digest, Map.of());
    }
    assertThat(Digest.of(stores.read(keys.blob(digest)))).isEqualTo(digest);
    assertThat(store.info(digest).size()).isEqualTo(content.length);
  }

  @Test
  void aCopyOfAnotherLengthIsNeverPublished() {
    commitFailsThenARetryStoresTheContent(c -> Arrays.copyOf(c, c.length - 1),
        (12 * MIB + 8) + " bytes, expected " + (12 * MIB + 9));
  }

  @Test
  void aCopyWhoseFullObjectCrc32cDiffersIsNeverPublished() {
    commitFailsThenARetryStoresTheContent(c -> {
      byte[] bad = c.clone();
      bad[5 * MIB] ^= 1;
      // Stored by the other client with a CRC32C, as the copy of CRC32C parts would carry.
      return bad;
    }, "CRC32C");
  }
}
