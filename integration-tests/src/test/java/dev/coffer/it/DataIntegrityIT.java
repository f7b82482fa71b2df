package dev.coffer.it;

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
import dev.coffer.store.ReaderAt;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.s3.S3Stores;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A blob object overwritten behind the store's back by another S3 client, on S3Mock: every whole
 * read fails with DataLossException (no cache, memory tier, disk tier), {@code fsck --verify}
 * finds it, and {@code --repair} followed by a put of the true bytes restores a readable blob
 * whose references, links and labels are intact (INT-2, INT-3, INT-4 of docs/architecture.md).
 */
class DataIntegrityIT {
  private static final int MIB = 1 << 20;

  @TempDir
  Path temp;

  private String bucket;
  private String prefix;
  private S3Client other;
  private ContentStore s3;

  @BeforeEach
  void setUp() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
    other = S3Mock.get().client();
    s3 = S3Stores.open(S3Mock.get().config(bucket, prefix).build());
  }

  @AfterEach
  void tearDown() {
    s3.close();
    other.close();
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private void overwrite(Digest digest, byte[] bytes) {
    other.putObject(b -> b.bucket(bucket)
        .key(prefix + "blobs/" + digest.algorithm().label() + "/" + digest.hex()),
        RequestBody.fromBytes(bytes));
  }

  private static byte[] stream(ContentStore store, Digest digest) throws Exception {
    try (ReaderAt reader = store.readerAt(digest); InputStream in = reader.stream(0)) {
      return in.readAllBytes();
    }
  }

  private ContentStore cache(String name, long memoryMaxBlobBytes) {
    return CachingStores.builder(s3).config(CacheConfig.builder()
        .directory(temp.resolve(name)).memoryMaxBlobBytes(memoryMaxBlobBytes)
        .diskMaxBytes(256L * MIB).build()).build();
  }

  @Test
  void everyWholeReadFailsWithDataLossAndRepairThenPutRestoresTheBlob() throws Exception {
    byte[] small = random(2000, 1);
    byte[] large = random(12 * MIB + 5, 2);
    Digest smallDigest = Digest.of(small);
    Digest largeDigest = Digest.of(large);
    s3.putAndRef(small, smallDigest, Map.of("kind", "manifest"));
    Content.writeBlob(s3, "large", new ByteArrayInputStream(large),
        Descriptor.of(largeDigest, large.length), Map.of("kind", "layer"));
    s3.ref(largeDigest);
    s3.link(largeDigest, smallDigest);
    Info smallBefore = s3.info(smallDigest);
    Info largeBefore = s3.info(largeDigest);

    overwrite(smallDigest, random(2000, 3));
    overwrite(largeDigest, random(12 * MIB + 5, 4));

    List<ContentStore> readers = List.of(s3, cache("memory", 4096), cache("disk", 0));
    for (ContentStore store : readers) {
      for (Digest digest : List.of(smallDigest, largeDigest)) {
        assertThatThrownBy(() -> Content.readBlob(store, Descriptor.of(digest)))
            .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString());
        assertThatThrownBy(() -> stream(store, digest))
            .isInstanceOf(DataLossException.class).hasMessageContaining(digest.toString());
      }
    }

    FsckReport found = s3.fsck(FsckOptions.of(false).verifying(100, 2, null));
    assertThat(found.findings()).filteredOn(f -> f.kind() == FsckReport.Kind.CORRUPT_BLOB)
        .extracting(FsckReport.Finding::subject)
        .containsExactlyInAnyOrder(smallDigest.toString(), largeDigest.toString());
    FsckReport repaired = s3.fsck(FsckOptions.of(true).verifying(100, 2, null));
    assertThat(repaired.clean()).isTrue();

    assertThatThrownBy(() -> s3.put(small, smallDigest, null))
        .isInstanceOf(AlreadyExistsException.class);
    Content.writeBlob(s3, "large-again", new ByteArrayInputStream(large),
        Descriptor.of(largeDigest, large.length), Map.of());
    for (ContentStore store : readers) {
      assertThat(stream(store, smallDigest)).isEqualTo(small);
      assertThat(Digest.of(stream(store, largeDigest))).isEqualTo(largeDigest);
    }
    Info smallAfter = s3.info(smallDigest);
    Info largeAfter = s3.info(largeDigest);
    assertThat(smallAfter.refCount()).isEqualTo(smallBefore.refCount());
    assertThat(smallAfter.links()).isEqualTo(smallBefore.links()).contains(largeDigest);
    assertThat(smallAfter.labels()).isEqualTo(Map.of("kind", "manifest"));
    assertThat(largeAfter.refCount()).isEqualTo(largeBefore.refCount());
    assertThat(largeAfter.labels()).isEqualTo(Map.of("kind", "layer"));
    // The restored objects carry the tags their writer sent, not the record's count: only the
    // tag mirror drifts, which a plain repair reconciles (the record is the truth).
    FsckReport after = s3.fsck(FsckOptions.of(false).verifying(100, 2, null));
    assertThat(after.findings()).as("%s", after.findings())
        .allMatch(f -> f.kind() == FsckReport.Kind.TAG_DRIFT);
    assertThat(s3.fsck(FsckOptions.of(true)).clean()).isTrue();
    assertThat(s3.fsck(FsckOptions.of(false).verifying(100, 2, null)).clean()).isTrue();
    readers.subList(1, readers.size()).forEach(ContentStore::close);
  }
}
