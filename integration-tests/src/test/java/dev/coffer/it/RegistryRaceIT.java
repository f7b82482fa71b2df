package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * The registry garbage-collection race, reproduced on purpose: host A drops the last reference to
 * a blob and runs gc with no deletion grace while host B commits the same content (commitAndRef)
 * or takes a reference to it. Whichever host ends holding a reference must read the blob's bytes.
 *
 * <p>S3Mock 5.2.0 does not make conditional writes atomic, so two hosts writing one record at the
 * same instant could both "win" there (S3 serialises them). The conflicting steps are therefore
 * interleaved deterministically instead of raced: B's whole operation runs while A's gc is held,
 * by an SDK interceptor on A's client, at one of these points (the window, chosen by a seeded
 * random per iteration, printed and replayable with {@code -Dcoffer.it.seed}):
 * <ul>
 *   <li>{@code BEFORE_DEREF}: B acts before A drops its reference (B's reference keeps the blob);
 *   <li>{@code BEFORE_PURGING}: after gc read the {@code deleting} record, before its
 *       {@code deleting → purging} CAS (B's commit resurrects the record, gc's CAS then fails);
 *   <li>{@code PURGING_BLOB_PRESENT}: record {@code purging}, blob object not yet deleted (B's
 *       commit waits for the purge, then stores the bytes anew);
 *   <li>{@code PURGING_BLOB_GONE}: record {@code purging}, blob object deleted, record not yet;
 *   <li>{@code AFTER_GC}: B acts once the purge has finished;
 *   <li>{@code SPLIT}: B stores (or finds) the blob object while the record is {@code purging},
 *       then gc deletes the object and the record, and only then does B create the index record:
 *       B's interceptor holds its create-only record write until gc is done.
 * </ul>
 * In the purging windows B's commit retries while A is held, and A resumes when B is done or
 * after {@value #HOLD_MILLIS} ms. Every iteration asserts the outcome the protocol guarantees for
 * its window, not a timing. {@link LocalStackRegistryRaceIT} runs the same race truly concurrently
 * where the server's conditional writes are atomic.
 */
class RegistryRaceIT {
  private static final int MIB = 1 << 20;
  private static final long HOLD_MILLIS = 150;

  enum Op { COMMIT, REF }

  enum Window { BEFORE_DEREF, BEFORE_PURGING, PURGING_BLOB_PRESENT, PURGING_BLOB_GONE, AFTER_GC,
    SPLIT }

  private RefCountHosts hosts;
  private ExecutorService hostB;

  @BeforeEach
  void setUp() {
    hosts = new RefCountHosts();
    hostB = Executors.newSingleThreadExecutor();
  }

  @AfterEach
  void tearDown() {
    hostB.shutdownNow();
    hosts.close();
  }

  /** Runs hooks before and after each request of one client. */
  static final class Hooks implements ExecutionInterceptor {
    volatile Consumer<SdkRequest> before = r -> { };
    volatile Consumer<SdkRequest> after = r -> { };

    void disarm() {
      before = r -> { };
      after = r -> { };
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
      before.accept(context.request());
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
      after.accept(context.request());
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context,
        ExecutionAttributes attributes) {
      after.accept(context.request());
    }
  }

  private ContentStore host(Hooks hooks) {
    return hosts.own(S3Stores.builder()
        .config(S3Mock.get().config(hosts.bucket, hosts.prefix).partSize(5 * MIB)
            .deletionGrace(Duration.ZERO).build())
        .client(hosts.own(S3Mock.get().client(hooks)))
        .bulkClient(hosts.own(S3Mock.get().asyncClient()))
        .build());
  }

  static boolean isCas(SdkRequest r, String key) {
    return r instanceof PutObjectRequest p && p.key().equals(key) && p.ifMatch() != null;
  }

  static boolean isCreate(SdkRequest r, String key) {
    return r instanceof PutObjectRequest p && p.key().equals(key) && p.ifNoneMatch() != null;
  }

  static boolean isPut(SdkRequest r, String key) {
    return r instanceof PutObjectRequest p && p.key().equals(key);
  }

  static boolean isGet(SdkRequest r, String key) {
    return r instanceof GetObjectRequest g && g.key().equals(key);
  }

  static boolean isDelete(SdkRequest r, String key) {
    return r instanceof DeleteObjectRequest d && d.key().equals(key);
  }

  private static void await(CountDownLatch latch, String what) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out waiting for " + what);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + what, e);
    }
  }

  @Test
  void whoeverHoldsAReferenceAtTheEndReadsTheBlob() throws Exception {
    long seed = Long.getLong("coffer.it.seed", System.nanoTime());
    int iterations = RefCountHosts.scaled(100);
    System.out.println("RegistryRaceIT: seed " + seed + ", " + iterations
        + " iterations (replay with -Dcoffer.it.seed=" + seed + ")");
    Random random = new Random(seed);
    Hooks hooksA = new Hooks();
    Hooks hooksB = new Hooks();
    ContentStore a = host(hooksA);
    ContentStore b = host(hooksB);
    byte[] small = ("the registry race " + seed).getBytes(StandardCharsets.UTF_8);
    byte[] large = S3StoreIT.random(5 * MIB + 4096, seed);
    Set<Digest> leftDeleting = new HashSet<>();
    Map<Window, Integer> windows = new EnumMap<>(Window.class);
    int resurrected = 0;
    int restoredAfterPurge = 0;

    for (int i = 0; i < iterations; i++) {
      byte[] bytes = i % 25 == 24 ? large : small;
      Digest digest = Digest.of(bytes);
      String blobKey = hosts.blobKey(digest);
      String indexKey = hosts.indexKey(digest);
      Op op = random.nextBoolean() ? Op.COMMIT : Op.REF;
      Window drawn = Window.values()[random.nextInt(Window.values().length)];
      Window window = drawn == Window.SPLIT && op == Op.REF ? Window.PURGING_BLOB_PRESENT : drawn;
      windows.merge(window, 1, Integer::sum);
      String label = Integer.toString(i);
      String what = "iteration " + i + " (" + op + " in " + window + ", seed " + seed + ")";

      if (leftDeleting.remove(digest)) {
        resurrected++;
      }
      Info held = RefCountHosts.commitAndRef(a, "a-" + i, bytes, Map.of("host", "a"));
      assertThat(held.refCount()).as(what).isEqualTo(1);

      // Before A's deref, B's reference is the second one; afterwards the only one.
      long countB = window == Window.BEFORE_DEREF ? 2 : 1;
      String refB = "b-" + i;
      Callable<Boolean> actB = () -> {
        if (op == Op.COMMIT) {
          Info info = RefCountHosts.commitAndRef(b, refB, bytes, Map.of("iteration", label));
          assertThat(info.refCount()).as(what).isEqualTo(countB);
          return true;
        }
        try {
          assertThat(b.ref(digest).refCount()).as(what).isEqualTo(countB);
          return true;
        } catch (NotFoundException e) {
          return false;
        }
      };
      Future<Boolean> doneB = null;
      if (window == Window.BEFORE_DEREF) {
        doneB = CompletableFuture.completedFuture(actB.call());
      }
      a.deref(digest);

      CountDownLatch gcDone = new CountDownLatch(1);
      CountDownLatch reachedB = new CountDownLatch(1);
      @SuppressWarnings("unchecked")
      Future<Boolean>[] started = new Future[1];
      // S3 serialises requests on one key; S3Mock does not (a create of the record racing the
      // purger's delete of it can be deleted too), so A's record delete and B's record requests
      // take turns here, as they would on S3.
      Semaphore recordTurn = new Semaphore(1);
      Consumer<SdkRequest> takeTurn = r -> {
        if (isDelete(r, indexKey) || isPut(r, indexKey) || isGet(r, indexKey)) {
          recordTurn.acquireUninterruptibly();
        }
      };
      Consumer<SdkRequest> endTurn = r -> {
        if (isDelete(r, indexKey) || isPut(r, indexKey) || isGet(r, indexKey)) {
          recordTurn.release();
        }
      };
      hooksA.after = endTurn;
      hooksB.after = endTurn;
      hooksB.before = takeTurn;
      Consumer<SdkRequest> holdFor = r -> {
        if (started[0] != null) {
          return;
        }
        boolean here = switch (window) {
          case BEFORE_PURGING -> isCas(r, indexKey);
          case PURGING_BLOB_PRESENT, SPLIT -> isDelete(r, blobKey);
          case PURGING_BLOB_GONE -> isDelete(r, indexKey);
          default -> false;
        };
        if (!here) {
          return;
        }
        started[0] = hostB.submit(actB);
        try {
          if (window == Window.SPLIT) {
            await(reachedB, "host B to store the blob");
          } else if (window == Window.BEFORE_PURGING) {
            started[0].get(60, TimeUnit.SECONDS);
          } else {
            started[0].get(HOLD_MILLIS, TimeUnit.MILLISECONDS);
          }
        } catch (TimeoutException stillWaiting) {
          // B waits for the purge to end, as the protocol says: let A finish it.
        } catch (Exception e) {
          throw new AssertionError(what + ": host B failed", e);
        }
      };
      hooksA.before = r -> {
        holdFor.accept(r);
        takeTurn.accept(r);
      };
      if (window == Window.SPLIT) {
        hooksB.after = r -> {
          endTurn.accept(r);
          if (isPut(r, blobKey) || isGet(r, indexKey)) {
            reachedB.countDown();
          }
        };
        hooksB.before = r -> {
          if (isCreate(r, indexKey)) {
            await(gcDone, "gc to finish");
          }
          takeTurn.accept(r);
        };
      }
      GcReport report;
      try {
        report = a.gc(new GcOptions(Duration.ofDays(1), false));
      } finally {
        gcDone.countDown();
        hooksA.disarm();
      }
      if (window != Window.BEFORE_DEREF && window != Window.AFTER_GC) {
        assertThat(started[0]).as(what + ": gc reached the window").isNotNull();
        doneB = started[0];
      }
      if (doneB == null) {
        doneB = hostB.submit(actB);
      }
      boolean holdsB = doneB.get(120, TimeUnit.SECONDS);
      hooksB.disarm();

      boolean keptByB = window == Window.BEFORE_DEREF
          || window == Window.BEFORE_PURGING && op == Op.COMMIT;
      assertThat(holdsB).as(what + ": B holds a reference")
          .isEqualTo(op == Op.COMMIT || window == Window.BEFORE_DEREF);
      assertThat(report.blobsPurged()).as(what + ": blobs purged")
          .isEqualTo((keptByB ? 0 : 1) + leftDeleting.size());
      leftDeleting.clear();
      if (holdsB) {
        if (!keptByB) {
          restoredAfterPurge++;
        }
        for (ContentStore host : new ContentStore[] {a, b}) {
          try {
            assertThat(host.info(digest).refCount()).as(what).isEqualTo(1);
            RefCountHosts.assertReadable(host, digest, bytes);
          } catch (NotFoundException e) {
            throw new AssertionError(what + ": B holds a reference, but " + e.getMessage()
                + "; record: " + (hosts.exists(indexKey) ? hosts.plain.getObjectAsBytes(g -> g
                .bucket(hosts.bucket).key(indexKey)).asUtf8String() : "none"), e);
          }
        }
        assertThat(hosts.exists(blobKey)).as(what + ": blob object").isTrue();
        b.deref(digest);
        leftDeleting.add(digest);
      } else {
        assertThatThrownBy(() -> b.info(digest)).as(what).isInstanceOf(NotFoundException.class);
        assertThat(hosts.exists(blobKey)).as(what + ": blob object").isFalse();
        assertThat(hosts.exists(indexKey)).as(what + ": index record").isFalse();
      }
    }
    assertThat(a.fsck(false).findings()).allMatch(f -> leftDeleting.contains(
        Digest.parse(f.subject())) && f.kind() == dev.coffer.store.FsckReport.Kind.STALE_DELETION);
    System.out.println("RegistryRaceIT: windows " + windows + "; " + resurrected
        + " commits resurrected a deleting record; " + restoredAfterPurge
        + " commits by B stored the bytes again after a purge");
  }
}
