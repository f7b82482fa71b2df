package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3Stores;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A model-based test of reference counts, links, labels, deletion and online gc across hosts.
 *
 * <p>{@value #HOSTS} store instances, each with its own clients and a different deletion grace
 * (0 to 200 ms), share one bucket and prefix; one thread per instance runs random operations
 * (commitAndRef, commit without a reference, ref, deref, link, unlink, label update, delete, read,
 * gc) over {@value #CONTENTS} small contents. A sequential model (per digest: live or deleted,
 * reference count, links, labels) predicts each operation's outcome, exception class included.
 *
 * <p>Serialisation: S3Mock 5.2.0 does not make conditional writes atomic, so two hosts writing one
 * index record at the same instant could both "win" there, which S3 never allows. The driver
 * therefore serialises operations per digest with one lock per digest: an operation holds the
 * locks of every record it may write (a deref or delete the whole link closure it may cascade
 * through, a link or unlink its source plus its target's closure, gc all of them), taken in digest
 * order, and updates the model under the same locks. Operations on different digests run
 * concurrently on different hosts. {@link LocalStackRegistryRaceIT} covers truly concurrent writes
 * of one record where the server is atomic.
 *
 * <p>The seed is printed; {@code -Dcoffer.it.seed=<seed>} replays each thread's operations (their
 * interleaving across threads is the scheduler's). {@code -Dcoffer.it.scale} multiplies the
 * operation count.
 */
class RefCountModelIT {
  private static final int HOSTS = 4;
  private static final int CONTENTS = 8;
  private static final int OPS_PER_HOST = 125;
  private static final GcOptions GC = new GcOptions(Duration.ofDays(1), false);

  enum Op { COMMIT, COMMIT_NO_REF, REF, DEREF, LINK, UNLINK, UPDATE, DELETE, READ, GC }

  private static final Op[] WEIGHTED = weighted(Map.of(Op.COMMIT, 20, Op.COMMIT_NO_REF, 4,
      Op.REF, 12, Op.DEREF, 15, Op.LINK, 12, Op.UNLINK, 8, Op.UPDATE, 12, Op.DELETE, 3,
      Op.READ, 8, Op.GC, 3));

  /** What the model knows of one digest. */
  private static final class Blob {
    boolean live;
    long refCount;
    /** Counts the blob's lives: a link holds a reference of the life it was made to (PROTO-1). */
    int incarnation;
    /** Each link's target and the incarnation of the target whose reference it holds. */
    final Map<Integer, Integer> links = new TreeMap<>();
    final Map<String, String> labels = new TreeMap<>();
  }

  private final Blob[] model = new Blob[CONTENTS];
  private final ReentrantLock[] locks = new ReentrantLock[CONTENTS];
  private final byte[][] contents = new byte[CONTENTS][];
  private final Digest[] digests = new Digest[CONTENTS];
  private final Map<Op, AtomicInteger> done = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
  private RefCountHosts hosts;

  private static Op[] weighted(Map<Op, Integer> weights) {
    List<Op> ops = new ArrayList<>();
    new EnumMap<>(weights).forEach((op, w) -> {
      for (int i = 0; i < w; i++) {
        ops.add(op);
      }
    });
    return ops.toArray(Op[]::new);
  }

  @BeforeEach
  void setUp() {
    hosts = new RefCountHosts();
  }

  @AfterEach
  void tearDown() {
    hosts.close();
  }

  private ContentStore host(Duration grace) {
    return hosts.own(S3Stores.open(S3Mock.get().config(hosts.bucket, hosts.prefix)
        .deletionGrace(grace).build()));
  }

  @Test
  void hostsRacingOverFewDigestsAgreeWithTheModel() throws Exception {
    long seed = Long.getLong("coffer.it.seed", System.nanoTime());
    int opsPerHost = RefCountHosts.scaled(OPS_PER_HOST);
    System.out.println("RefCountModelIT: seed " + seed + ", " + HOSTS + " hosts x " + opsPerHost
        + " operations (replay with -Dcoffer.it.seed=" + seed + ")");
    Random contentRandom = new Random(seed);
    for (int i = 0; i < CONTENTS; i++) {
      contents[i] = S3StoreIT.random(1 + contentRandom.nextInt(8192), seed + i);
      digests[i] = Digest.of(contents[i]);
      model[i] = new Blob();
      locks[i] = new ReentrantLock();
    }
    List<ContentStore> stores = new ArrayList<>();
    for (int h = 0; h < HOSTS; h++) {
      stores.add(host(Duration.ofMillis(200L * h / (HOSTS - 1))));
    }
    long started = System.nanoTime();
    ExecutorService threads = Executors.newFixedThreadPool(HOSTS);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int h = 0; h < HOSTS; h++) {
        ContentStore store = stores.get(h);
        Random random = new Random(seed * 31 + h);
        int host = h;
        running.add(threads.submit(() -> {
          for (int n = 0; n < opsPerHost; n++) {
            step(store, host, n, random, seed);
          }
          return null;
        }));
      }
      for (Future<?> f : running) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      threads.shutdownNow();
    }
    long elapsed = System.nanoTime() - started;
    System.out.println("RefCountModelIT: " + HOSTS * opsPerHost + " operations in "
        + elapsed / 1_000_000 + " ms: " + new TreeMap<>(done) + "; outcomes "
        + new TreeMap<>(outcomes));

    verifyAgainstModel(host(Duration.ZERO), seed);
  }

  /** One random operation, with its locks held, checked against the model. */
  private void step(ContentStore store, int host, int n, Random random, long seed) {
    Op op = WEIGHTED[random.nextInt(WEIGHTED.length)];
    int d = random.nextInt(CONTENTS);
    int other = random.nextInt(CONTENTS);
    String key = "k" + random.nextInt(3);
    String value = random.nextInt(4) == 0 ? "" : "h" + host + "-" + n;
    String what = op + " #" + n + " of host " + host + " on " + d
        + (op == Op.LINK || op == Op.UNLINK ? " from " + other : "") + " (seed " + seed + ")";
    Set<Integer> held = lock(op, d, other);
    try {
      Class<? extends StoreException> expected;
      Class<? extends StoreException> actual = null;
      synchronized (model) {
        expected = expect(op, d, other);
      }
      try {
        act(store, op, d, other, key, value, host, n, what);
      } catch (StoreException e) {
        actual = e.getClass();
        if (expected == null || !expected.isInstance(e)) {
          throw new AssertionError(what + ": unexpected " + e, e);
        }
      }
      assertThat(actual).as(what + ": outcome").isEqualTo(expected);
      synchronized (model) {
        if (expected == null) {
          apply(op, d, other, key, value, host, n);
        } else if (op == Op.UNLINK && expected == FailedPreconditionException.class) {
          model[other].links.remove(d); // removed before the deref of a blob without references
        }
      }
      if (op == Op.COMMIT || op == Op.COMMIT_NO_REF || op == Op.REF || op == Op.UPDATE) {
        if (expected == null) {
          Info info = store.info(digests[d]);
          synchronized (model) {
            assertThat(info.refCount()).as(what + ": count").isEqualTo(model[d].refCount);
            assertThat(info.labels()).as(what + ": labels").isEqualTo(model[d].labels);
          }
        }
      }
      done.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
      outcomes.computeIfAbsent(expected == null ? "ok" : expected.getSimpleName(),
          k -> new AtomicInteger()).incrementAndGet();
    } finally {
      held.forEach(i -> locks[i].unlock());
    }
  }

  private void act(ContentStore store, Op op, int d, int other, String key, String value,
      int host, int n, String what) {
    Digest digest = digests[d];
    switch (op) {
      case COMMIT -> RefCountHosts.commitAndRef(store, "h" + host + "-" + n, contents[d],
          Map.of("committed", "h" + host + "-" + n));
      case COMMIT_NO_REF -> {
        try (Writer writer = store.writer("h" + host + "-" + n, Descriptor.UNKNOWN)) {
          writer.write(contents[d]);
          writer.commit(0, null, Map.of("committed", "h" + host + "-" + n));
        }
      }
      case REF -> store.ref(digest);
      case DEREF -> store.deref(digest);
      case DELETE -> store.delete(digest);
      case LINK -> store.link(digest, digests[other]);
      case UNLINK -> store.unlink(digest, digests[other]);
      case UPDATE -> store.update(Info.forUpdate(digest,
          value.isEmpty() ? Map.of() : Map.of(key, value)), "labels." + key);
      case READ -> RefCountHosts.assertReadable(store, digest, contents[d]);
      case GC -> store.gc(GC);
      default -> throw new AssertionError(what);
    }
  }

  /** Takes the locks {@code op} needs, in digest order, re-checking the link closure once held. */
  private Set<Integer> lock(Op op, int d, int other) {
    while (true) {
      Set<Integer> wanted;
      synchronized (model) {
        wanted = needed(op, d, other);
      }
      wanted.forEach(i -> locks[i].lock());
      Set<Integer> now;
      synchronized (model) {
        now = needed(op, d, other);
      }
      // Links change only under their source's lock: once all are held, the closure is stable.
      if (wanted.containsAll(now)) {
        return wanted;
      }
      wanted.forEach(i -> locks[i].unlock());
    }
  }

  private Set<Integer> needed(Op op, int d, int other) {
    Set<Integer> set = new TreeSet<>();
    switch (op) {
      case COMMIT, COMMIT_NO_REF, REF, UPDATE, READ -> set.add(d);
      case DEREF, DELETE -> set.addAll(closure(d));
      case LINK, UNLINK -> {
        set.add(other);
        set.addAll(closure(d));
      }
      case GC -> {
        for (int i = 0; i < CONTENTS; i++) {
          set.add(i);
        }
      }
      default -> throw new AssertionError(op);
    }
    return set;
  }

  /** {@code d} and every digest reachable from it by the model's links. */
  private Set<Integer> closure(int d) {
    Set<Integer> seen = new TreeSet<>();
    Deque<Integer> pending = new ArrayDeque<>(List.of(d));
    while (!pending.isEmpty()) {
      int i = pending.pop();
      if (seen.add(i)) {
        pending.addAll(model[i].links.keySet());
      }
    }
    return seen;
  }

  /** The exception the store must throw for {@code op} in the model's state, or null. */
  private Class<? extends StoreException> expect(Op op, int d, int other) {
    return switch (op) {
      case COMMIT, GC -> null;
      case COMMIT_NO_REF -> model[d].live ? AlreadyExistsException.class : null;
      case REF, DELETE, UPDATE, READ -> model[d].live ? null : NotFoundException.class;
      case DEREF -> !model[d].live ? NotFoundException.class
          : model[d].refCount == 0 ? FailedPreconditionException.class : null;
      // Linking transfers a reference of d, or (linked already) derefs d: both need one.
      case LINK -> !model[d].live || !model[other].live ? NotFoundException.class
          : model[d].refCount == 0 ? FailedPreconditionException.class : null;
      case UNLINK -> !model[d].live || !model[other].live ? NotFoundException.class
          : holdsCurrent(other, d) && model[d].refCount == 0
              ? FailedPreconditionException.class : null;
    };
  }

  /** The model's change for a successful {@code op}. */
  private void apply(Op op, int d, int other, String key, String value, int host, int n) {
    Blob blob = model[d];
    switch (op) {
      case COMMIT -> {
        if (blob.live) {
          blob.refCount++;
        } else {
          // A new record, or a deleting one resurrected: both start afresh.
          blob.live = true;
          blob.incarnation++;
          blob.refCount = 1;
          blob.links.clear();
          blob.labels.clear();
          blob.labels.put("committed", "h" + host + "-" + n);
        }
      }
      case COMMIT_NO_REF -> {
        blob.live = true;
        blob.incarnation++;
        blob.refCount = 0;
        blob.links.clear();
        blob.labels.clear();
        blob.labels.put("committed", "h" + host + "-" + n);
      }
      case REF -> blob.refCount++;
      case DEREF -> release(d, false);
      case DELETE -> release(d, true);
      case LINK -> {
        if (holdsCurrent(other, d)) {
          release(d, false); // the link holds a reference already: the caller's is dropped
        } else {
          // A new link, or one replacing a link to an earlier life of d (PROTO-1).
          model[other].links.put(d, blob.incarnation);
        }
      }
      case UNLINK -> {
        boolean current = holdsCurrent(other, d);
        if (model[other].links.remove(d) != null && current) {
          release(d, false); // a link to an earlier life releases nothing of this one
        }
      }
      case UPDATE -> {
        if (value.isEmpty()) {
          blob.labels.remove(key);
        } else {
          blob.labels.put(key, value);
        }
      }
      case READ, GC -> { }
      default -> throw new AssertionError(op);
    }
  }

  /** Whether {@code from} links to the current life of {@code to}. */
  private boolean holdsCurrent(int from, int to) {
    Integer held = model[from].links.get(to);
    return held != null && held == model[to].incarnation;
  }

  /** A reference (or, {@code whole}, the blob) released, cascading through the links. */
  private void release(int d, boolean whole) {
    Blob blob = model[d];
    if (!whole && blob.refCount > 1) {
      blob.refCount--;
      return;
    }
    blob.live = false;
    blob.refCount = 0;
    Deque<Map.Entry<Integer, Integer>> pending = new ArrayDeque<>(blob.links.entrySet());
    Set<Integer> removed = new HashSet<>(List.of(d));
    while (!pending.isEmpty()) {
      Map.Entry<Integer, Integer> link = pending.pop();
      int t = link.getKey();
      Blob target = model[t];
      if (!target.live || target.refCount == 0 || link.getValue() != target.incarnation) {
        continue; // a dangling link, one to an earlier life, or a blob with no reference left
      }
      if (--target.refCount == 0) {
        target.live = false;
        if (removed.add(t)) {
          pending.addAll(target.links.entrySet());
        }
      }
    }
  }

  private void verifyAgainstModel(ContentStore checker, long seed) {
    // gc with no grace: every deleted blob is purged now.
    checker.gc(GC);
    for (int i = 0; i < CONTENTS; i++) {
      Digest digest = digests[i];
      String what = "digest " + i + " " + digest + " (seed " + seed + ")";
      Blob blob = model[i];
      if (blob.live) {
        Info info = checker.info(digest);
        assertThat(info.refCount()).as(what + ": count").isEqualTo(blob.refCount);
        assertThat(info.labels()).as(what + ": labels").isEqualTo(blob.labels);
        assertThat(info.links()).as(what + ": links").isEqualTo(blob.links.keySet().stream()
            .map(t -> digests[t]).collect(Collectors.toSet()));
        assertThat(hosts.exists(hosts.blobKey(digest))).as(what + ": blob object").isTrue();
        RefCountHosts.assertReadable(checker, digest, contents[i]);
      } else {
        assertThatThrownBy(() -> checker.info(digest)).as(what)
            .isInstanceOf(NotFoundException.class);
        assertThat(hosts.exists(hosts.blobKey(digest))).as(what + ": blob object").isFalse();
        assertThat(hosts.exists(hosts.indexKey(digest))).as(what + ": record").isFalse();
      }
    }
    // Links from live blobs to deleted ones are what fsck must report, and all it may report.
    Set<String> dangling = new TreeSet<>();
    for (int i = 0; i < CONTENTS; i++) {
      if (model[i].live) {
        for (int t : model[i].links.keySet()) {
          if (!model[t].live) {
            dangling.add(digests[i] + " -> " + digests[t]);
          }
        }
      }
    }
    FsckReport report = checker.fsck(false);
    assertThat(report.findings()).allMatch(f -> f.kind() == FsckReport.Kind.DANGLING_LINK);
    Set<String> found = report.findings().stream()
        .map(f -> f.subject() + " -> " + f.detail().replaceAll("^links to (\\S+),.*$", "$1"))
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(found).as("dangling links (seed %d)", seed).isEqualTo(dangling);
    System.out.println("RefCountModelIT: " + model.length + " digests, "
        + java.util.Arrays.stream(model).filter(b -> b.live).count() + " live at the end, "
        + dangling.size() + " dangling links found by fsck");
    if (!dangling.isEmpty()) {
      assertThat(checker.fsck(true).clean()).isTrue();
      for (int i = 0; i < CONTENTS; i++) {
        if (model[i].live) {
          model[i].links.keySet().removeIf(t -> !model[t].live);
          assertThat(checker.info(digests[i]).links()).isEqualTo(model[i].links.keySet().stream()
              .map(t -> digests[t]).collect(Collectors.toSet()));
        }
      }
    }
    assertThat(checker.fsck(false).findings()).isEmpty();
  }
}
