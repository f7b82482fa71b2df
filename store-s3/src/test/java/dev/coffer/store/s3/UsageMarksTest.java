package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Uses recorded in the index record at most once per blob per touch interval across a farm
 * (RET-1), measured at the simulated S3: four hosts reading one blob.
 */
class UsageMarksTest extends SimStoreTestBase {
  private static final Duration DAY = Duration.ofDays(1);

  private S3Store s3(ContentStore store) {
    return (S3Store) store;
  }

  private long recordWrites(Digest digest) {
    return requests(Operation.PUT_OBJECT, keys.index(digest)).stream()
        .filter(r -> r.status() == 200).count();
  }

  private long recordRequests(Digest digest) {
    return sim().log().entries().stream()
        .filter(r -> keys.index(digest).equals(r.key())).count();
  }

  private static void use(ContentStore store, Digest digest) {
    Info info = store.info(digest);
    Content.readBlob(store, info.descriptor());
  }

  @Test
  void fourHostsReadingOneBlobWriteItsRecordOncePerInterval() {
    ContentStore writer = open("w");
    byte[] content = random(1000, 1);
    Digest digest = writer.put(content, null, Map.of()).digest();
    List<ContentStore> hosts = new ArrayList<>();
    for (String host : List.of("a", "b", "c", "d")) {
      hosts.add(open(host));
    }
    long writesBefore = recordWrites(digest);

    // Within the interval of the commit, the record shows a use: nothing is queued or written.
    clock.advance(Duration.ofHours(23));
    for (ContentStore host : hosts) {
      use(host, digest);
      assertThat(s3(host).marks.flush()).isZero();
    }
    assertThat(recordWrites(digest)).isEqualTo(writesBefore);

    // A day later every host sees an old use; the first flush writes, the others read it back.
    clock.advance(Duration.ofHours(2));
    Instant used = clock.instant();
    long requestsBefore = recordRequests(digest);
    for (int round = 0; round < 50; round++) {
      for (ContentStore host : hosts) {
        use(host, digest);
      }
    }
    // (the hosts' own background flush may have run meanwhile: it is on a real scheduler)
    hosts.forEach(h -> s3(h).marks.flush());
    assertThat(recordWrites(digest)).isEqualTo(writesBefore + 1);
    // 200 uses on 4 hosts: 400 record reads on the read path (info and readerAt), and for the
    // marks one GET per host plus the one PutObject; a background flush racing another host's
    // adds a refused PutObject and a GET for each host that lost.
    assertThat(recordRequests(digest) - requestsBefore).isBetween(400L + 4 + 1, 400L + 4 + 1 + 6);
    assertThat(writer.info(digest).lastUsedAt()).isEqualTo(used);

    // The rest of that interval: no host writes again.
    clock.advance(Duration.ofHours(23));
    for (ContentStore host : hosts) {
      use(host, digest);
      assertThat(s3(host).marks.flush()).isZero();
    }
    assertThat(recordWrites(digest)).isEqualTo(writesBefore + 1);

    // The next interval: one more write.
    clock.advance(Duration.ofHours(2));
    for (ContentStore host : hosts) {
      use(host, digest);
    }
    hosts.forEach(h -> s3(h).marks.flush());
    assertThat(recordWrites(digest)).isEqualTo(writesBefore + 2);
  }

  @Test
  void hostsFlushingAtOnceWriteOnceAndRetryAtMostOnceEach() {
    ContentStore writer = open("w");
    Digest digest = writer.put(random(1000, 2), null, Map.of()).digest();
    List<ContentStore> hosts = new ArrayList<>();
    for (String host : List.of("a", "b", "c", "d")) {
      hosts.add(open(host));
    }
    clock.advance(DAY.plusSeconds(1));
    hosts.forEach(h -> use(h, digest));
    long writesBefore = recordWrites(digest);
    long putsBefore = requests(Operation.PUT_OBJECT, keys.index(digest)).size();
    List<CompletableFuture<Integer>> flushes = hosts.stream()
        .map(h -> CompletableFuture.supplyAsync(() -> s3(h).marks.flush())).toList();
    int written = flushes.stream().mapToInt(CompletableFuture::join).sum();
    assertThat(written).isEqualTo(1);
    assertThat(recordWrites(digest) - writesBefore).isEqualTo(1);
    List<LoggedRequest> puts = requests(Operation.PUT_OBJECT, keys.index(digest));
    // One write, and at most one refused write for each of the three hosts that raced it.
    assertThat(puts.size() - putsBefore).isBetween(1L, 4L);
  }

  @Test
  void closingAStoreWritesItsPendingUses() {
    ContentStore writer = open("w");
    Digest digest = writer.put(random(1000, 3), null, Map.of()).digest();
    ContentStore reader = open("r");
    clock.advance(DAY.multipliedBy(3));
    Instant used = clock.instant();
    use(reader, digest);
    reader.close();
    assertThat(writer.info(digest).lastUsedAt()).isEqualTo(used);
  }

  @Test
  void aCommitOfExistingContentAndARefAreUses() {
    ContentStore store = open("h");
    byte[] content = random(1000, 4);
    Digest digest = store.put(content, null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(2));
    Instant committed = clock.instant();
    try {
      store.put(content, null, Map.of());
    } catch (dev.coffer.store.AlreadyExistsException expected) {
      // the content exists: a use
    }
    s3(store).marks.flush();
    assertThat(s3(store).records().record(digest).lastUsed()).isEqualTo(Times.nanos(committed));
    clock.advance(Duration.ofHours(1));
    Instant referenced = clock.instant();
    store.ref(digest);
    assertThat(s3(store).records().record(digest).lastUsed()).isEqualTo(Times.nanos(referenced));
  }

  @Test
  void openingAWriterForStoredContentAndCommittingItAgainAreUses() throws Exception {
    ContentStore store = open("h");
    byte[] content = random(1000, 5);
    Digest digest = store.put(content, null, Map.of()).digest();
    clock.advance(DAY.multipliedBy(2));
    Instant opened = clock.instant();
    assertThatThrownBy(() -> store.writer("again", dev.coffer.store.Descriptor.of(digest,
        content.length))).isInstanceOf(dev.coffer.store.AlreadyExistsException.class);
    s3(store).marks.flush();
    assertThat(s3(store).records().record(digest).lastUsed()).isEqualTo(Times.nanos(opened));

    clock.advance(DAY.multipliedBy(2));
    Instant committed = clock.instant();
    try (dev.coffer.store.Writer writer = store.writer("undescribed",
        dev.coffer.store.Descriptor.UNKNOWN)) {
      writer.write(java.nio.ByteBuffer.wrap(content));
      assertThatThrownBy(() -> writer.commit(content.length, digest, Map.of()))
          .isInstanceOf(dev.coffer.store.AlreadyExistsException.class);
    }
    s3(store).marks.flush();
    assertThat(s3(store).records().record(digest).lastUsed()).isEqualTo(Times.nanos(committed));
  }
}
