package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/** The S3 store's own behaviour against S3Mock, beside the conformance suite. */
class S3StoreIT {
  private static final long MIB = 1 << 20;

  private final List<ContentStore> stores = new ArrayList<>();
  private String bucket;
  private String prefix;
  private ContentStore store;

  @BeforeEach
  void setUp() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
    store = open(config().build());
  }

  @AfterEach
  void tearDown() {
    stores.forEach(ContentStore::close);
  }

  private S3StoreConfig.Builder config() {
    return S3Mock.get().config(bucket, prefix).partSize(5 * MIB)
        .transfer(S3StoreConfig.Transfer.JAVA_ASYNC);
  }

  private ContentStore open(S3StoreConfig config) {
    ContentStore s = S3Stores.open(config);
    stores.add(s);
    return s;
  }

  static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  static byte[] readAll(ContentStore store, Digest digest) {
    return Content.readBlob(store, Descriptor.of(digest));
  }

  @Test
  void smallBlobIsOneObjectAtItsDigestKeyAndReadsStopAtTheEnd() {
    byte[] bytes = "foobar".getBytes();
    Digest digest = Digest.of(bytes);
    Content.writeBlob(store, "small", new ByteArrayInputStream(bytes), Descriptor.of(digest, 6),
        Map.of("k", "v"));

    Info info = store.info(digest);
    assertThat(info.size()).isEqualTo(6);
    assertThat(info.labels()).containsExactly(Map.entry("k", "v"));
    try (ReaderAt reader = store.readerAt(digest)) {
      ByteBuffer seven = ByteBuffer.allocate(7);
      assertThat(reader.read(seven, 0)).isEqualTo(6);
      assertThat(new String(seven.array(), 0, 6)).isEqualTo("foobar");
      assertThat(reader.read(ByteBuffer.allocate(7), 6)).isEqualTo(-1);
      assertThat(reader.read(ByteBuffer.allocate(3), 4)).isEqualTo(2);
    }
    try (S3Client plain = S3Mock.get().client()) {
      byte[] stored = plain.getObjectAsBytes(b -> b.bucket(bucket)
          .key(prefix + "blobs/sha256/" + digest.hex())).asByteArray();
      assertThat(stored).isEqualTo(bytes);
      assertThat(plain.listObjectsV2(b -> b.bucket(bucket).prefix(prefix + "ingest/")).contents())
          .isEmpty();
    }
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  void resumeInThisInstanceAndInAnotherKeepsOffsetStartedAtAndDigest() {
    byte[] bytes = random(256, 1);
    Digest digest = Digest.of(bytes);
    Writer first = store.writer("resume", Descriptor.of(digest, 256));
    first.write(bytes, 0, 128);
    Status before = first.status();
    first.close();

    Writer same = store.writer("resume", Descriptor.of(digest, 256));
    assertThat(same.status()).isEqualTo(before);
    assertThat(same.digest()).isEqualTo(Digest.of(java.util.Arrays.copyOf(bytes, 128)));
    same.write(bytes, 128, 64);
    same.close();

    ContentStore peer = open(config().build());
    Writer other = peer.writer("resume", Descriptor.of(digest, 256));
    assertThat(other.status().offset()).isEqualTo(192);
    assertThat(other.status().startedAt()).isEqualTo(before.startedAt());
    assertThat(other.digest()).isEqualTo(Digest.of(java.util.Arrays.copyOf(bytes, 192)));
    other.write(bytes, 192, 64);
    other.commit(256, digest, null);
    other.close();
    assertThat(readAll(store, digest)).isEqualTo(bytes);
    assertThatThrownBy(() -> store.status("resume")).isInstanceOf(NotFoundException.class);
  }

  @Test
  void largeIngestResumedByAnotherInstanceContinuesWithServerSideCopies() {
    byte[] bytes = random((int) (13 * MIB + 12345), 2);
    Digest digest = Digest.of(bytes);
    Writer first = store.writer("large", Descriptor.of(digest, bytes.length));
    first.write(bytes, 0, (int) (11 * MIB + 7));
    first.close();

    ContentStore peer = open(config().build());
    Writer other = peer.writer("large", Descriptor.of(digest, bytes.length));
    assertThat(other.status().offset()).isEqualTo(11 * MIB + 7);
    assertThat(other.digest())
        .isEqualTo(Digest.of(java.util.Arrays.copyOf(bytes, (int) (11 * MIB + 7))));
    other.write(bytes, (int) (11 * MIB + 7), bytes.length - (int) (11 * MIB + 7));
    other.commit(bytes.length, digest, Map.of());
    assertThat(readAll(peer, digest)).isEqualTo(bytes);
    assertThat(store.info(digest).size()).isEqualTo(bytes.length);
  }

  @Test
  void failedCommitsKeepTheIngestAndExistingContentDiscardsIt() {
    byte[] d1 = random(256, 3);
    Digest digest = Digest.of(d1);
    Content.writeBlob(store, "seed", new ByteArrayInputStream(d1), Descriptor.of(digest, 256),
        Map.of());

    Writer w = store.writer("R", Descriptor.UNKNOWN);
    w.write(d1);
    assertThatThrownBy(() -> store.writer("R", Descriptor.UNKNOWN))
        .isInstanceOf(UnavailableException.class);
    assertThatThrownBy(() -> w.commit(256, digest, null))
        .isInstanceOf(AlreadyExistsException.class);
    assertThatThrownBy(() -> store.status("R")).isInstanceOf(NotFoundException.class);

    Writer w4 = store.writer("R", Descriptor.UNKNOWN);
    w4.write(d1);
    w4.write("more".getBytes());
    assertThatThrownBy(() -> w4.commit(260, Digest.of(new byte[] {1}), null))
        .isInstanceOf(FailedPreconditionException.class);
    Writer w5 = store.writer("R", Descriptor.UNKNOWN);
    assertThat(w5.status().offset()).isEqualTo(260);
    assertThatThrownBy(() -> w5.commit(256, null, null))
        .isInstanceOf(FailedPreconditionException.class);
    Writer w6 = store.writer("R", Descriptor.UNKNOWN);
    w6.commit(260, null, null);
    assertThat(store.info(w6.digest()).size()).isEqualTo(260);

    Writer w8 = store.writer("R", Descriptor.UNKNOWN);
    w8.truncate(0);
    w8.close();
    Writer w9 = store.writer("R", Descriptor.UNKNOWN);
    w9.truncate(0);
    w9.close();
    assertThat(store.listStatuses()).extracting(Status::ref, Status::offset)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("R", 0L));
    store.abort("R");
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  void multipartBlobReadsBackInParallelChunks() {
    byte[] bytes = random((int) (17 * MIB + 3), 4);
    Digest digest = Digest.of(bytes);
    try (Writer w = store.writer("mp", Descriptor.of(digest, bytes.length))) {
      for (int at = 0; at < bytes.length; at += 1 << 20) {
        w.write(bytes, at, Math.min(1 << 20, bytes.length - at));
      }
      w.commit(bytes.length, digest, null);
    }
    assertThat(readAll(store, digest)).isEqualTo(bytes);
    try (ReaderAt reader = store.readerAt(digest)) {
      byte[] middle = new byte[100];
      assertThat(reader.read(middle, 0, 100, 9 * MIB)).isEqualTo(100);
      assertThat(middle).isEqualTo(java.util.Arrays.copyOfRange(bytes, (int) (9 * MIB),
          (int) (9 * MIB) + 100));
    }
  }

  @Test
  void labelsUpdateWalkAndFilters() {
    Digest a = commit("a", "alpha", Map.of("k1", "v1", "k2", "v2"));
    Digest b = commit("b", "beta", Map.of("k1", "other"));
    Info updated = store.update(Info.forUpdate(a, Map.of("k1", "new", "k3", "v3")));
    assertThat(updated.labels()).containsOnlyKeys("k1", "k3");
    Info partial = store.update(Info.forUpdate(a, Map.of("k1", "v1", "k3", "")), "labels.k3",
        "labels.k1");
    assertThat(partial.labels()).containsExactly(Map.entry("k1", "v1"));
    assertThat(partial.updatedAt()).isAfterOrEqualTo(partial.createdAt());

    List<Digest> seen = new ArrayList<>();
    store.walk(i -> seen.add(i.digest()), "labels.k1==other");
    assertThat(seen).containsExactly(b);
    seen.clear();
    store.walk(i -> seen.add(i.digest()));
    assertThat(seen).containsExactlyInAnyOrder(a, b);
  }

  private Digest commit(String ref, String content, Map<String, String> labels) {
    byte[] bytes = content.getBytes();
    Content.writeBlob(store, ref, new ByteArrayInputStream(bytes), Descriptor.of(Digest.of(bytes)),
        labels);
    return Digest.of(bytes);
  }

  private Digest commitAndRef(String ref, String content) {
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      w.write(content.getBytes());
      return w.commitAndRef(0, null, null).digest();
    }
  }

  @Test
  void referenceCountsCascadeThroughCyclesAndCommitResurrects() {
    Digest a = commitAndRef("a", "alpha");
    Digest b = commitAndRef("b", "beta");
    Digest c = commitAndRef("c", "gamma");
    assertThat(commitAndRef("a2", "alpha")).isEqualTo(a);
    assertThat(store.info(a).refCount()).isEqualTo(2);
    store.deref(a);

    store.link(b, a); // a -> b, b's reference moves to the link
    store.link(c, b); // b -> c
    store.ref(a);
    store.link(a, c); // c -> a: a cycle
    assertThat(store.info(a).links()).containsExactly(b);
    assertThat(store.info(a).refCount()).isEqualTo(2);

    store.deref(a);
    store.deref(a); // a reaches 0: cascade b, c, then a again (already gone)
    assertThatThrownBy(() -> store.info(a)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.info(b)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.info(c)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.readerAt(a)).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> store.deref(a)).isInstanceOf(NotFoundException.class);

    Info back = commitAndRefInfo("a3", "alpha");
    assertThat(back.refCount()).isEqualTo(1);
    assertThat(back.links()).isEmpty();
    assertThat(new String(readAll(store, a))).isEqualTo("alpha");

    store.delete(a);
    assertThatThrownBy(() -> store.info(a)).isInstanceOf(NotFoundException.class);
    commit("a4", "alpha", Map.of("again", "yes"));
    assertThat(store.info(a).labels()).containsExactly(Map.entry("again", "yes"));
    assertThat(store.info(a).refCount()).isZero();
    assertThatThrownBy(() -> store.deref(a)).isInstanceOf(FailedPreconditionException.class);
  }

  private Info commitAndRefInfo(String ref, String content) {
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      w.write(content.getBytes());
      return w.commitAndRef(0, null, null);
    }
  }
}
