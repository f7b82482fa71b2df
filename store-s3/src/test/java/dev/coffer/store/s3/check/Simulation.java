package dev.coffer.store.s3.check;

// Over 400 lines: one run's world, its steps and its settling against the model belong together.

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.Faults;
import dev.coffer.s3sim.SimClock;
import dev.coffer.s3sim.SimS3;
import dev.coffer.s3sim.Storage;
import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.GcOptions;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.SimHosts;
import dev.coffer.store.s3.check.History.Step;
import dev.coffer.store.s3.check.Op.End;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * One run of the checker: a simulated S3, {@code hosts} hosts each with its own store instance on
 * it, and a model. Steps run one at a time on the test's thread; each host's store does its
 * background work on that thread too, so every request, fault and death happens in an order the
 * seed alone decides. After each step the bucket is read straight from the simulation's storage
 * and compared with the model (invariants INV-1 to INV-8 of docs/architecture.md); a violation is
 * thrown as {@link Violation}.
 */
final class Simulation implements AutoCloseable {
  static final String PREFIX = "sim/";
  /** The ages that matter, short so that a history of minutes reaches them. */
  static final Duration GRACE = Duration.ofSeconds(60);
  static final Duration PURGE_TIMEOUT = Duration.ofSeconds(30);
  static final Duration LEASE = Duration.ofSeconds(10);
  private static final GcOptions KEEP_INGESTS = new GcOptions(Duration.ofDays(36_500), false);

  /** An invariant that does not hold after a step. */
  static final class Violation extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int step;
    final String invariant;

