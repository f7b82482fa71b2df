package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A walk reads the records of the listing's first page while the next page is being listed
 * (PROTO-9): the listing no longer has to end before the first record is read, and the walk still
 * hands the records over in key order.
 */
class WalkListsWhileReadingTest extends SimStoreTestBase {

  @Test
  void recordsOfTheFirstPageAreReadWhileTheSecondIsListed() throws Exception {
    ContentStore store = open("h");
    int count = 1010; // S3 lists 1,000 keys a page
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] content = random(16, i);
      Digest digest = Digest.of(content);
      store.put(content, digest, Map.of("n", Integer.toString(i)));
      digests.add(digest);
    }
    AtomicBoolean park = new AtomicBoolean(true);
    sim().network().interceptor(e -> {
      boolean secondPage = e.operation() == Operation.LIST_OBJECTS_V2
          && e.request().query("continuation-token") != null;
      if (!(secondPage && park.get())) {
        e.proceed(); // else left parked for the test thread
      }
    });
    sim().log().clear();

    List<Info> walked = new ArrayList<>();
    CompletableFuture<Void> walk = CompletableFuture.runAsync(() -> store.walk(walked::add));
    assertThat(sim().network().awaitParked(1, Duration.ofSeconds(20))).isTrue();
    // The second page is held: the first page's records are read meanwhile.
    await().atMost(Duration.ofSeconds(20)).until(() -> indexReads() >= 1000);
    park.set(false);
    sim().network().parked().forEach(Exchange::proceed);
    walk.get(60, TimeUnit.SECONDS);

    assertThat(walked).extracting(Info::digest)
        .containsExactlyElementsOf(digests.stream().sorted().toList());
    assertThat(indexReads()).isEqualTo(count);
  }

  private long indexReads() {
    return sim().log().entries().stream()
        .filter(e -> e.operation() == Operation.GET_OBJECT && e.key() != null
            && e.key().startsWith(PREFIX + "index/"))
        .count();
  }
}
