package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.it.FaultProxy.Fault;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.Writer;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A build farm on the selected {@link S3Endpoint}: hosts, each an S3 store with its own clients
 * under a cache with its own directory, push overlapping sets of artefacts (a few bytes to above
 * one 5 MiB part, copied to their digest key by multipart copy), reference and dereference them,
 * read them back through their caches and run gc, all at once; then the bucket is checked against
 * a model of who holds which reference. Once without faults, and once with about one request in
 * ten faulted by a {@link FaultProxy}, where every operation must succeed or fail with a
 * retryable {@link StoreException} and nothing committed may be lost or corrupt.
 *
 * <p>Sizes scale with {@code -Dcoffer.it.scale=N} (operations per host, artefacts); the seed of
 * the hosts' choices is printed and replayed by {@code -Dcoffer.it.seed}.
 */
class BuildFarmIT {
  private static final int MIB = 1 << 20;
  private static final int HOSTS = 4;
  private static final Duration LEASE = Duration.ofSeconds(4);
  /** How far ahead the final collector's clock runs: past gc's age for uploads to blob keys. */
  private static final Duration DAY_AND_LEASE = Duration.ofDays(1).plus(LEASE).plusMinutes(1);

  @TempDir
  Path caches;

  private final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    Exception failure = null;
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private <T extends AutoCloseable> T own(T closeable) {
    opened.add(closeable);
    return closeable;
  }

  @Test
  void hostsShareArtefactsAndEveryHeldBlobSurvives() throws Exception {
    S3Endpoint endpoint = S3Endpoint.selected();
    Farm farm = new Farm(endpoint, endpoint.endpoint(), null);
    farm.run();
    assertThat(farm.retryableFailures.values().stream().mapToLong(AtomicLong::get).sum())
        .as("operations failing without faults").isZero();
  }

  @Test
  void withOneRequestInTenFaultedNothingCommittedIsLost() throws Exception {
    S3Endpoint endpoint = S3Endpoint.selected();
    Assumptions.assumeTrue(endpoint.proxyable(), "no proxy in front of " + endpoint.name());
    // Four kinds apply to a typical request (503, 500, a reset, a slow response; a conditional
    // write can get a 409 as well): 2.5 % each makes about one request in ten faulted.
    FaultProxy proxy = own(endpoint.proxy().rateOfEach(0.025).start());
    Farm farm = new Farm(endpoint, proxy.endpoint(), proxy);
    farm.run();
    Map<Fault, Long> injected = proxy.injected();
    long faults = injected.values().stream().mapToLong(Long::longValue).sum();
    System.out.printf("BuildFarmIT: faults injected %s, %d of %d requests (%.1f %%)%n", injected,
        faults, proxy.requests(), 100.0 * faults / Math.max(1, proxy.requests()));
    assertThat(faults).as("faults injected").isPositive();
  }

  /** An artefact: its bytes and digest. */
  private record Artefact(byte[] bytes, Digest digest) {
    static Artefact of(byte[] bytes) {
      return new Artefact(bytes, Digest.of(bytes));
    }
  }

  /**
   * The model of one digest: the references hosts hold for certain, and the operations that
   * failed retryably and so may or may not have changed the count (a push or ref that may have
   * added one, a deref that may not have removed one).
   */
  private static final class Held {
    final AtomicInteger certain = new AtomicInteger();
    final AtomicInteger maybeAdded = new AtomicInteger();
    final AtomicInteger maybeNotRemoved = new AtomicInteger();
    /** Commits of this digest begun so far; a blob is visible only after one began. */
    final AtomicInteger commitsBegun = new AtomicInteger();
  }

  /** One run of the farm over a fresh prefix. */
  private final class Farm {
    final S3Endpoint endpoint;
    final URI via;
    final FaultProxy proxy;
    final String bucket;
    final String prefix;
    final long seed = Long.getLong("coffer.it.seed", System.nanoTime());
    final int opsPerHost = RefCountHosts.scaled(30);
    final List<Artefact> shared = new ArrayList<>();
    final Map<Digest, Held> model = new ConcurrentHashMap<>();
    final Map<Digest, byte[]> contents = new ConcurrentHashMap<>();
    final Map<String, AtomicLong> operations = new TreeMap<>();
    final Map<String, AtomicLong> retryableFailures = new ConcurrentHashMap<>();
    final Queue failures = new Queue();
    final AtomicLong visibilityChecks = new AtomicLong();
    ContentStore observer;

