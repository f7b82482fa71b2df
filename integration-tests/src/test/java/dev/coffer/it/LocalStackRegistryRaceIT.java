package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Same-record races that need a server whose conditional writes are atomic (S3, LocalStack), so
 * they run only where Docker exists: host A derefs a blob to zero and runs gc with no grace while
 * host B commits or references the same blob, truly at the same time (a barrier, no
 * interleaving imposed), as {@link RegistryRaceIT} does step by step on S3Mock; and several hosts
 * taking and dropping references to one blob at once, after which its count is exact. LocalStack
 * comes from {@link S3Endpoint#localStack()}; without a Docker engine the class is skipped.
 */
class LocalStackRegistryRaceIT {
  private final List<ContentStore> stores = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    threads.shutdownNow();
    stores.forEach(ContentStore::close);
  }

  @BeforeAll
  static void startLocalStack() {
    S3Endpoint.localStack();
  }

  private List<ContentStore> hosts(int count) {
    S3Endpoint localStack = S3Endpoint.localStack();
    S3StoreConfig config = localStack.config(localStack.newBucket(), "race/")
        .deletionGrace(Duration.ZERO).build();
    List<ContentStore> hosts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ContentStore store = S3Stores.open(config);
      stores.add(store);
      hosts.add(store);
    }
    return hosts;
  }

  @Test
  void concurrentDerefAndGcAgainstACommitOrRefNeverLoseAHeldBlob() throws Exception {
    long seed = Long.getLong("coffer.it.seed", System.nanoTime());
    System.out.println("LocalStackRegistryRaceIT: seed " + seed);
    Random random = new Random(seed);
    List<ContentStore> hosts = hosts(2);
    ContentStore a = hosts.get(0);
    ContentStore b = hosts.get(1);
    byte[] bytes = ("raced " + seed).getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(bytes);
    for (int i = 0; i < RefCountHosts.scaled(100); i++) {
      RefCountHosts.commitAndRef(a, "a-" + i, bytes, null);
      boolean commit = random.nextBoolean();
      CyclicBarrier start = new CyclicBarrier(2);
      int round = i;
      Future<?> hostA = threads.submit(() -> {
        start.await();
        a.deref(digest);
        a.gc(new GcOptions(Duration.ofDays(1), false));
        return null;
      });
      Future<Boolean> hostB = threads.submit(() -> {
        start.await();
        if (commit) {
          RefCountHosts.commitAndRef(b, "b-" + round, bytes, Map.of());
          return true;
        }
        try {
          b.ref(digest);
          return true;
        } catch (NotFoundException e) {
          return false;
        }
      });
      hostA.get(120, TimeUnit.SECONDS);
      boolean holdsB = hostB.get(120, TimeUnit.SECONDS);
      assertThat(holdsB || !commit).isTrue();
      if (holdsB) {
        assertThat(b.info(digest).refCount()).as("round %d, seed %d", i, seed).isEqualTo(1);
        RefCountHosts.assertReadable(a, digest, bytes);
        RefCountHosts.assertReadable(b, digest, bytes);
        b.deref(digest);
      }
    }
    a.gc(new GcOptions(Duration.ofDays(1), false));
    assertThatThrownBy(() -> b.info(digest)).isInstanceOf(NotFoundException.class);
    assertThat(a.fsck(false).findings()).isEmpty();
  }

  @Test
  void concurrentRefsAndDerefsOfOneBlobLeaveTheExactCount() throws Exception {
    List<ContentStore> hosts = hosts(4);
    byte[] bytes = "counted".getBytes(StandardCharsets.UTF_8);
    Digest digest = RefCountHosts.commitAndRef(hosts.get(0), "base", bytes, null).digest();
    int perHost = RefCountHosts.scaled(25);
    CyclicBarrier start = new CyclicBarrier(hosts.size());
    List<Future<?>> running = new ArrayList<>();
    for (ContentStore host : hosts) {
      running.add(threads.submit(() -> {
        start.await();
        for (int i = 0; i < perHost; i++) {
          host.ref(digest);
        }
        for (int i = 0; i < perHost; i++) {
          host.deref(digest);
        }
        return null;
      }));
    }
    for (Future<?> f : running) {
      f.get(300, TimeUnit.SECONDS);
    }
    assertThat(hosts.get(3).info(digest).refCount()).isEqualTo(1);
    RefCountHosts.assertReadable(hosts.get(2), digest, bytes);
  }
}
