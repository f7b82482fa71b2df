package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A live record whose blob object is gone (a purger's DeleteObject that reached S3 after the blob
 * was committed again, or an object removed by hand) is healed by the next commit of the same
 * bytes, and fsck reports it and, repairing, leaves it live with its references: writers check
 * the object before they are told the content exists (docs/architecture.md, PROTO-5, INT-3).
 */
class RecordWithoutBlobTest extends SimStoreTestBase {

  private Digest storeLarge(ContentStore store, byte[] bytes, String ref) {
    Digest digest = Digest.of(bytes);
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(bytes));
      w.commitAndRef(bytes.length, digest, Map.of());
    }
    return digest;
  }

  @Test
  void aCommitOfContentWhoseObjectIsMissingStoresItAgain() {
    ContentStore store = open("h");
    byte[] bytes = random(6 * MIB, 1);
    Digest digest = storeLarge(store, bytes, "first");
    stores.delete(keys.blob(digest));

    try (Writer w = store.writer("again", Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(bytes));
      assertThatThrownBy(() -> w.commit(bytes.length, digest, Map.of()))
          .isInstanceOf(AlreadyExistsException.class);
    }

    assertThat(read(store, digest)).isEqualTo(bytes);
    assertThat(store.info(digest).refCount()).isEqualTo(1);
  }

  @Test
  void aCommitAndRefOfContentWhoseObjectIsMissingStoresItAgain() {
    ContentStore store = open("h");
    byte[] bytes = random(6 * MIB, 2);
    Digest digest = storeLarge(store, bytes, "first");
    stores.delete(keys.blob(digest));

    assertThat(store.info(digest).refCount()).isEqualTo(1);
    storeLarge(store, bytes, "again");

    assertThat(read(store, digest)).isEqualTo(bytes);
    assertThat(store.info(digest).refCount()).isEqualTo(2);
  }

  @Test
  void fsckReportsALiveRecordWithoutItsObjectAndARepairKeepsItsReferences() {
    ContentStore store = open("h");
    byte[] bytes = random(1000, 3);
    Digest digest = store.putAndRef(bytes, null, Map.of("team", "ci")).digest();
    stores.delete(keys.blob(digest));

    for (boolean repair : new boolean[] {false, true}) {
      assertThat(store.fsck(repair).findings()).singleElement().satisfies(f -> {
        assertThat(f.kind()).isEqualTo(FsckReport.Kind.RECORD_WITHOUT_BLOB);
        assertThat(f.repaired()).isFalse();
      });
    }
    assertThat(store.info(digest).refCount()).isEqualTo(1);

    // A writer with the expected digest is not told it exists; its commit stores the bytes again.
    try (Writer w = store.writer("pull", Descriptor.of(digest, bytes.length))) {
      w.write(ByteBuffer.wrap(bytes));
      w.commitAndRef(bytes.length, digest, Map.of());
    }
    assertThat(read(store, digest)).isEqualTo(bytes);
    assertThat(store.info(digest).refCount()).isEqualTo(2);
    assertThat(store.info(digest).labels()).containsEntry("team", "ci");
    assertThat(store.fsck(false).findings()).isEmpty();
  }
}