    Farm(S3Endpoint endpoint, URI via, FaultProxy proxy) {
      this.endpoint = endpoint;
      this.via = via;
      this.proxy = proxy;
      this.bucket = endpoint.newBucket();
      this.prefix = endpoint.newPrefix();
      Random random = new Random(seed);
      int artefacts = RefCountHosts.scaled(14);
      for (int i = 0; i < artefacts; i++) {
        int size = switch (i % 7) {
          case 0 -> 1 + random.nextInt(16);
          case 1, 2 -> 100 + random.nextInt(4000);
          case 3, 4 -> 64 * 1024 + random.nextInt(256 * 1024);
          case 5 -> 1 + random.nextInt(MIB);
          default -> 5 * MIB + 1 + random.nextInt(3 * MIB); // above one part: multipart copy
        };
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        shared.add(Artefact.of(bytes));
      }
    }

    S3StoreConfig.Builder config(URI through) {
      return endpoint.config(through, bucket, prefix)
          .partSize(5 * MIB).uploadConcurrency(2)
          .copyPartSize(5 * MIB).multipartCopyThreshold(5 * MIB).copyConcurrency(2)
          .deletionGrace(Duration.ZERO).leaseDuration(LEASE)
          // A gc that failed between 'purging' and its deletes leaves the record to be finished
          // once this has passed (the final gc below runs after it).
          .purgeTimeout(LEASE)
          // Fewer SDK attempts than the default, so that faults reach the store's own paths.
          .sdkAttempts(proxy == null ? S3StoreConfig.SDK_ATTEMPTS_DEFAULT : 2);
    }

    void run() throws Exception {
      System.out.printf("BuildFarmIT: seed %d (replay with -Dcoffer.it.seed=%d), %d hosts, "
          + "%d operations each, %d shared artefacts, prefix %s%n", seed, seed, HOSTS,
          opsPerHost, shared.size(), prefix);
      observer = own(S3Stores.open(config(endpoint.endpoint()).build()));
      List<Host> hosts = new ArrayList<>();
      for (int i = 0; i < HOSTS; i++) {
        ContentStore backing = own(S3Stores.open(config(via).build()));
        ContentStore cached = own(CachingStores.builder(backing)
            .config(CacheConfig.builder().directory(caches.resolve(prefix + "host-" + i))
                .memoryMaxBlobBytes(64 * 1024).diskMaxBytes(256L * MIB).build())
            .build());
        hosts.add(new Host(i, backing, cached, new Random(seed + i)));
      }
      ExecutorService threads = Executors.newFixedThreadPool(HOSTS);
      long started = System.nanoTime();
      try {
        List<Future<?>> running = new ArrayList<>();
        for (Host host : hosts) {
          running.add(threads.submit(() -> {
            host.work();
            return null;
          }));
        }
        for (Future<?> f : running) {
          f.get(20, TimeUnit.MINUTES);
        }
      } finally {
        threads.shutdownNow();
      }
      if (proxy != null) {
        proxy.stopFaults();
      }
      System.out.printf("BuildFarmIT: %d operations in %.1f s: %s; retryable failures %s; "
          + "%d visibility checks%n", HOSTS * opsPerHost, (System.nanoTime() - started) / 1e9,
          operations, retryableFailures, visibilityChecks.get());
      assertThat(failures.all()).as("operations that failed other than retryably").isEmpty();
      settle();
    }