    Violation(int step, String invariant, String message) {
      super(invariant + " after step " + step + ": " + message, null, false, false);
      this.step = step;
      this.invariant = invariant;
    }
  }

  /** What a run did. */
  record Stats(long steps, long requests, long deaths, long unclear, long excess,
      long interleaved) {}

  private final CheckConfig config;
  private final SimClock clock = new SimClock();
  private final Storage storage = Storage.inMemory();
  private final SimS3 sim;
  private final SimHosts hosts;
  private final byte[][] contents;
  private final Digest[] digests;
  private final Map<String, Integer> blobOf = new HashMap<>();
  /** The ETag of each blob object last hashed, so that a large one is hashed once. */
  private final Map<Integer, String> verified = new HashMap<>();
  private final S3StoreConfig[] configs;
  private final ContentStore[] stores;
  private final SplittableRandom randomness;
  private final Fingerprint fingerprint = new Fingerprint();
  private Model model;
  /** The files of the file puts: each content, and each changed after it was hashed. */
  private final Path files;

  // The step in progress: whose requests count towards a death.
  private int activeHost = -1;
  private int dieAt;
  private boolean fatalApplied;
  private int requestsOfStep;
  private boolean died;
  // Another host's operation to run just before the step's nestAt-th request, once.
  private Op nested;
  private int nestAt;
  private RuntimeException nestedThrown;
  private boolean nestedRan;

  private long deaths;
  private long unclear;
  private long excess;
  private long stepsRun;
  private long interleavedSteps;

  Simulation(CheckConfig config) {
    this.config = config;
    this.model = new Model(config.incarnations());
    this.sim = SimS3.builder().clock(clock).storage(storage).seed(config.seed()).build();
    this.hosts = SimHosts.on(sim);
    this.randomness = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
    try {
      this.files = Files.createTempDirectory("coffer-check");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Random content = new Random(config.seed());
    contents = new byte[config.blobs()][];
    digests = new Digest[config.blobs()];
    for (int b = 0; b < config.blobs(); b++) {
      int size = b == 0 ? 0 : b <= config.large() ? (5 << 20) + content.nextInt(1 << 20)
          : 1 + content.nextInt(3000);
      contents[b] = new byte[size];
      content.nextBytes(contents[b]);
      if (b > 0) {
        contents[b][0] = (byte) b; // distinct contents, whatever the draws
      }
      digests[b] = Digest.of(contents[b]);
      blobOf.put(digests[b].toString(), b);
    }
    configs = new S3StoreConfig[config.hosts()];
    stores = new ContentStore[config.hosts()];
    for (int h = 0; h < config.hosts(); h++) {
      long skew = config.skewMillis() == 0 ? 0
          : randomness.nextLong(-config.skewMillis(), config.skewMillis() + 1);
      configs[h] = SimHosts.config(PREFIX).clock(clock.skewed(Duration.ofMillis(skew)))
          .deletionGrace(GRACE).purgeTimeout(PURGE_TIMEOUT).leaseDuration(LEASE).build();
      if (config.faults() > 0) {
        double p = config.faults();
        sim.network().faults(host(h), Faults.builder().seed(config.seed() * 31 + h)
            .internalError(p).slowDown(p).conflict(p).lostAnswer(p)
            .late(config.late(), 1 + h % 3).build());
      }
      stores[h] = newInstance(h);
    }
    sim.network().interceptor(exchange -> {
      intercept(exchange);
      fingerprint.update(exchange);
    });
  }

  /** Counts the step's requests, runs the nested operation and kills the host where due. */
  private void intercept(Exchange exchange) {
    if (activeHost >= 0 && exchange.host().equals(host(activeHost))) {
      if (died) {
        exchange.fail();
        return;
      }
      requestsOfStep++;
      if (nested != null && !nestedRan && requestsOfStep == nestAt) {
        nestedRan = true;
        try {
          call(stores[nested.host()], nested);
        } catch (RuntimeException e) {
          nestedThrown = e;
        }
      }
      if (dieAt > 0 && requestsOfStep == dieAt) {
        died = true;
        if (fatalApplied) {
          exchange.applyAndLoseAnswer();
        } else {
          exchange.fail();
        }
        return;
      }
    }
    exchange.proceed();
  }

  private static String host(int h) {
    return "h" + h;
  }

  private ContentStore newInstance(int h) {
    return hosts.open(host(h), configs[h], clock, new Random(randomness.nextLong()));
  }

  /** Runs {@code steps}, checking after each, then (if {@code finish}) the final cleanup. */
  Stats run(List<Step> steps, boolean finish) {
    for (int i = 0; i < steps.size(); i++) {
      step(i, steps.get(i));
    }
    if (finish) {
      finish(steps.size());
    }
    return new Stats(stepsRun, sim.log().total(), deaths, unclear, excess,
        interleavedSteps);
  }

  // ---- one step

  private void step(int i, Step s) {
    stepsRun++;
    Op op = s.op();
    if (op instanceof Op.Advance a) {
      clock.advance(Duration.ofMillis(a.millis()));
      check(i);
      return;
    }
    int h = op.host();
    activeHost = h;
    dieAt = s.dieAt();
    fatalApplied = s.fatalApplied();
    requestsOfStep = 0;
    died = false;
    nested = s.nested();
    nestAt = s.nestAt();
    nestedRan = false;
    nestedThrown = null;
    try {
      if (op instanceof Op.Ingest g) {
        ingest(i, h, g);
      } else if (nested != null) {
        interleaved(i, op);
      } else {
        Model after = model.copy();
        Class<? extends StoreException> expected = expect(after, op);
        RuntimeException thrown = null;
        try {
          call(stores[h], op);
        } catch (RuntimeException e) {
          thrown = e;
        }
        settle(i, op, after, expected, thrown);
      }
    } finally {
      activeHost = -1;
      nested = null;
    }
    if (died) {
      deaths++;
      stores[h] = newInstance(h); // the dead instance's memory is lost: never closed, never used
      model.ingests.values().forEach(g -> g.mayBeLocked = true);
    }
    check(i);
  }

  /**
   * INV-8: a step with another host's operation run in its middle must be explained by one of
   * the two orders: both answers and the bucket as the model has them after that order.
   */
  private void interleaved(int i, Op op) {
    RuntimeException thrown = null;
    try {
      call(stores[op.host()], op);
    } catch (RuntimeException e) {
      thrown = e;
    }
    Op other = nested;
    RuntimeException otherThrown = nestedRan ? nestedThrown : null;
    if (nestedRan) {
      interleavedSteps++;
    }
    if (!nestedRan) { // the step made fewer requests than nestAt: the other runs after it
      try {
        call(stores[other.host()], other);
      } catch (RuntimeException e) {
        otherThrown = e;
      }
    }
    Model first = model.copy();
    Class<? extends StoreException> a1 = expect(first, op);
    Class<? extends StoreException> b1 = expect(first, other);
    Model second = model.copy();
    Class<? extends StoreException> b2 = expect(second, other);
    Class<? extends StoreException> a2 = expect(second, op);
    if (!config.exact() && (unclearAnswer(thrown) || unclearAnswer(otherThrown))) {
      unclear++;
      try {
        reconcile(i, model, first);
      } catch (Violation v) {
        reconcile(i, model, second);
      }
      return;
    }
    boolean firstFits = answers(a1, thrown) && answers(b1, otherThrown) && matches(i, first);
    boolean secondFits = answers(a2, thrown) && answers(b2, otherThrown) && matches(i, second);
    if (!firstFits && !secondFits) {
      throw new Violation(i, "INV-8 linearizable", op + " answered " + answer(thrown) + " and "
          + other + " run in its middle answered " + answer(otherThrown) + "; in that order the "
          + "model answers " + name(a1) + ", " + name(b1) + " and holds " + first.blobs
          + "; in the other " + name(a2) + ", " + name(b2) + " and " + second.blobs
          + "; the bucket holds " + liveRecords(i));
    }
    model = firstFits ? first : second;
  }

  private static boolean answers(Class<? extends StoreException> expected, Throwable thrown) {
    return thrown == null ? expected == null : expected != null && expected.isInstance(thrown);
  }

  private static String answer(Throwable t) {
    return t == null ? "success" : t.toString();
  }

  private static String name(Class<?> c) {
    return c == null ? "success" : c.getSimpleName();
  }

  /** Whether the bucket's live records are exactly {@code m}'s blobs (counts, labels, links). */
  private boolean matches(int i, Model m) {
    Map<Integer, SimHosts.RecordView> live = liveRecords(i);
    if (!live.keySet().equals(m.blobs.keySet())) {
      return false;
    }
    for (var e : m.blobs.entrySet()) {
      Model.Blob now = toBlob(i, e.getKey(), live.get(e.getKey()));
      if (now.refs != e.getValue().refs || !now.labels.equals(e.getValue().labels)
          || !now.links.equals(e.getValue().links)) {
        return false;
      }
    }
    return true;
  }

  private Class<? extends StoreException> expect(Model m, Op op) {
    if (op instanceof Op.Put p) {
      return m.publish(p.blob(), p.takeRef(), putLabels(p.label()));
    } else if (op instanceof Op.PutFile p) {
      // Stored content is not read again: AlreadyExists, or one more reference. Otherwise a
      // changed file's bytes do not hash to the digest: nothing is stored.
      if (p.changed() && !m.live(p.blob())) {
        return FailedPreconditionException.class;
      }
      return m.publish(p.blob(), p.takeRef(), putLabels(p.label()));
    } else if (op instanceof Op.Ref r) {
      return m.ref(r.blob());
    } else if (op instanceof Op.Deref d) {
      return m.deref(d.blob());
    } else if (op instanceof Op.Link l) {
      return m.link(l.to(), l.from());
    } else if (op instanceof Op.Unlink u) {
      return m.unlink(u.to(), u.from());
    } else if (op instanceof Op.Label l) {
      return m.label(l.blob(), "k" + l.key(), l.value() == 0 ? "" : "v" + l.value());
    } else if (op instanceof Op.Delete d) {
      return m.delete(d.blob());
    } else if (op instanceof Op.Abort a) {
      Model.Ingest g = m.ingests.get(a.ref());
      return g != null && g.mayBeLocked ? null : m.abort(a.ref());
    } else if (op instanceof Op.Fsck) {
      return m.repairDanglingLinks();
    }
    return null; // gc changes nothing the model holds
  }

  private static Map<String, String> putLabels(int label) {
    return label == 0 ? Map.of() : Map.of("k0", "p" + label);
  }

  /** The file of content {@code b}, or of that content changed after it was hashed. */
  private Path file(int b, boolean changed) {
    Path path = files.resolve((changed ? "changed-" : "b") + b);
    if (!Files.exists(path)) {
      byte[] bytes = contents[b];
      if (changed) {
        bytes = bytes.length == 0 ? new byte[1] : bytes.clone();
        bytes[bytes.length / 2] ^= 0x5A;
      }
      try {
        Files.write(path, bytes);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return path;
  }

  private void call(ContentStore store, Op op) {
    if (op instanceof Op.Put p) {
      if (p.takeRef()) {
        store.putAndRef(contents[p.blob()], digests[p.blob()], putLabels(p.label()));
      } else {
        store.put(contents[p.blob()], digests[p.blob()], putLabels(p.label()));
      }
    } else if (op instanceof Op.PutFile p) {
      Path path = file(p.blob(), p.changed());
      try {
        if (p.takeRef()) {
          store.putFileAndRef(path, digests[p.blob()], putLabels(p.label()));
        } else {
          store.putFile(path, digests[p.blob()], putLabels(p.label()));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    } else if (op instanceof Op.Ref r) {
      store.ref(digests[r.blob()]);
    } else if (op instanceof Op.Deref d) {
      store.deref(digests[d.blob()]);
    } else if (op instanceof Op.Link l) {
      store.link(digests[l.to()], digests[l.from()]);
    } else if (op instanceof Op.Unlink u) {
      store.unlink(digests[u.to()], digests[u.from()]);
    } else if (op instanceof Op.Label l) {
      store.update(Info.forUpdate(digests[l.blob()],
          l.value() == 0 ? Map.of() : Map.of("k" + l.key(), "v" + l.value())),
          "labels.k" + l.key());
    } else if (op instanceof Op.Delete d) {
      store.delete(digests[d.blob()]);
    } else if (op instanceof Op.Abort a) {
      store.abort(ref(a.ref()));
    } else if (op instanceof Op.Gc) {
      store.gc(KEEP_INGESTS);
    } else if (op instanceof Op.Fsck) {
      store.fsck(true);
    } else {
      throw new IllegalArgumentException("not a store call: " + op);
    }
  }

  private static String ref(int r) {
    return "ref-" + r;
  }

  /** An abort of an ingest a dead writer may still lease may be refused as Unavailable. */
  private void settle(int i, Op op, Model after, Class<? extends StoreException> expected,
      RuntimeException thrown) {
    if (op instanceof Op.Abort a && thrown instanceof UnavailableException) {
      Model.Ingest g = model.ingests.get(a.ref());
      if (g != null && g.mayBeLocked && !died) {
        // Refused as locked, or its conditional delete applied with the answer lost: the
        // bucket tells which.
        reconcileIngest(a.ref(), -1, -1);
        return;
      }
    }
    if (op instanceof Op.Abort a && thrown == null) {
      model.ingests.remove(a.ref());
      after.ingests.remove(a.ref());
    }
    if (died || (!config.exact() && unclearAnswer(thrown))) {
      unclear++;
      reconcile(i, model, after);
      if (op instanceof Op.Abort a) {
        reconcileIngest(a.ref(), -1, -1);
      }
      return;
    }
    if (thrown == null ? expected != null : expected == null || !expected.isInstance(thrown)) {
      throw new Violation(i, "INV-7 outcomes", op + ": the model expects "
          + (expected == null ? "success" : expected.getSimpleName()) + ", the store "
          + (thrown == null ? "succeeded" : "threw " + thrown));
    }
    model = after;
    if (thrown == null) {
      readBack(i, op);
    }
  }

  private static boolean unclearAnswer(Throwable t) {
    return t instanceof UnavailableException || t instanceof AbortedException
        || t instanceof UnknownException;
  }

  /** INV-2: a blob a successful step just touched reads back through the step's store. */
  private void readBack(int i, Op op) {
    int blob = -1;
    if (op instanceof Op.Put p) {
      blob = p.blob();
    } else if (op instanceof Op.PutFile p) {
      blob = p.blob();
    } else if (op instanceof Op.Ref r) {
      blob = r.blob();
    } else if (op instanceof Op.Label l) {
      blob = l.blob();
    } else if (op instanceof Op.Ingest g) {
      blob = g.blob();
    }
    if (blob < 0 || !model.live(blob) || died) {
      return;
    }
    ContentStore store = stores[op.host()];
    byte[] read;
    try {
      read = Content.readBlob(store, Descriptor.of(digests[blob], contents[blob].length));
    } catch (StoreException e) {
      if (!config.exact() && unclearAnswer(e)) {
        return;
      }
      throw new Violation(i, "INV-2 readable", "b" + blob + " is live in the model but reading "
          + "it through h" + op.host() + " threw " + e);
    }
    if (!Arrays.equals(read, contents[blob])) {
      throw new Violation(i, "INV-2 readable", "b" + blob + " read through h" + op.host()
          + " returned " + read.length + " bytes that are not its content");
    }
  }

  // ---- ingests

  private void ingest(int i, int h, Op.Ingest op) {
    Model.Ingest known = model.ingests.get(op.ref());
    int blob = known != null ? known.blob : op.blob();
    byte[] c = contents[blob];
    Descriptor descriptor = op.describe() ? Descriptor.of(digests[blob], c.length)
        : Descriptor.UNKNOWN;
    Model after = model.copy();
    int offset = -1;
    int end = -1;
    Writer w = null;
    try {
      try {
        w = stores[h].writer(ref(op.ref()), descriptor);
      } catch (UnavailableException e) {
        if (known != null && known.mayBeLocked && !died) {
          return; // a dead writer's lease, or one of an unclear step, has not lapsed yet
        }
        throw e;
      }
      if (op.describe() && model.live(blob)) {
        throw new Violation(i, "INV-7 outcomes", op + ": opened a writer with the digest of "
            + "live content b" + blob + "; the model expects AlreadyExists");
      }
      offset = (int) w.status().offset();
      Digest running = w.digest();
      boolean plausible = known == null ? offset == 0
          : offset == known.offset || offset == known.otherOffset;
      if (!plausible || !running.equals(Digest.of(Arrays.copyOf(c, offset)))) {
        throw new Violation(i, "INV-6 resume", op + ": reopened at offset " + offset
            + " with digest " + running + "; the model has " + known);
      }
      Model.Ingest g = after.ingests.computeIfAbsent(op.ref(), r -> new Model.Ingest(blob));
      g.offset = offset;
      g.otherOffset = -1;
      g.mayBeLocked = false;
      int n = Math.min(c.length - offset, (c.length * op.percent() + 99) / 100);
      end = offset + n;
      w.write(c, offset, n);
      Class<? extends StoreException> expected;
      if (op.end() == End.PAUSE) {
        expected = null;
        g.offset = end;
        w.close();
      } else if (end < c.length) {
        expected = FailedPreconditionException.class;
        g.offset = end;
      } else {
        boolean takeRef = op.end() == End.COMMIT_AND_REF;
        expected = after.publish(blob, takeRef, Map.of("k1", "c"));
        after.ingests.remove(op.ref());
      }
      RuntimeException thrown = null;
      if (op.end() != End.PAUSE) {
        try {
          if (op.end() == End.COMMIT) {
            w.commit(c.length, digests[blob], Map.of("k1", "c"));
          } else {
            w.commitAndRef(c.length, digests[blob], Map.of("k1", "c"));
          }
        } catch (RuntimeException e) {
          thrown = e;
        }
        if (thrown != null && !died) {
          w.close();
        }
      }
      if (died || (!config.exact() && unclearAnswer(thrown))) {
        unclear++;
        reconcile(i, model, after);
        reconcileIngest(op.ref(), blob, end);
        return;
      }
      if (thrown == null ? expected != null : expected == null || !expected.isInstance(thrown)) {
        throw new Violation(i, "INV-7 outcomes", op + " at offset " + offset + ": the model "
            + "expects " + (expected == null ? "success" : expected.getSimpleName())
            + ", the store " + (thrown == null ? "succeeded" : "threw " + thrown));
      }
      model = after;
      if (thrown == null && op.end() != End.PAUSE) {
        readBack(i, new Op.Ingest(h, op.ref(), blob, op.percent(), op.end(), op.describe()));
      }
    } catch (AlreadyExistsException e) {
      if (!(op.describe() && model.live(blob)) && !died) {
        throw new Violation(i, "INV-7 outcomes", op + ": writer() threw " + e);
      }
      if (died) {
        unclear++;
        reconcileIngest(op.ref(), blob, end);
      }
    } catch (Violation v) {
      throw v;
    } catch (RuntimeException e) {
      if (died || (!config.exact() && unclearAnswer(e))) {
        unclear++;
        if (w != null && !died) {
          try {
            w.close();
          } catch (RuntimeException ignored) {
            // the pause failed too: the ingest keeps what it had
          }
        }
        reconcile(i, model, after);
        reconcileIngest(op.ref(), blob, end);
        return;
      }
      throw new Violation(i, "INV-7 outcomes", op + " at offset " + offset + " threw " + e);
    }
  }

  /**
   * After a step on ingest {@code ref} ended without a clear answer: whether it still exists is
   * read from the bucket; its offset is the one before or {@code end}, told when it is reopened.
   */
  private void reconcileIngest(int ref, int blob, int end) {
    boolean exists = storage.object(SimHosts.bucket(),
        SimHosts.ingestStateKey(PREFIX, ref(ref))) != null;
    Model.Ingest g = model.ingests.get(ref);
    if (!exists) {
      model.ingests.remove(ref);
      return;
    }
    if (g == null) {
      if (blob < 0) {
        return;
      }
      g = new Model.Ingest(blob); // started by this step
      g.otherOffset = end;
      model.ingests.put(ref, g);
    }
    if (end >= 0 && end != g.offset) {
      g.otherOffset = end;
    }
    g.mayBeLocked = true;
  }

  // ---- settling an unclear step against the bucket

  /**
   * A step without a clear answer may have done all, part or none of its work: every blob's
   * observed state must lie between the model before and after it (INV-3: a count never below the
   * lower of the two, never above the higher; labels and links one or the other), and becomes the
   * model. A count above the model after the step is excess, explained by this step.
   */
  private void reconcile(int i, Model before, Model after) {
    Map<Integer, SimHosts.RecordView> observed = liveRecords(i);
    Set<Integer> all = new TreeSet<>(before.blobs.keySet());
    all.addAll(after.blobs.keySet());
    all.addAll(observed.keySet());
    Model next = before.copy();
    next.blobs.clear();
    next.lives = after.lives;
    for (int b : all) {
      Model.Blob was = before.blobs.get(b);
      Model.Blob would = after.blobs.get(b);
      SimHosts.RecordView seen = observed.get(b);
      if (seen == null) {
        if (was != null && would != null) {
          throw new Violation(i, "INV-3 counts", "b" + b + " is gone, though live both before ("
              + was + ") and after (" + would + ") the unclear step");
        }
        continue;
      }
      if (was == null && would == null) {
        throw new Violation(i, "INV-3 counts", "b" + b + " is live (" + seen + "), though "
            + "gone both before and after the unclear step");
      }
      long lo = Math.min(was == null ? 0 : was.refs, would == null ? 0 : would.refs);
      long hi = Math.max(was == null ? 0 : was.refs, would == null ? 0 : would.refs);
      if (seen.refCount() < lo || seen.refCount() > hi) {
        throw new Violation(i, "INV-3 counts", "b" + b + " has " + seen.refCount()
            + " references; before the unclear step " + was + ", after " + would);
      }
      Model.Blob now = toBlob(i, b, seen);
      boolean labelsOk = (was != null && was.labels.equals(now.labels))
          || (would != null && would.labels.equals(now.labels));
      boolean linksOk = (was != null && was.links.equals(now.links))
          || (would != null && would.links.equals(now.links));
      if (!labelsOk || !linksOk) {
        throw new Violation(i, "INV-4 labels and links", "b" + b + " is " + now
            + "; before the unclear step " + was + ", after " + would);
      }
      if (would != null && now.refs > would.refs) {
        excess++;
      }
      now.incarnation = (would != null ? would : was).incarnation;
      next.blobs.put(b, now);
    }
    // Links keep the incarnation they were made to; a link this step made is to the live one.
    for (var e : next.blobs.entrySet()) {
      for (int to : e.getValue().links) {
        Long life = null;
        for (Model m : List.of(after, before)) {
          Model.Blob known = m.blobs.get(e.getKey());
          if (life == null && known != null) {
            life = known.linkedIncarnations.get(to);
          }
        }
        if (life == null) {
          Model.Blob target = next.blobs.get(to);
          life = target == null ? 0L : target.incarnation;
        }
        e.getValue().linkedIncarnations.put(to, life);
      }
    }
    model = next;
  }

  private Model.Blob toBlob(int i, int b, SimHosts.RecordView view) {
    Model.Blob blob = new Model.Blob();
    blob.refs = view.refCount();
    blob.labels.putAll(view.labels());
    for (String link : view.links()) {
      Integer to = blobOf.get(link);
      if (to == null) {
        throw new Violation(i, "INV-4 labels and links", "b" + b + " links to " + link
            + ", which no host ever wrote");
      }
      blob.links.add(to);
    }
    return blob;
  }

  // ---- invariants on the bucket

  /** The live index records in the bucket, each checked against its blob object (INV-1). */
  private Map<Integer, SimHosts.RecordView> liveRecords(int i) {
    Map<Integer, SimHosts.RecordView> live = new HashMap<>();
    String indexPrefix = PREFIX + "index/";
    var it = storage.objectsFrom(SimHosts.bucket(), indexPrefix);
    while (it.hasNext()) {
      var object = it.next();
      if (!object.key().startsWith(indexPrefix)) {
        break;
      }
      SimHosts.RecordView view = SimHosts.record(object.content());
      String digest = object.key().substring(indexPrefix.length()).replaceFirst("/", ":");
      Integer b = blobOf.get(digest);
      if (b == null) {
        throw new Violation(i, "INV-1 content", "a record for " + digest
            + ", which no host ever wrote");
      }
      if (!view.live()) {
        continue;
      }
      var blob = storage.object(SimHosts.bucket(), SimHosts.blobKey(PREFIX, digests[b]));
      if (blob == null) {
        throw new Violation(i, "INV-1 content", "b" + b + " has a live record and no object");
      }
      boolean hashes = blob.etag().equals(verified.get(b))
          || Digest.of(blob.content()).equals(digests[b]);
      if (view.size() != contents[b].length || blob.content().length != contents[b].length
          || !hashes) {
        throw new Violation(i, "INV-1 content", "b" + b + " (" + contents[b].length
            + " bytes) has a live record of size " + view.size() + " and an object of "
            + blob.content().length + " bytes hashing to " + Digest.of(blob.content()));
      }
      verified.put(b, blob.etag());
      live.put(b, view);
    }
    return live;
  }

  /**
   * INV-1, beyond records: every object at a digest key, recorded or not (a put whose record is
   * not written yet, a host killed before it), holds the bytes of that digest.
   */
  private void blobObjects(int i) {
    String blobPrefix = PREFIX + "blobs/";
    var it = storage.objectsFrom(SimHosts.bucket(), blobPrefix);
    while (it.hasNext()) {
      var object = it.next();
      if (!object.key().startsWith(blobPrefix)) {
        break;
      }
      String digest = object.key().substring(blobPrefix.length()).replaceFirst("/", ":");
      Integer b = blobOf.get(digest);
      if (b == null) {
        throw new Violation(i, "INV-1 content", "an object at the digest key of " + digest
            + ", which no host ever wrote");
      }
      if (!object.etag().equals(verified.get(b))
          && !Digest.of(object.content()).equals(digests[b])) {
        throw new Violation(i, "INV-1 content", "the object at b" + b + "'s digest key holds "
            + object.content().length + " bytes hashing to " + Digest.of(object.content()));
      }
      verified.put(b, object.etag());
    }
  }

  /** INV-1 to INV-4 against the model after a step. */
  private void check(int i) {
    blobObjects(i);
    Map<Integer, SimHosts.RecordView> live = liveRecords(i);
    for (var e : model.blobs.entrySet()) {
      SimHosts.RecordView seen = live.get(e.getKey());
      if (seen == null) {
        throw new Violation(i, "INV-2 readable", "b" + e.getKey() + " is live in the model ("
            + e.getValue() + ") and has no live record");
      }
      Model.Blob now = toBlob(i, e.getKey(), seen);
      if (now.refs != e.getValue().refs) {
        throw new Violation(i, "INV-3 counts", "b" + e.getKey() + " has " + now.refs
            + " references; the model " + e.getValue().refs);
      }
      if (!now.labels.equals(e.getValue().labels) || !now.links.equals(e.getValue().links)) {
        throw new Violation(i, "INV-4 labels and links", "b" + e.getKey() + " is " + now
            + "; the model " + e.getValue());
      }
    }
    for (int b : live.keySet()) {
      if (!model.live(b)) {
        throw new Violation(i, "INV-3 counts", "b" + b + " is live (" + live.get(b)
            + ") but not in the model");
      }
    }
  }

  // ---- the end

  /**
   * INV-5: every ingest aborted and every reference dropped on one host, then gc and fsck
   * --repair past every age: nothing is left under the prefix, no object and no upload.
   */
  private void finish(int i) {
    sim.network().faults(Faults.none());
    for (int h = 0; h < config.hosts(); h++) {
      sim.network().faults(host(h), Faults.none());
    }
    clock.advance(LEASE.plus(Duration.ofSeconds(config.skewMillis() / 1000 + 1)));
    ContentStore store = stores[0];
    for (int ref : List.copyOf(model.ingests.keySet())) {
      try {
        store.abort(ref(ref));
      } catch (NotFoundException e) {
        throw new Violation(i, "INV-6 resume", "the ingest of r" + ref + " the model holds ("
            + model.ingests.get(ref) + ") is gone: " + e.getMessage());
      }
    }
    for (int b = 0; b < config.blobs(); b++) {
      try {
        while (true) {
          Info info = store.info(digests[b]);
          if (info.refCount() == 0) {
            store.delete(digests[b]);
          } else {
            store.deref(digests[b]);
          }
        }
      } catch (NotFoundException e) {
        // gone
      }
    }
    // Past the age of uploads to digest keys that no lease covers (puts of files that lost a
    // race or whose host died), so that gc aborts them once their key holds no blob.
    clock.advance(Duration.ofDays(1));
    for (int round = 0; round < 2; round++) {
      clock.advance(GRACE.plus(PURGE_TIMEOUT).plus(Duration.ofMillis(2 * config.skewMillis()
          + 2_000)));
      store.gc(new GcOptions(Duration.ZERO, false));
      store.fsck(true);
    }
    List<String> left = new java.util.ArrayList<>();
    var it = storage.objectsFrom(SimHosts.bucket(), PREFIX);
    while (it.hasNext()) {
      var object = it.next();
      if (!object.key().startsWith(PREFIX)) {
        break;
      }
      left.add(object.key());
    }
    storage.uploads(SimHosts.bucket()).forEach(u -> left.add("upload of " + u.key()));
    if (!left.isEmpty()) {
      throw new Violation(i, "INV-5 nothing left", "after every reference was dropped and gc "
          + "and fsck ran: " + left);
    }
  }

  /**
   * A digest of every request the hosts sent, in order, and what became of it (see
   * {@link Fingerprint}): two runs with the same fingerprint made the same requests.
   */
  String fingerprint() {
    return fingerprint.value();
  }

  /** The network's most recent requests, one line each: host, operation, key and outcome. */
  List<String> requestTrace() {
    return sim.log().entries().stream().map(e -> e.sequence() + " " + e.host() + " "
        + e.operation() + " " + e.key() + " " + e.outcome() + " " + e.status()).toList();
  }

  @Override
  public void close() {
    hosts.close();
    try (var paths = Files.list(files)) {
      for (Path p : paths.toList()) {
        Files.delete(p);
      }
      Files.delete(files);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
