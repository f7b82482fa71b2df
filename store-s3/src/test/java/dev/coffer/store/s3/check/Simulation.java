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
import dev.coffer.store.NewLinks;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.IntStream;

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
      long interleaved, long linkAlls, long treeFailures, long treeLeft, long treeKept,
      long candidates, long linkNews, long linkNewsUnclear, long marksLeft, long marksGone,
      long racedPuts, long racedCreated, long racedAnew, long racedFresh, long racedRelinked,
      long cascadeStops, long endedDraws) {}

  private final CheckConfig config;
  private final SimClock clock = new SimClock();
  private final Storage storage = Storage.inMemory();
  private final SimS3 sim;
  private final SimHosts hosts;
  private final byte[][] contents;
  private final Digest[] digests;
  private final Map<String, Integer> blobOf = new HashMap<>();
  /** The blobs in the order an fsck reads their records: their index keys' (S3's list order). */
  private final List<Integer> recordOrder;
  /** The ETag of each blob object last hashed, so that a large one is hashed once. */
  private final Map<Integer, String> verified = new HashMap<>();
  private final S3StoreConfig[] configs;
  private final ContentStore[] stores;
  private final SplittableRandom randomness;
  private final Fingerprint fingerprint = new Fingerprint();
  /** linkNew's marks in the bucket (PROTO-13, INV-12). */
  private final LinkNewMarks marks;
  /** The files of the file puts: each content, and each changed after it was hashed. */
  private final Path files;
  /**
   * Every state of the model that fits what the run has observed (INV-8): an interleaved step
   * whose orders all fit the bucket keeps one candidate per distinct outcome, and a later step
   * drops those it contradicts. They agree on all the bucket shows (counts, labels, links, which
   * blobs are live) and differ only in what it does not, such as which incarnation a link holds.
   * A run fails when no candidate is left. In a fixed order, deduplicated by
   * {@link Model#signature}.
   */
  private List<Model> models;
  /** The counts of the candidate settling a step; each candidate settles with its own copy. */
  private Tally tally = new Tally();

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
  /**
   * While the orders of an interleaved step are tried: the blobs whose marks its gc or repair
   * kept though the bucket after the step no longer holds them ({@link #keptChoices}).
   */
  private Set<Integer> marksKeptOn = Set.of();

  private long deaths;
  private long stepsRun;
  private long interleavedSteps;
  /** Steps that were a linkAll or a tree link. */
  private long linkAlls;
  /** Steps that were a raced put ({@link Op.RacedPut}). */
  private long racedPuts;
  /** Steps that were a linkNew, and those without a clear outcome (or with marks left). */
  private long linkNews;
  private long linkNewsUnclear;
  /** Whether the step in progress, a linkNew, left a mark no link holds. */
  private boolean linkNewLeft;
  /** Puts that mark drawn from a remembered incarnation of {@code from} that had ended. */
  private long endedDraws;
  /** The most candidates the run held at once. */
  private long mostCandidates = 1;

  /** What the settling of steps counted. */
  private static final class Tally {
    long unclear;
    long excess;
    /** Tree links whose linkAll failed and whose outcome INV-11 checked exactly. */
    long treeFailures;
    /** Targets interrupted tree links left with a reference no link holds. */
    long treeLeft;
    /**
     * Raced puts whose victim the puts created, of those the ones stored anew before the link,
     * and raced puts whose link was NotFound and linked again plainly.
     */
    long racedCreated;
    long racedAnew;
    long racedRelinked;
    /**
     * Of the raced puts with a created victim, those the pass from remembered versions does not
     * explain and a call from fresh reads does.
     */
    long racedFresh;
    /** Unclear deletes and derefs whose cascade may have stopped between two releases. */
    long cascadeStops;

    Tally copy() {
      Tally t = new Tally();
      t.cascadeStops = cascadeStops;
      t.racedFresh = racedFresh;
      t.racedCreated = racedCreated;
      t.racedAnew = racedAnew;
      t.racedRelinked = racedRelinked;
      t.unclear = unclear;
      t.excess = excess;
      t.treeFailures = treeFailures;
      t.treeLeft = treeLeft;
      return t;
    }
  }

  Simulation(CheckConfig config) {
    this.config = config;
    this.models = List.of(new Model(config.incarnations()));
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
    recordOrder = IntStream.range(0, config.blobs()).boxed()
        .sorted(Comparator.comparing(b -> SimHosts.indexKey(PREFIX, digests[b]))).toList();
    marks = new LinkNewMarks(storage, PREFIX, blobOf);
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
    return new Stats(stepsRun, sim.log().total(), deaths, tally.unclear, tally.excess,
        interleavedSteps, linkAlls, tally.treeFailures, tally.treeLeft,
        models.get(0).keptByTrees, mostCandidates, linkNews, linkNewsUnclear,
        marks.marksLeft(), marks.marksGone(), racedPuts, tally.racedCreated, tally.racedAnew,
        tally.racedFresh, tally.racedRelinked, tally.cascadeStops, endedDraws);
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
    if (op instanceof Op.LinkAll || op instanceof Op.TreeLink) {
      linkAlls++;
    }
    if (op instanceof Op.LinkNew) {
      linkNews++;
    }
    int h = op.host();
    treeFailedAt = null;
    activeHost = h;
    dieAt = s.dieAt();
    fatalApplied = s.fatalApplied();
    requestsOfStep = 0;
    died = false;
    nested = s.nested();
    nestAt = s.nestAt();
    nestedRan = false;
    nestedThrown = null;
    remember(op, nested);
    try {
      if (op instanceof Op.Ingest g) {
        ingest(i, h, g);
      } else if (op instanceof Op.RacedPut r) {
        racedPut(i, h, r);
      } else if (nested != null) {
        interleaved(i, op);
      } else {
        RuntimeException thrown = null;
        try {
          call(stores[h], op);
        } catch (RuntimeException e) {
          thrown = e;
        }
        RuntimeException answer = thrown;
        linkNewLeft = !config.exact() && op instanceof Op.LinkNew && marks.anyNew(models.get(0));
        if (op instanceof Op.LinkNew && (died || linkNewLeft || unclearAnswer(thrown))) {
          linkNewsUnclear++;
        }
        advance(m -> List.of(settle(i, op, m, answer)));
        if (thrown == null) {
          readBack(i, op);
        }
      }
    } finally {
      activeHost = -1;
      nested = null;
    }
    if (died) {
      deaths++;
      stores[h] = newInstance(h); // the dead instance's memory is lost: never closed, never used
      models.forEach(m -> m.ingests.values().forEach(g -> g.mayBeLocked = true));
    }
    check(i);
  }

  /**
   * Tells each candidate what the step's puts that mark ({@code op}'s and the operation run in
   * its middle, if any) draw their operations from: the incarnation of {@code from} the host's
   * store remembers live, which the store takes without a read (PROTO-14), as the candidate's
   * incarnation of {@code from} if that is still the live one in the bucket, else as one that has
   * ended ({@link Model#drawsFrom}). The other host's memory does not change during the step, and
   * the step's own host draws first.
   */
  private void remember(Op op, Op other) {
    models.forEach(m -> m.drawsFrom.clear());
    for (Op o : new Op[] {op, other}) {
      int from;
      if (o instanceof Op.LinkNew l && l.put()) {
        from = l.from();
      } else if (o instanceof Op.RacedPut r) {
        from = r.from();
      } else {
        continue;
      }
      Long remembered = SimHosts.rememberedLive(stores[o.host()], digests[from]);
      if (remembered == null) {
        continue;
      }
      var record = storage.object(SimHosts.bucket(), SimHosts.indexKey(PREFIX, digests[from]));
      boolean current = record != null && SimHosts.record(record.content()).live()
          && SimHosts.marks(record.content()).incarnation() == remembered;
      if (!current) {
        endedDraws++;
      }
      for (Model m : models) {
        m.drawsFrom.put(o.host(), current && m.live(from) ? m.blobs.get(from).incarnation
            : Model.ENDED_LIFE);
      }
    }
  }

  /**
   * Each candidate through {@code next}: the models that fit, deduplicated, become the
   * candidates, with the counts of the first candidate that fit; if none fits, the first
   * candidate's violation is thrown.
   */
  private void advance(Function<Model, List<Model>> next) {
    models = fitting(models, next);
    mostCandidates = Math.max(mostCandidates, models.size());
  }

  /**
   * The outcomes of {@code inputs} through {@code next} that fit, deduplicated by signature and
   * in order, each input counted on its own copy of the tally; the first input's violation if
   * none does.
   */
  private <T> List<Model> fitting(List<T> inputs, Function<T, List<Model>> next) {
    Tally base = tally;
    Tally chosen = null;
    Violation first = null;
    Map<String, Model> kept = new LinkedHashMap<>();
    for (T input : inputs) {
      tally = base.copy();
      try {
        for (Model m : next.apply(input)) {
          kept.putIfAbsent(m.signature(), m);
        }
        if (chosen == null) {
          chosen = tally;
        }
      } catch (Violation v) {
        if (first == null) {
          first = v;
        }
      }
    }
    tally = chosen == null ? base : chosen;
    if (kept.isEmpty()) {
      throw first;
    }
    return new ArrayList<>(kept.values());
  }

  /**
   * INV-8: a step with another host's operation run in its middle must be explained by one of
   * its orders ({@link Orders}: the other before the step, after it, or between two of its
   * record changes): both answers and the bucket as the model has them after that order. Every
   * order that fits is kept as a candidate.
   */
  private void interleaved(int i, Op op) {
    RuntimeException thrown = null;
    try {
      call(stores[op.host()], op);
    } catch (RuntimeException e) {
      thrown = e;
    }
    Op other = nested;
    boolean inTheMiddle = nestedRan;
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
    boolean linkNew = op instanceof Op.LinkNew || other instanceof Op.LinkNew;
    boolean unclearStep = !config.exact() && (unclear(op, thrown)
        || unclear(other, otherThrown) || linkNew && marks.anyNew(models.get(0)));
    if (linkNew && unclearStep) {
      linkNewsUnclear++;
    }
    if (unclearStep) {
      tally.unclear++;
    }
    RuntimeException a = thrown;
    RuntimeException b = otherThrown;
    advance(m -> fitting(keptChoices(m, op, other), kept -> {
      marksKeptOn = kept;
      try {
        return orders(i, m, op, a, other, b, inTheMiddle, unclearStep);
      } finally {
        marksKeptOn = Set.of();
      }
    }));
  }

  /**
   * The sets of blobs whose marks a gc or {@code fsck --repair} among {@code op} and {@code
   * other} may have kept though the bucket no longer shows them ({@link LinkNewMarks#undecided}):
   * only the empty set (every mark the bucket no longer holds given back) unless the other
   * operation removed a blob {@code m} lists marks on.
   */
  private List<Set<Integer>> keptChoices(Model m, Op op, Op other) {
    boolean resolves = op instanceof Op.Fsck || op instanceof Op.Gc || other instanceof Op.Fsck
        || other instanceof Op.Gc;
    return resolves ? LinkNewMarks.keptChoices(marks.undecided(m)) : List.of(Set.of());
  }

  /** The models after each order of {@code op} and {@code other} from {@code m} that fits. */
  private List<Model> orders(int i, Model m, Op op, RuntimeException thrown, Op other,
      RuntimeException otherThrown, boolean inTheMiddle, boolean unclearStep) {
    List<Orders.Order> orders = Orders.of(m, x -> expect(x, op), x -> expect(x, other),
        inTheMiddle);
    if (unclearStep) {
      Model window = highest(treeWindow(m, op, other), linkNewWindow(m, op, other));
      List<Model> afters = new ArrayList<>();
      orders.forEach(o -> afters.add(o.after()));
      // An operation without a clear answer may have done nothing at all, the other all of it.
      if (unclear(other, otherThrown)) {
        afters.add(alone(m, op));
      }
      if (unclear(op, thrown)) {
        afters.add(alone(m, other));
      }
      // Where an unclear operation may have stopped short of its end ({@link #stops}), with the
      // other before or after it.
      for (Op[] pair : new Op[][] {{op, other}, {other, op}}) {
        if (pair[0] == op ? unclear(op, thrown) : unclear(other, otherThrown)) {
          for (Model stop : stops(m, pair[0])) {
            afters.add(stop);
            afters.add(alone(stop, pair[1]));
          }
          afters.addAll(stops(alone(m, pair[1]), pair[0]));
        }
      }
      boolean repairs = op instanceof Op.Fsck || other instanceof Op.Fsck;
      List<Model[]> spans = new ArrayList<>();
      afters.forEach(a -> spans.add(new Model[] {m, a}));
      // An unclear operation run second, the first whole before it, may have stopped anywhere
      // between the first's outcome and both's: each blob lies between those two, rather than
      // between the state before both and an end (a put that marks stopped at a put refused
      // while its content is purged, a file it created live, with a tree link run first).
      if (unclear(op, thrown) && inTheMiddle) {
        spans.add(new Model[] {alone(m, other), orders.get(0).after()});
      }
      if (unclear(other, otherThrown)) {
        spans.add(new Model[] {alone(m, op), orders.get(orders.size() - 1).after()});
      }
      return fitting(spans, span -> List.of(reconcile(i, span[0], span[1], window, repairs)));
    }
    List<Model> fit = new ArrayList<>();
    for (Orders.Order o : orders) {
      if (answers(o.answer(), thrown) && answers(o.otherAnswer(), otherThrown)
          && matches(i, o.after())) {
        adoptCreationMarks(o.after(), op, other);
        fit.add(o.after());
      }
    }
    if (fit.isEmpty()) {
      StringBuilder tried = new StringBuilder();
      for (Orders.Order o : orders) {
        tried.append("; with the other ").append(o.point() < 0 ? "after it"
            : o.point() == 0 ? "first" : "after its change " + o.point())
            .append(" the model answers ").append(name(o.answer())).append(", ")
            .append(name(o.otherAnswer())).append(" and holds ").append(o.after().blobs);
      }
      throw new Violation(i, "INV-8 linearizable", op + " answered " + answer(thrown) + " and "
          + other + (inTheMiddle ? " run in its middle" : " run after it") + " answered "
          + answer(otherThrown) + tried + "; the bucket holds " + liveRecords(i));
    }
    return fit;
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
    } else if (op instanceof Op.LinkAll l) {
      return m.linkAll(l.to(), l.from());
    } else if (op instanceof Op.TreeLink t) {
      return m.treeLink(t.to(), t.from());
    } else if (op instanceof Op.LinkNew l) {
      return l.put() ? m.markedPut(l.to(), l.from(), l.link(), m.drawsFrom.get(l.host()))
          : m.linkNew(l.to(), l.from());
    } else if (op instanceof Op.Label l) {
      return m.label(l.blob(), "k" + l.key(), l.value() == 0 ? "" : "v" + l.value());
    } else if (op instanceof Op.Delete d) {
      return m.delete(d.blob());
    } else if (op instanceof Op.Abort a) {
      Model.Ingest g = m.ingests.get(a.ref());
      return g != null && g.mayBeLocked ? null : m.abort(a.ref());
    } else if (op instanceof Op.Fsck) {
      // its marks given back at each record's turn, after its reads
      return m.repairDanglingLinks(recordOrder, marks.stillPending(m, marksKeptOn));
    } else if (op instanceof Op.Gc) {
      // the marks it gave back (PROTO-13); nothing else the model holds
      marks.resolve(m, marksKeptOn);
    }
    return null;
  }

  /**
   * A put that marks, as a tree's put makes it: the operation drawn from {@code from}, each
   * distinct target's content put through it (content stored already is AlreadyExists), then
   * its link of the targets, unless the step stops before it.
   */
  private void markedPut(ContentStore store, Op.LinkNew l) {
    NewLinks links = store.newLinks(digests[l.from()]);
    for (int t : l.to().stream().distinct().toList()) {
      try {
        putThrough(links, t);
      } catch (AlreadyExistsException stored) {
        // linked by step 2
      }
    }
    if (l.link()) {
      links.link(l.to().stream().map(t -> digests[t]).toList());
    }
  }

  /**
   * A target's put through a put that marks: an odd blob from its file ({@link NewLinks#putFile},
   * on the checker's stores always in parts, the record created marked once they are completed),
   * the others from memory ({@link NewLinks#put}), as a tree's put sends its files by size.
   */
  private void putThrough(NewLinks links, int t) {
    if (t % 2 == 1) {
      try {
        links.putFile(file(t, false), digests[t], Map.of());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    } else {
      links.put(contents[t], digests[t], Map.of());
    }
  }

  // ---- a put that marks raced by another host's delete

  /**
   * The target a raced put's other host deletes: the {@code pick}-th of those its puts create
   * from {@code m} (all candidates agree on which blobs are live), or of all its distinct
   * targets if they create none.
   */
  private static int victim(Model m, Op.RacedPut op) {
    List<Integer> distinct = op.to().stream().distinct().toList();
    List<Integer> created = m.live(op.from())
        ? distinct.stream().filter(t -> !m.live(t)).toList() : List.of();
    List<Integer> pool = created.isEmpty() ? distinct : created;
    return pool.get(op.pick() % pool.size());
  }

  /**
   * A raced put ({@link Op.RacedPut}): host {@code h}'s puts through {@code newLinks(from)}, the
   * other host's delete (and re-put) of the victim, the link, and where the link is NotFound or
   * Aborted the tree's put's recovery (each target stored again, a plain {@code linkNew}). Each
   * call's answer must be the model's ({@link Model#racedPut}, INV-7) and the bucket the model's
   * after it; without a clear answer (a host killed, an unclear answer, a mark left), every
   * state it may have stopped in bounds the bucket as for any unclear step.
   */
  private void racedPut(int i, int h, Op.RacedPut op) {
    racedPuts++;
    int victim = victim(models.get(0), op);
    List<Integer> distinct = op.to().stream().distinct().toList();
    List<Digest> to = op.to().stream().map(t -> digests[t]).toList();
    RuntimeException[] thrown = new RuntimeException[5];
    NewLinks links = null;
    try {
      links = stores[h].newLinks(digests[op.from()]);
      for (int t : distinct) {
        try {
          putThrough(links, t);
        } catch (AlreadyExistsException stored) {
          // linked by step 2
        }
      }
    } catch (RuntimeException e) {
      thrown[0] = e;
    }
    ContentStore other = stores[op.other()];
    try {
      other.delete(digests[victim]);
    } catch (RuntimeException e) {
      thrown[1] = e;
    }
    if (op.reput()) {
      try {
        other.put(contents[victim], digests[victim], Map.of());
      } catch (RuntimeException e) {
        thrown[2] = e;
      }
    }
    if (thrown[0] == null) {
      try {
        links.link(to);
      } catch (RuntimeException e) {
        thrown[3] = e;
      }
      if (thrown[3] instanceof NotFoundException || thrown[3] instanceof AbortedException) {
        try {
          for (int t : distinct) {
            try {
              stores[h].put(contents[t], digests[t], Map.of());
            } catch (AlreadyExistsException stored) {
              // stored already
            }
          }
          stores[h].linkNew(to, digests[op.from()]);
        } catch (RuntimeException e) {
          thrown[4] = e;
        }
      }
    }
    boolean unclear = died || !config.exact() && (Arrays.stream(thrown)
        .anyMatch(Simulation::unclearAnswer) || marks.anyNew(models.get(0)));
    if (unclear) {
      tally.unclear++;
      advance(m -> List.of(racedUnclear(i, m, op, victim, thrown)));
      return;
    }
    advance(m -> racedClear(i, m, op, victim, thrown));
  }

  /**
   * A raced put with clear answers, from candidate {@code m}: each call's answer the model's,
   * the link made from the versions the host remembers or again from fresh reads (which the
   * model cannot tell apart: {@link Model#racedPut}); each that fits is kept.
   */
  private List<Model> racedClear(int i, Model m, Op.RacedPut op, int victim,
      RuntimeException[] thrown) {
    List<Model> fit = new ArrayList<>();
    Violation first = null;
    for (Model.Reads reads : List.of(Model.Reads.REMEMBERED, Model.Reads.FRESH)) {
      boolean fresh = reads == Model.Reads.FRESH;
      Model after = m.copy();
      Model.Race race = after.racedPut(op.to(), op.from(), victim, true, op.reput(),
          Model.RaceStage.ALL, reads, m.drawsFrom.get(op.host()));
      List<Class<? extends StoreException>> expected = Arrays.asList(race.start(),
          race.delete(), race.reput(), race.link(), race.relink());
      Violation wrong = null;
      for (int k = 0; k < thrown.length && wrong == null; k++) {
        if (!answers(expected.get(k), thrown[k])) {
          wrong = new Violation(i, "INV-7 outcomes", op + " (victim b" + victim + "): call " + k
              + " (start, delete, re-put, link, plain relink) the model expects "
              + name(expected.get(k)) + (fresh ? " from fresh reads" : "") + ", the store "
              + (thrown[k] == null ? "succeeded" : "threw " + thrown[k]));
        }
      }
      if (wrong != null) {
        first = first == null ? wrong : first;
        continue;
      }
      if (fit.isEmpty()) {
        if (race.created() && race.delete() == null) {
          tally.racedCreated++;
          if (op.reput() && race.reput() == null) {
            tally.racedAnew++;
          }
          if (fresh) {
            tally.racedFresh++;
          }
        }
        if (race.link() == NotFoundException.class && race.relink() == null) {
          tally.racedRelinked++;
        }
      }
      fit.add(after);
    }
    if (fit.isEmpty()) {
      throw first;
    }
    return fit;
  }

  /**
   * A raced put without a clear answer, from candidate {@code m}: the bucket settled against
   * every state it may have reached (stopped after the other host's calls, after its link, or
   * at its end; the other host's delete or re-put not landed where its answer was unclear),
   * with each target one or two references over as for an unclear {@code linkNew}
   * ({@link LinkNewMarks#markedOnly}).
   */
  private Model racedUnclear(int i, Model m, Op.RacedPut op, int victim,
      RuntimeException[] thrown) {
    List<Model> outcomes = new ArrayList<>();
    Model window = null;
    Op.LinkNew plain = new Op.LinkNew(op.host(), op.to(), op.from());
    for (boolean deletes : unclearAnswer(thrown[1]) ? List.of(true, false) : List.of(true)) {
      for (boolean reput : op.reput() && unclearAnswer(thrown[2]) ? List.of(true, false)
          : List.of(op.reput())) {
        for (Model.RaceStage stage : Model.RaceStage.values()) {
          Model a = m.copy();
          a.racedPut(op.to(), op.from(), victim, deletes, reput, stage, Model.Reads.REMEMBERED,
              m.drawsFrom.get(op.host()));
          outcomes.add(a);
          if (stage != Model.RaceStage.PUTS) {
            Model f = m.copy();
            f.racedPut(op.to(), op.from(), victim, deletes, reput, stage, Model.Reads.FRESH,
                m.drawsFrom.get(op.host()));
            outcomes.add(f);
          }
          if (stage != Model.RaceStage.ALL) {
            Model stored = a.copy();
            op.to().forEach(t -> stored.publish(t, false, Map.of()));
            window = highest(window, LinkNewMarks.markedOnly(stored, plain));
          }
        }
      }
    }
    Model w = window;
    Model next = fitting(outcomes, a -> List.of(reconcile(i, m, a, w))).get(0);
    return next;
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
    } else if (op instanceof Op.LinkAll l) {
      store.linkAll(l.to().stream().map(t -> digests[t]).toList(), digests[l.from()]);
    } else if (op instanceof Op.TreeLink t) {
      treeLink(store, t);
    } else if (op instanceof Op.LinkNew l && l.put()) {
      markedPut(store, l);
    } else if (op instanceof Op.LinkNew l) {
      store.linkNew(l.to().stream().map(t -> digests[t]).toList(), digests[l.from()]);
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

  /** Where the step's tree link failed, and whether it gave back what it had to. */
  private enum TreePhase { INFO, REF, LINK_ALL }

  private TreePhase treeFailedAt;

  /** {@code Trees.put}'s links (TREE-3) for one batch, with the store's calls in its order. */
  private void treeLink(ContentStore store, Op.TreeLink op) {
    Digest from = digests[op.from()];
    treeFailedAt = TreePhase.INFO;
    Set<Digest> linked = store.info(from).links();
    Set<Digest> files = new LinkedHashSet<>();
    op.to().forEach(t -> files.add(digests[t]));
    files.removeAll(linked);
    if (files.isEmpty()) {
      treeFailedAt = null;
      return;
    }
    List<Digest> batch = List.copyOf(files);
    Map<Digest, Long> taken = new LinkedHashMap<>();
    try {
      treeFailedAt = TreePhase.REF;
      for (Digest f : batch) {
        taken.put(f, store.ref(f).incarnation());
      }
      treeFailedAt = TreePhase.LINK_ALL;
      store.linkAll(batch, from);
      treeFailedAt = null;
    } catch (UnknownException e) {
      if (treeFailedAt != TreePhase.LINK_ALL) {
        giveBack(store, from, taken, e);
      }
      // A linkAll whose outcome is Unknown may still land after a give-back has read from's
      // links, with links holding references given back (an under-count,
      // TreeLinkAfterUnknownTest): every reference is kept, at most the batch over.
      throw e;
    } catch (RuntimeException e) {
      giveBack(store, from, taken, e);
      throw e;
    }
  }

  /** {@code Trees.giveBack}: each reference taken that no link of {@code tree} took. */
  private static void giveBack(ContentStore store, Digest tree, Map<Digest, Long> taken,
      RuntimeException failure) {
    Set<Digest> linked;
    try {
      linked = store.info(tree).links();
    } catch (RuntimeException secondary) {
      failure.addSuppressed(secondary);
      return;
    }
    taken.forEach((f, incarnation) -> {
      if (!linked.contains(f)) {
        try {
          store.deref(f, incarnation);
        } catch (RuntimeException secondary) {
          failure.addSuppressed(secondary);
        }
      }
    });
  }

  /**
   * INV-11: a tree link whose linkAll failed (neither its host dead, nor the outcome Unknown) and
   * that gave back without a further failure leaves exactly what linkAll's contract says: each
   * target {@code from} now links to and did not before has one reference more, held by the link;
   * every other target had the reference taken on it given back ({@code ref} then {@code deref}:
   * the count it had, or removed if that was 0).
   */
  private Model treeLinkFailed(int i, Op.TreeLink op, Model model) {
    Model.Blob source = model.blobs.get(op.from());
    SimHosts.RecordView seen = liveRecords(i).get(op.from());
    Model expected = model.copy();
    if (source != null) {
      List<Integer> batch = Model.treeBatch(op.to(), source);
      Set<Integer> now = seen == null ? Set.of() : toBlob(i, op.from(), seen).links;
      Set<Integer> linked = new TreeSet<>();
      Model.Blob from = expected.blobs.get(op.from());
      for (int t : batch) {
        expected.ref(t);
      }
      for (int t : batch) {
        if (now.contains(t) && from != null) {
          linked.add(t);
          from.links.add(t);
          from.linkedIncarnations.put(t, expected.blobs.get(t).incarnation);
        }
      }
      expected.giveBack(batch, linked);
    }
    if (!matches(i, expected)) {
      throw new Violation(i, "INV-11 linkAll on failure", op + " failed in its linkAll and "
          + "gave back its references: the model expects " + expected.blobs + ", the bucket "
          + "holds " + liveRecords(i));
    }
    return expected;
  }

  private static String ref(int r) {
    return "ref-" + r;
  }

  /**
   * The model after a step on {@code model} that answered {@code thrown}, or a violation if it
   * cannot be explained. An abort of an ingest a dead writer may still lease may be refused as
   * Unavailable.
   */
  private Model settle(int i, Op op, Model model, RuntimeException thrown) {
    Model after = model.copy();
    Class<? extends StoreException> expected = expect(after, op);
    if (op instanceof Op.Abort a && thrown instanceof UnavailableException) {
      Model.Ingest g = model.ingests.get(a.ref());
      if (g != null && g.mayBeLocked && !died) {
        // Refused as locked, or its conditional delete applied with the answer lost: the
        // bucket tells which.
        Model next = model.copy();
        reconcileIngest(next, a.ref(), -1, -1);
        return next;
      }
    }
    if (op instanceof Op.Abort a && thrown == null) {
      model = model.copy();
      model.ingests.remove(a.ref());
      after.ingests.remove(a.ref());
    }
    if (op instanceof Op.TreeLink t && !died && !config.exact() && unclearAnswer(thrown)
        && !(thrown instanceof UnknownException) && treeFailedAt == TreePhase.LINK_ALL
        && thrown.getSuppressed().length == 0) {
      tally.treeFailures++;
      return treeLinkFailed(i, t, model);
    }
    if (!died && !config.exact() && !unclearAnswer(thrown)
        && (unclear(op, thrown) || linkNewLeft) && !answers(expected, thrown)) {
      throw new Violation(i, "INV-7 outcomes", op + ": the model expects "
          + (expected == null ? "success" : expected.getSimpleName()) + ", the store threw "
          + thrown);
    }
    if (died || (!config.exact() && (unclear(op, thrown) || linkNewLeft))) {
      tally.unclear++;
      Model before = model;
      List<Model> outcomes = new ArrayList<>(List.of(after));
      List<Model> stopped = stops(model, op);
      outcomes.addAll(stopped);
      if ((op instanceof Op.Delete || op instanceof Op.Deref) && stopped.size() > 1) {
        tally.cascadeStops++;
      }
      Model window = op instanceof Op.TreeLink t ? takenOnly(model, t)
          : op instanceof Op.LinkNew l ? LinkNewMarks.markedOnly(model, l) : null;
      Model next = fitting(outcomes,
          a -> List.of(reconcile(i, before, a, window, op instanceof Op.Fsck))).get(0);
      if (op instanceof Op.LinkNew l) {
        LinkNewMarks.exact(i, model, next, l);
      }
      if (op instanceof Op.TreeLink t) {
        heldByNewLinks(i, model, next, t);
        tally.treeLeft += overReferenced(model, next, t);
      }
      if (op instanceof Op.Abort a) {
        reconcileIngest(next, a.ref(), -1, -1);
      }
      return next;
    }
    if (!answers(expected, thrown)) {
      throw new Violation(i, "INV-7 outcomes", op + ": the model expects "
          + (expected == null ? "success" : expected.getSimpleName()) + ", the store "
          + (thrown == null ? "succeeded" : "threw " + thrown));
    }
    adoptCreationMarks(after, op, null);
    return after;
  }

  /**
   * After a clear step that is, or has in its middle, a put that marks stopped before its link:
   * {@code model} lists the marks its puts left in the bucket, which its counts include already
   * ({@link Model#markedPut}), so that gc past the bound giving them back is counted (INV-12).
   */
  private void adoptCreationMarks(Model model, Op op, Op other) {
    for (Op o : new Op[] {op, other}) {
      if (o instanceof Op.LinkNew l && l.put() && !l.link()) {
        marks.adopt(model);
        return;
      }
    }
  }

  /**
   * INV-3 after a tree link without a clear answer: each target its {@code from} now links to and
   * did not before has exactly the reference the tree link took for it, one more than before (a
   * link whose reference was given back is an under-count, which the bounds of an unclear step
   * alone would let through).
   */
  private void heldByNewLinks(int i, Model before, Model now, Op.TreeLink op) {
    Model.Blob was = before.blobs.get(op.from());
    Model.Blob is = now.blobs.get(op.from());
    if (was == null || is == null) {
      return;
    }
    for (int t : Model.treeBatch(op.to(), was)) {
      Model.Blob target = before.blobs.get(t);
      Model.Blob seen = now.blobs.get(t);
      if (is.links.contains(t) && target != null
          && (seen == null || seen.refs != target.refs + 1)) {
        throw new Violation(i, "INV-3 counts", op + " linked b" + t + " from b" + op.from()
            + " without the reference it took: b" + t + " has "
            + (seen == null ? "no live record" : seen.refs + " references") + ", "
            + target.refs + " before");
      }
    }
  }

  /**
   * How many targets of an interrupted tree link now have a reference more than before and no
   * link from {@code from} holding it: references taken that nothing gave back (TREE-3's window).
   */
  private long overReferenced(Model before, Model model, Op.TreeLink op) {
    Model.Blob source = before.blobs.get(op.from());
    Model.Blob from = model.blobs.get(op.from());
    if (source == null) {
      return 0;
    }
    long n = 0;
    for (int t : Model.treeBatch(op.to(), source)) {
      Model.Blob was = before.blobs.get(t);
      Model.Blob now = model.blobs.get(t);
      if (was != null && now != null && now.refs > was.refs
          && (from == null || !from.links.contains(t))) {
        n++;
      }
    }
    return n;
  }

  /**
   * Whether {@code op}'s answer leaves its outcome unclear: an unclear answer, or a tree link
   * whose give-back failed (a clear answer with failures suppressed beside it), which may keep a
   * reference it took on each target of its batch (TREE-3's window).
   */
  private static boolean unclear(Op op, Throwable t) {
    return unclearAnswer(t)
        || (op instanceof Op.TreeLink && t != null && t.getSuppressed().length > 0);
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
    int b = blob;
    if (blob < 0 || models.stream().noneMatch(m -> m.live(b)) || died) {
      return;
    }
    ContentStore store = stores[op.host()];
    byte[] read;
    Violation unreadable = null;
    try {
      read = Content.readBlob(store, Descriptor.of(digests[blob], contents[blob].length));
      if (!Arrays.equals(read, contents[blob])) {
        unreadable = new Violation(i, "INV-2 readable", "b" + blob + " read through h"
            + op.host() + " returned " + read.length + " bytes that are not its content");
      }
    } catch (StoreException e) {
      if (!config.exact() && unclearAnswer(e)) {
        return;
      }
      unreadable = new Violation(i, "INV-2 readable", "b" + blob + " is live in the model but "
          + "reading it through h" + op.host() + " threw " + e);
    }
    if (unreadable != null) {
      Violation v = unreadable;
      advance(m -> {
        if (m.live(b)) {
          throw v; // a candidate that holds it live does not fit
        }
        return List.of(m);
      });
    }
  }

  // ---- ingests

  /** What an ingest step does to a model, as far as it got. */
  private static final class IngestStep {
    final int ref;
    final int blob;
    /** The offset the writer opened at, -1 if it did not open. */
    int offset = -1;
    /** Where the ingest stays (paused, or committed too early), -1 if it did not get there. */
    int pausedAt = -1;
    /** Whether it commits, with or without a reference. */
    boolean commits;
    boolean takeRef;

    IngestStep(int ref, int blob) {
      this.ref = ref;
      this.blob = blob;
    }

    /** {@code model} after the step, and (if it commits) the answer the commit must give. */
    Model apply(Model model, Class<?>[] answer) {
      Model after = model.copy();
      if (offset < 0) {
        return after;
      }
      Model.Ingest g = after.ingests.computeIfAbsent(ref, r -> new Model.Ingest(blob));
      g.offset = pausedAt >= 0 ? pausedAt : offset;
      g.otherOffset = -1;
      g.mayBeLocked = false;
      if (commits) {
        answer[0] = after.publish(blob, takeRef, Map.of("k1", "c"));
        after.ingests.remove(ref);
      }
      return after;
    }
  }

  private void ingest(int i, int h, Op.Ingest op) {
    Model primary = models.get(0); // the candidates agree on ingests and on which blobs are live
    Model.Ingest known = primary.ingests.get(op.ref());
    int blob = known != null ? known.blob : op.blob();
    byte[] c = contents[blob];
    Descriptor descriptor = op.describe() ? Descriptor.of(digests[blob], c.length)
        : Descriptor.UNKNOWN;
    IngestStep step = new IngestStep(op.ref(), blob);
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
      if (op.describe() && primary.live(blob)) {
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
      step.offset = offset;
      int n = Math.min(c.length - offset, (c.length * op.percent() + 99) / 100);
      end = offset + n;
      w.write(c, offset, n);
      Class<? extends StoreException> expected = null;
      if (op.end() == End.PAUSE) {
        step.pausedAt = end;
        w.close();
      } else if (end < c.length) {
        expected = FailedPreconditionException.class;
        step.pausedAt = end;
      } else {
        step.commits = true;
        step.takeRef = op.end() == End.COMMIT_AND_REF;
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
        tally.unclear++;
        settleUnclearIngest(i, step, end);
        return;
      }
      RuntimeException answer = thrown;
      Class<? extends StoreException> uncommitted = expected;
      int at = offset;
      advance(m -> {
        Class<?>[] committed = {null};
        Model after = step.apply(m, committed);
        @SuppressWarnings("unchecked")
        Class<? extends StoreException> want = step.commits
            ? (Class<? extends StoreException>) committed[0] : uncommitted;
        if (!answers(want, answer)) {
          throw new Violation(i, "INV-7 outcomes", op + " at offset " + at + ": the model "
              + "expects " + (want == null ? "success" : want.getSimpleName())
              + ", the store " + (answer == null ? "succeeded" : "threw " + answer));
        }
        return List.of(after);
      });
      if (thrown == null && op.end() != End.PAUSE) {
        readBack(i, new Op.Ingest(h, op.ref(), blob, op.percent(), op.end(), op.describe()));
      }
    } catch (AlreadyExistsException e) {
      if (!(op.describe() && primary.live(blob)) && !died) {
        throw new Violation(i, "INV-7 outcomes", op + ": writer() threw " + e);
      }
      if (died) {
        tally.unclear++;
        int reached = end;
        models.forEach(m -> reconcileIngest(m, op.ref(), blob, reached));
      }
    } catch (Violation v) {
      throw v;
    } catch (RuntimeException e) {
      if (died || (!config.exact() && unclearAnswer(e))) {
        tally.unclear++;
        if (w != null && !died) {
          try {
            w.close();
          } catch (RuntimeException ignored) {
            // the pause failed too: the ingest keeps what it had
          }
        }
        settleUnclearIngest(i, step, end);
        return;
      }
      throw new Violation(i, "INV-7 outcomes", op + " at offset " + offset + " threw " + e);
    }
  }

  /** Each candidate after an ingest step without a clear answer: the bucket tells. */
  private void settleUnclearIngest(int i, IngestStep step, int end) {
    advance(m -> {
      Model next = reconcile(i, m, step.apply(m, new Class<?>[1]), null);
      Model.Ingest g = next.ingests.get(step.ref);
      if (g != null && step.offset >= 0) {
        // The step resumed at its offset: that is the one before it, whichever of two the model
        // held (a pause that fails keeps it, not the other).
        g.offset = step.offset;
        g.otherOffset = -1;
      }
      reconcileIngest(next, step.ref, step.blob, end);
      return List.of(next);
    });
  }

  /**
   * After a step on ingest {@code ref} ended without a clear answer: whether it still exists is
   * read from the bucket; its offset is the one before or {@code end}, told when it is reopened.
   */
  private void reconcileIngest(Model model, int ref, int blob, int end) {
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
   * model returned. A count above the model after the step is excess, explained by this step.
   */
  /**
   * The bound an interrupted tree link adds: the model with one reference taken on each target
   * of its batch and nothing linked or given back, TREE-3's window.
   */
  private static Model takenOnly(Model model, Op.TreeLink op) {
    Model taken = model.copy();
    taken.treeTakeOnly(op.to(), op.from());
    return taken;
  }

  /**
   * The states an operation without a clear answer may have stopped in, besides those before and
   * after it, where they differ from both in more than counts (which the bounds of an unclear step
   * already allow): a tree link's full give-back ({@link #givenBack}), a {@code linkAll}'s
   * links made with only some of its drops ({@link Model#linkAllStops}), and an {@code unlink}'s
   * link removed without its release where that release would remove {@code from}
   * ({@link Model#unlinkStops}); and, differing from the end in counts only but not within the
   * bounds once another host's operation on a target ran in its middle, a {@code delete}'s or
   * {@code deref}'s blob removed with only the first of its cascade's releases made, none to all
   * but the last, in the order the removed record lists its links ({@link Model#releaseStops},
   * {@link #linkOrder}).
   */
  private List<Model> stops(Model m, Op op) {
    if (op instanceof Op.TreeLink t) {
      return List.of(givenBack(m, t));
    } else if (op instanceof Op.LinkAll l) {
      return m.linkAllStops(l.to(), l.from());
    } else if (op instanceof Op.Unlink u) {
      // The store removes the link from `from`'s record, then releases the target, each a
      // compare-and-swap of its own: a release that fails (Unavailable, Aborted, Unknown) or a
      // host killed before it leaves the target over-referenced by one, as the cascade's text
      // allows. For a `from` that links to itself at its last reference (heavy seed 26, step 873:
      // `unlink b0 from b0`, b0 at 1 reference) that leaves b0 live without the link, which the
      // state before (the link there) and after (b0 removed, its other links released) both miss.
      return m.unlinkStops(u.to(), u.from());
    } else if (op instanceof Op.Delete d) {
      return m.releaseStops(d.blob(), true, this::linkOrder);
    } else if (op instanceof Op.Deref d) {
      return m.releaseStops(d.blob(), false, this::linkOrder);
    }
    return List.of();
  }

  /**
   * The other outcome an interrupted tree link may have reached: its {@code linkAll} did not
   * land and its give-back returned every reference it took (TREE-3's give-back state). A target
   * at 0 references before is then removed, and its links release their references (the
   * cascade), which neither the state before nor the state after the tree link shows.
   */
  private static Model givenBack(Model model, Op.TreeLink op) {
    Model given = model.copy();
    given.treeGiveBack(op.to(), op.from());
    return given;
  }

  /**
   * The bound interrupted tree links among {@code op} and {@code other} (run in its middle) add:
   * each tree link's {@link #takenOnly} window, from the state before both and from the state
   * after the other operation alone, whichever count is higher; null if neither is a tree link.
   */
  private Model treeWindow(Model m, Op op, Op other) {
    Model window = null;
    for (Op[] pair : new Op[][] {{op, other}, {other, op}}) {
      if (pair[0] instanceof Op.TreeLink t) {
        Model afterOther = m.copy();
        expect(afterOther, pair[1]);
        window = highest(highest(window, takenOnly(m, t)), takenOnly(afterOther, t));
      }
    }
    return window;
  }

  /**
   * The bound {@code linkNew}s among {@code op} and {@code other} add: each one's marks left
   * ({@link LinkNewMarks#markedOnly}), from the state before both and after the other alone.
   */
  private Model linkNewWindow(Model m, Op op, Op other) {
    Model window = null;
    for (Op[] pair : new Op[][] {{op, other}, {other, op}}) {
      if (pair[0] instanceof Op.LinkNew l) {
        window = highest(highest(window, LinkNewMarks.markedOnly(m, l)),
            LinkNewMarks.markedOnly(alone(m, pair[1]), l));
      }
    }
    return window;
  }

  /** {@code m} after {@code op} alone. */
  private Model alone(Model m, Op op) {
    Model after = m.copy();
    expect(after, op);
    return after;
  }

  /** {@code a} with each blob's count raised to {@code b}'s where that is higher. */
  private static Model highest(Model a, Model b) {
    if (a == null || b == null) {
      return a == null ? b : a;
    }
    Model high = a.copy();
    b.blobs.forEach((k, v) -> {
      Model.Blob mine = high.blobs.get(k);
      if (mine == null) {
        high.blobs.put(k, v.copy());
      } else if (v.refs > mine.refs) {
        mine.refs = v.refs;
      }
    });
    return high;
  }

  /**
   * The model after a step without a clear answer, with {@code window} (if not null) a further
   * state the step may have reached on its way: a count may lie up to its count too, and a blob
   * live in it may be live.
   */
  private Model reconcile(int i, Model before, Model after, Model window) {
    return reconcile(i, before, after, window, false);
  }

  /**
   * As {@link #reconcile(int, Model, Model, Model)}; with {@code repairs} (an fsck --repair
   * without a clear answer, which repairs each dangling link with a compare-and-swap of its
   * own), a blob's links may also be those before with only some of the links the step removes
   * removed.
   */
  private Model reconcile(int i, Model before, Model after, Model window, boolean repairs) {
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
      Model.Blob midway = window == null ? null : window.blobs.get(b);
      if (was == null && would == null) {
        throw new Violation(i, "INV-3 counts", "b" + b + " is live (" + seen + "), though "
            + "gone both before and after the unclear step");
      }
      long lo = Math.min(was == null ? 0 : was.refs, would == null ? 0 : would.refs);
      long hi = Math.max(was == null ? 0 : was.refs, would == null ? 0 : would.refs);
      if (midway != null) {
        hi = Math.max(hi, midway.refs);
      }
      if (seen.refCount() < lo || seen.refCount() > hi) {
        throw new Violation(i, "INV-3 counts", "b" + b + " has " + seen.refCount()
            + " references; before the unclear step " + was + ", after " + would);
      }
      Model.Blob now = toBlob(i, b, seen);
      boolean labelsOk = (was != null && was.labels.equals(now.labels))
          || (would != null && would.labels.equals(now.labels));
      boolean linksOk = (was != null && was.links.equals(now.links))
          || (would != null && would.links.equals(now.links))
          || (repairs && was != null && would != null && was.links.containsAll(now.links)
              && now.links.containsAll(would.links));
      if (!labelsOk || !linksOk) {
        throw new Violation(i, "INV-4 labels and links", "b" + b + " is " + now
            + "; before the unclear step " + was + ", after " + would);
      }
      if (would != null && now.refs > would.refs) {
        tally.excess++;
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
    if (next.incarnations) {
      linksHoldAsTheBucketSays(next);
    }
    marks.adopt(next); // its counts are the bucket's: they include the marks left
    return next;
  }

  /**
   * After an unclear step, whether each link of {@code next} holds a reference of its target's
   * live incarnation is what the bucket says, not what the models before or after the step say:
   * a link to an earlier incarnation that an unclear {@code link} or {@code linkAll} would have
   * replaced is the same link in both (same source, same target), so the links alone cannot tell
   * whether the replacement landed. Where the record's link names another incarnation than the
   * target's record, the model's link is made to hold none ({@link #STALE}); where it names the
   * target's, the model's holds the target's live one.
   */
  private void linksHoldAsTheBucketSays(Model next) {
    for (var e : next.blobs.entrySet()) {
      if (e.getValue().links.isEmpty()) {
        continue;
      }
      Map<String, Long> recorded = SimHosts.linkIncarnations(indexRecord(e.getKey()));
      for (int to : e.getValue().links) {
        Model.Blob target = next.blobs.get(to);
        Long life = recorded.get(digests[to].toString());
        if (target == null || life == null) {
          continue;
        }
        boolean holds = life == SimHosts.marks(indexRecord(to)).incarnation();
        e.getValue().linkedIncarnations.put(to, holds ? target.incarnation : STALE);
      }
    }
  }

  /**
   * {@code b}'s links in the order its record in the bucket lists them (live or being deleted:
   * the order its cascade releases them in), none if it has no record.
   */
  private List<Integer> linkOrder(int b) {
    var object = storage.object(SimHosts.bucket(), SimHosts.indexKey(PREFIX, digests[b]));
    if (object == null) {
      return List.of();
    }
    return SimHosts.record(object.content()).links().stream().map(blobOf::get).toList();
  }

  /** The incarnation of a model's link that holds no reference of any life of its target. */
  private static final long STALE = -1;

  private byte[] indexRecord(int b) {
    return storage.object(SimHosts.bucket(), SimHosts.indexKey(PREFIX, digests[b])).content();
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

  /** INV-1 to INV-4 against each candidate after a step: those that differ are dropped. */
  private void check(int i) {
    linkNewLeft = false;
    marks.observe();
    blobObjects(i);
    Map<Integer, SimHosts.RecordView> live = liveRecords(i);
    advance(m -> {
      check(i, live, m);
      return List.of(m);
    });
  }

  private void check(int i, Map<Integer, SimHosts.RecordView> live, Model model) {
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
    givesBackMarks(i);
    ContentStore store = stores[0];
    Model model = models.get(0);
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
   * INV-12: once the clock is past {@code pendingLinkBound()} (and every host's skew), one gc
   * without faults leaves no mark of {@code linkNew} in the bucket, and its counts are the
   * model's with exactly each mark no link held given back: the over-count is gone, and nothing
   * below it was taken.
   */
  private void givesBackMarks(int i) {
    clock.advance(configs[0].pendingLinkBound().plus(Duration.ofMillis(2 * config.skewMillis()
        + 1_000)));
    stores[0].gc(KEEP_INGESTS);
    List<String> left = marks.left();
    if (!left.isEmpty()) {
      throw new Violation(i, "INV-12 marks given back", "a gc past the bound left the marks "
          + left);
    }
    advance(m -> {
      marks.resolve(m);
      return List.of(m);
    });
    check(i);
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