    /** Checks the bucket against the model, then drops every reference and collects it all. */
    void settle() throws Exception {
      ContentStore fresh = own(S3Stores.open(config(endpoint.endpoint()).build()));
      int lost = 0;
      int corrupt = 0;
      int ambiguous = 0;
      Map<Digest, Long> counts = new HashMap<>();
      List<String> wrong = new ArrayList<>();
      for (Map.Entry<Digest, Held> e : model.entrySet()) {
        Digest digest = e.getKey();
        Held held = e.getValue();
        int certain = held.certain.get();
        int slack = held.maybeAdded.get() + held.maybeNotRemoved.get();
        ambiguous += slack > 0 ? 1 : 0;
        long count;
        try {
          count = fresh.info(digest).refCount();
        } catch (NotFoundException gone) {
          count = 0;
        }
        counts.put(digest, count);
        if (count < certain || count > certain + slack) {
          wrong.add(digest + ": count " + count + ", model " + certain + " + up to " + slack);
        }
        if (count > 0 || certain > 0) {
          try {
            byte[] read = Content.readBlob(fresh, Descriptor.of(digest));
            if (!Digest.of(read).equals(digest) || !Arrays.equals(read, contents.get(digest))) {
              corrupt++;
              wrong.add(digest + ": read back " + read.length + " bytes of digest "
                  + Digest.of(read));
            }
          } catch (StoreException ex) {
            lost++;
            wrong.add(digest + ": held (count " + count + ", model " + certain + ") but " + ex);
          }
        }
      }
      System.out.printf("BuildFarmIT: %d blobs checked, %d lost, %d corrupt, %d with a count "
          + "settled within the range of retryably failed operations%n", model.size(), lost,
          corrupt, ambiguous);
      assertThat(wrong).as("blobs differing from the model").isEmpty();

      // Drop every reference, wait out the leases of writers and the purges of collectors that
      // failed, and collect.
      for (Map.Entry<Digest, Long> e : counts.entrySet()) {
        for (long i = 0; i < e.getValue(); i++) {
          fresh.deref(e.getKey());
        }
      }
      // Collect as a host would a day later, when every lease has run out and gc aborts the
      // uploads to blob keys a failed copy or completion left (kept for a day, since a put of a
      // large file can take that long): such a leftover is reclaimable, not leaked.
      Clock dayLater = Clock.offset(Clock.systemUTC(), DAY_AND_LEASE);
      try (ContentStore collector = S3Stores.open(config(endpoint.endpoint()).clock(dayLater)
          .build())) {
        collector.gc(new GcOptions(Duration.ZERO, false));
      }
      try (S3Client plain = endpoint.client()) {
        List<String> uploads = new ArrayList<>();
        plain.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(prefix))
            .forEach(page -> page.uploads().forEach(u -> uploads.add(u.key())));
        assertThat(uploads).as("incomplete multipart uploads after gc").isEmpty();
        assertThat(keys(plain, prefix + "ingest/")).as("ingest objects after gc").isEmpty();
        assertThat(keys(plain, prefix + "index/")).as("index records after every deref and gc")
            .isEmpty();
      }
      for (Digest digest : model.keySet()) {
        try {
          fresh.info(digest);
          wrong.add(digest + " still visible after every reference was dropped");
        } catch (NotFoundException expected) {
          // gone, as it should be
        }
      }
      assertThat(wrong).isEmpty();
    }

