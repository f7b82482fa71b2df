package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.DataLossException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.Info;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * INT-3: fsck --verify finds a blob whose object was overwritten behind the store's back; with
 * --repair the next commit of the true bytes restores it with its references, links and labels.
 */
class FsckVerifyTest extends SimStoreTestBase {

  private void overwrite(Digest digest, byte[] bytes) {
    stores.client(SimStores.INSPECTOR, config().build()).putObject(
        b -> b.bucket(SimStores.BUCKET).key(keys.blob(digest)), RequestBody.fromBytes(bytes));
  }

  private static List<FsckReport.Finding> corrupt(FsckReport report) {
    return report.findings().stream()
        .filter(f -> f.kind() == FsckReport.Kind.CORRUPT_BLOB).toList();
  }

  private Digest commit(ContentStore store, String ref, byte[] content, boolean withDigest) {
    Digest digest = Digest.of(content);
    try (Writer w = store.writer(ref, withDigest ? Descriptor.of(digest, content.length)
        : Descriptor.UNKNOWN)) {
      w.write(ByteBuffer.wrap(content));
      w.commitAndRef(content.length, digest, Map.of("team", "ci"));
    }
    return digest;
  }

  @Test
  void verifyFindsCorruptBlobsAndRepairLetsTheTruePutRestoreThem() {
    ContentStore store = open("h");
    byte[] small = random(1000, 1);
    byte[] large = random(12 * MIB + 1, 2);
    byte[] intact = random(3000, 3);
    Digest smallDigest = commit(store, "small", small, false);
    Digest largeDigest = commit(store, "large", large, false);
    Digest intactDigest = commit(store, "intact", intact, false);
    store.link(smallDigest, largeDigest);
    store.ref(smallDigest);
    overwrite(smallDigest, random(1000, 9));
    overwrite(largeDigest, random(12 * MIB + 1, 9));

    assertThat(corrupt(store.fsck(FsckOptions.of(false)))).isEmpty(); // only with --verify
    AtomicLong total = new AtomicLong();
    AtomicLong read = new AtomicLong();
    FsckOptions verify = FsckOptions.of(false).verifying(100, 2, new FsckOptions.Progress() {
      @Override
      public void started(long blobs, long bytes) {
        total.set(bytes);
      }

      @Override
      public void read(long bytes) {
        read.addAndGet(bytes);
      }
    });
    FsckReport report = store.fsck(verify);
    assertThat(corrupt(report)).extracting(FsckReport.Finding::subject)
        .containsExactlyInAnyOrder(smallDigest.toString(), largeDigest.toString());
    assertThat(corrupt(report)).noneMatch(FsckReport.Finding::repaired);
    assertThat(report.clean()).isFalse();
    assertThat(total.get()).isEqualTo(1000 + 12 * MIB + 1 + 3000).isEqualTo(read.get());

    FsckReport repaired = store.fsck(FsckOptions.of(true).verifying(100, 2, null));
    assertThat(corrupt(repaired)).hasSize(2).allMatch(FsckReport.Finding::repaired);
    assertThat(repaired.clean()).isTrue();
    assertThat(stores.keys(PREFIX)).doesNotContain(keys.blob(smallDigest), keys.blob(largeDigest))
        .contains(keys.blob(intactDigest));

    // The true bytes again: a writer opened with the digest, and one without.
    commit(store, "small-again", small, true);
    commit(store, "large-again", large, false);
    assertThat(read(store, smallDigest)).isEqualTo(small);
    assertThat(Digest.of(read(store, largeDigest))).isEqualTo(largeDigest);
    Info smallInfo = store.info(smallDigest);
    assertThat(smallInfo.labels()).isEqualTo(Map.of("team", "ci"));
    // commitAndRef 1; the link takes over that reference; ref 2; commitAndRef of the true bytes 3
    assertThat(smallInfo.refCount()).isEqualTo(3);
    assertThat(store.info(largeDigest).links()).contains(smallDigest);
    assertThat(store.fsck(FsckOptions.of(false).verifying(100, 1, null)).clean()).isTrue();
  }

  @Test
  void aSampleReadsAShareChosenByDigest() {
    ContentStore store = open("h");
    int chosen = 0;
    for (int i = 0; i < 40; i++) {
      byte[] content = random(100, 100 + i);
      store.put(content, null, null);
      overwrite(Digest.of(content), random(100, 1000 + i));
      if (FsckOptions.of(false).verifying(25, 4, null).samples(Digest.of(content))) {
        chosen++;
      }
    }
    assertThat(chosen).isBetween(3, 20);
    FsckReport report = store.fsck(FsckOptions.of(false).verifying(25, 4, null));
    assertThat(corrupt(report)).hasSize(chosen);
  }

  @Test
  void aReadOfACorruptBlobFailsUntilRepairedAndRestored() {
    ContentStore store = open("h");
    byte[] content = random(2000, 5);
    Digest digest = Digest.of(content);
    store.put(content, digest, null);
    overwrite(digest, random(2000, 6));
    assertThatThrownBy(() -> Content.readBlob(store, Descriptor.of(digest)))
        .isInstanceOf(DataLossException.class);
    store.fsck(FsckOptions.of(true).verifying(100, 1, null));
    // A put of stored content is AlreadyExists, as ever; it stores the bytes again first.
    assertThatThrownBy(() -> store.put(content, digest, null))
        .isInstanceOf(AlreadyExistsException.class);
    assertThat(read(store, digest)).isEqualTo(content);
  }
}