    private List<String> keys(S3Client plain, String under) {
      List<String> keys = new ArrayList<>();
      plain.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(under))
          .forEach(page -> page.contents().forEach(o -> keys.add(o.key())));
      return keys;
    }

    /** One host: its own store and cache, and the references it holds for certain. */
    private final class Host {
      final int id;
      final ContentStore backing;
      final ContentStore cached;
      final Random random;
      final Map<Digest, Integer> holding = new HashMap<>();
      int op;

      Host(int id, ContentStore backing, ContentStore cached, Random random) {
        this.id = id;
        this.backing = backing;
        this.cached = cached;
        this.random = random;
      }

      void work() {
        for (op = 0; op < opsPerHost; op++) {
          int dice = random.nextInt(100);
          List<Digest> held = holding.entrySet().stream().filter(e -> e.getValue() > 0)
              .map(Map.Entry::getKey).sorted().toList();
          if (dice < 35 || held.isEmpty()) {
            Artefact artefact = dice < 10 ? unique() : shared.get(random.nextInt(shared.size()));
            attempt("push", () -> push(artefact));
          } else if (dice < 50) {
            Digest d = held.get(random.nextInt(held.size()));
            attempt("ref", () -> ref(d));
          } else if (dice < 75) {
            Digest d = held.get(random.nextInt(held.size()));
            attempt("deref", () -> deref(d));
          } else if (dice < 95) {
            Digest d = held.get(random.nextInt(held.size()));
            attempt("read", () -> read(d));
          } else {
            attempt("gc", () -> backing.gc(new GcOptions(Duration.ZERO, false)));
          }
        }
      }

      /** Content only this host ever pushes, of a size from a few bytes to above a part. */
      Artefact unique() {
        int size = random.nextInt(4) == 0 ? 5 * MIB + 1 + random.nextInt(MIB)
            : 1 + random.nextInt(8192);
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return Artefact.of(bytes);
      }

      void attempt(String kind, Runnable operation) {
        synchronized (operations) {
          operations.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        }
        try {
          operation.run();
        } catch (StoreException e) {
          if (e.retryable()) {
            retryableFailures.computeIfAbsent(kind + " " + e.getClass().getSimpleName(),
                k -> new AtomicLong()).incrementAndGet();
          } else {
            failures.add("host " + id + " op " + op + " " + kind, e);
          }
        } catch (RuntimeException | AssertionError e) {
          failures.add("host " + id + " op " + op + " " + kind, e);
        }
      }

      Held model(Digest digest) {
        return model.computeIfAbsent(digest, d -> new Held());
      }

      void push(Artefact artefact) {
        Digest digest = artefact.digest();
        contents.putIfAbsent(digest, artefact.bytes());
        Held held = model(digest);
        boolean committing = false;
        try (Writer writer = cached.writer("host-" + id + "/op-" + op, Descriptor.UNKNOWN)) {
          byte[] bytes = artefact.bytes();
          for (int at = 0; at < bytes.length; at += MIB) {
            writer.write(bytes, at, Math.min(MIB, bytes.length - at));
          }
          checkNotVisible(digest, held);
          committing = true;
          held.commitsBegun.incrementAndGet();
          writer.commitAndRef(bytes.length, digest, Map.of("host", Integer.toString(id)));
        } catch (StoreException e) {
          if (committing) {
            held.maybeAdded.incrementAndGet(); // the reference may have been taken
          }
          throw e;
        }
        held.certain.incrementAndGet();
        holding.merge(digest, 1, Integer::sum);
      }

      /**
       * Before the first commit of a digest begins, no other host may see it: neither its record
       * nor its bytes. A check that races a commit beginning elsewhere is decided by the count
       * of commits begun, read after the look.
       */
      void checkNotVisible(Digest digest, Held held) {
        if (held.commitsBegun.get() > 0) {
          return;
        }
        visibilityChecks.incrementAndGet();
        boolean visible;
        try {
          observer.info(digest);
          visible = true;
        } catch (NotFoundException expected) {
          visible = false;
        }
        if (!visible) {
          try {
            observer.readerAt(Descriptor.of(digest)).close();
            visible = true;
          } catch (NotFoundException expected) {
            visible = false;
          }
        }
        assertThat(visible && held.commitsBegun.get() == 0)
            .as("%s visible before any commit of it began", digest).isFalse();
      }

      void ref(Digest digest) {
        Held held = model(digest);
        try {
          cached.ref(digest);
        } catch (StoreException e) {
          if (e.retryable()) {
            held.maybeAdded.incrementAndGet();
          }
          throw e;
        }
        held.certain.incrementAndGet();
        holding.merge(digest, 1, Integer::sum);
      }

      void deref(Digest digest) {
        Held held = model(digest);
        // Whatever the outcome this host no longer counts on the reference: a deref that failed
        // may have taken effect, and dropping it twice would steal another host's reference.
        held.certain.decrementAndGet();
        holding.merge(digest, -1, Integer::sum);
        try {
          cached.deref(digest);
        } catch (StoreException e) {
          if (e.retryable()) {
            held.maybeNotRemoved.incrementAndGet();
          }
          throw e;
        }
      }

      void read(Digest digest) {
        byte[] read = Content.readBlob(cached, Descriptor.of(digest));
        assertThat(Digest.of(read)).as("digest of %s read by host %d", digest, id)
            .isEqualTo(digest);
      }
    }
  }

  /** Failures that are not allowed, with where they happened. */
  private static final class Queue {
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

    void add(String where, Throwable failure) {
      System.out.println("BuildFarmIT: " + where + " failed:");
      failure.printStackTrace(System.out);
      failures.add(where + ": " + failure);
    }

    List<String> all() {
      return List.copyOf(failures);
    }
  }
}
