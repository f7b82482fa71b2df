package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;

/**
 * {@code linkNew(to, from)} on S3 (TREE-3): each target {@code from} does not link to yet gains a
 * reference held by a new link, as two kinds of record change that name each other. (1) The
 * records of {@code from} and the targets are read at once, but for those this store wrote last,
 * whose versions it remembers (PROTO-14); the operation draws an id O. (2) Each
 * missing target gets, by one compare-and-swap each, in parallel, one reference more marked
 * {@code {O, from, from's incarnation, now}} ({@link LinkMark}). (3) One compare-and-swap of
 * {@code from}'s record, still that incarnation, live and not fenced for O, adds the links, each
 * naming O. (4) Each mark is removed (the reference is now the link's); a mark left by a failure
 * here is removed by gc or a repair ({@link LinkMarks}). A call whose links are refused, or not
 * sent, gives its marked references back itself. Step 4 and the give-backs are made by {@link
 * MarkRemovals}; this class makes the steps in order and decides the call's outcome. Thread-safe.
 */
final class LinkNew {
  private final IndexRecords records;
  private final S3StoreConfig config;
  private final ParallelReads reads;
  private final ExecutorService workers;
  private final MarkRemovals removals;

  LinkNew(IndexRecords records, S3StoreConfig config, ParallelReads reads,
      ExecutorService workers, LinkMarks marks) {
    this.records = records;
    this.config = config;
    this.reads = reads;
    this.workers = workers;
    this.removals = new MarkRemovals(records, config, workers, marks);
  }

  /** Why a call's links cannot be made: {@code from} fenced, gone or another incarnation. */
  private static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** Whether {@code from} is gone or another incarnation, rather than fenced. */
    final boolean gone;

    Refused(boolean gone, String message) {
      super(message, null, false, false);
      this.gone = gone;
    }
  }

  /**
   * An operation of {@code linkNew} from {@code from}, drawn before its targets are stored (the
   * mark at creation, PROTO-13): a record created for it holds its marked reference from the
   * start ({@link #markAt}), and {@link #linkNew(Collection, Drawn)} links it without step 2.
   *
   * @param fromIncarnation {@code from}'s incarnation when drawn: the links are made only to
   *     that incarnation, as step 3 makes them
   */
  record Drawn(Digest from, String op, long fromIncarnation) {
    /** This operation's marked reference, taken at {@code at} (ns since the epoch). */
    LinkMark markAt(long at) {
      return new LinkMark(op, from.toString(), fromIncarnation, at);
    }
  }

  /**
   * Draws an operation from live {@code from}: from the version of {@code from}'s record this
   * store remembers ({@link IndexRecords#known}: a tree's put draws right after committing the
   * tree, whose record it has just written), with no request, or else on a read of it. A
   * remembered version that shows {@code from} not live decides nothing: the record is read
   * (PROTO-14: an outcome that writes nothing is not taken from a remembered version).
   *
   * <p>The incarnation drawn decides nothing by itself: the links are made only by step 3's
   * compare-and-swap of {@code from}'s record, which refuses a record not live or not that
   * incarnation. If another host deleted {@code from} (and perhaps committed it anew) since the
   * version remembered here, the operation is drawn for an incarnation that has ended: its link
   * is refused, decided again on fresh reads, and NotFound, every mark of the operation given
   * back ({@link #linkNew(Collection, Drawn)}); its caller stores the files again and links them
   * with a plain {@code linkNew}, as {@link dev.coffer.store.NewLinks} asks. A stale version
   * costs that, a current one saves a read.
   *
   * @throws NotFoundException if {@code from} is not live (on a read)
   */
  Drawn draw(Digest from) {
    S3Objects.Fetched remembered = records.known(from);
    IndexRecord source = remembered == null ? null : records.parse(from, remembered);
    if (source == null || !source.isLive()) {
      source = records.parse(from, records.fetch(from));
      IndexRecords.requireLive(from, source);
    }
    return new Drawn(from, records.newOp(), source.incarnation());
  }

  void linkNew(Collection<Digest> to, Digest from) {
    linkNew(to, from, null);
  }

  /**
   * {@code linkNew(to, drawn.from())} as operation {@code drawn}: a target whose record holds
   * that operation's mark (created so) is not marked again; one found linked already has it
   * given back; if {@code from} is no longer live at {@code drawn}'s incarnation, every such mark
   * is given back and the call is NotFound.
   */
  void linkNew(Collection<Digest> to, Drawn drawn) {
    linkNew(to, drawn.from(), drawn);
  }

  private void linkNew(Collection<Digest> to, Digest from, Drawn drawn) {
    Set<Digest> targets = new LinkedHashSet<>(to);
    if (targets.isEmpty()) {
      records.liveRecord(from);
      return;
    }
    if (!linkNew(targets, from, true, drawn)) {
      linkNew(targets, from, false, drawn);
    }
  }

  /**
   * One call of the four steps. With {@code known}, step 1 takes the records this store last
   * wrote or saw ({@link IndexRecords#known}: the files a tree's put has just stored, the tree's
   * record as its last batch left it) instead of reading them, and reads only the others. Each
   * decision taken from such a version is confirmed by a conditional write made from it, or made
   * again on a fresh read: a target to mark, {@code from} live at F, each marked record's state are
   * the conditions of steps 2 and 3, whose compare-and-swaps are refused if another host changed
   * the record since, and decide again on what they read then; a decision that writes nothing (a
   * record not live, a target linked already) and a refusal of step 3 because {@code from} is gone
   * or another incarnation than the remembered one are not taken from a remembered version: the
   * call's marks are given back and the call is made again from fresh reads.
   *
   * @return false if the call must be made again from fresh reads (nothing it did is left, but
   *     marks a failed give-back leaves to gc); true once done
   */
  private boolean linkNew(Set<Digest> targets, Digest from, boolean known, Drawn drawn) {
    Set<Digest> all = new HashSet<>(targets);
    all.add(from);
    Map<Digest, S3Objects.Fetched> read = new HashMap<>();
    Set<Digest> unknown = new HashSet<>();
    for (Digest d : all) {
      S3Objects.Fetched version = known ? records.known(d) : null;
      if (version != null) {
        read.put(d, version);
      } else {
        unknown.add(d);
      }
    }
    boolean remembered = !read.isEmpty();
    boolean sourceRemembered = read.containsKey(from);
    if (!unknown.isEmpty()) {
      read.putAll(records.fetchAll(unknown, reads));
    }
    Map<Digest, IndexRecord> parsed = parse(from, targets, read);
    IndexRecord source = parsed.get(from);
    // The targets whose records hold the drawn operation's mark (made at their creation).
    Set<Digest> created = new LinkedHashSet<>();
    if (drawn != null) {
      for (Digest t : targets) {
        IndexRecord target = parsed.get(t);
        if (target != null && target.isLive() && target.mark(drawn.op()) != null) {
          created.add(t);
        }
      }
    }
    try {
      IndexRecords.requireLive(from, source);
      if (drawn != null && !source.isIncarnation(drawn.fromIncarnation())) {
        throw new NotFoundException("content " + from + " not found (deleted and committed anew"
            + " since its links were drawn)");
      }
      for (Digest t : targets) {
        IndexRecords.requireLive(t, parsed.get(t));
      }
    } catch (NotFoundException e) {
      if (remembered) {
        return false;
      }
      removals.giveBackCreated(created, source, drawn); // nothing will link them
      throw e;
    }
    List<Digest> missing = new ArrayList<>();
    Set<String> sourceLinks = new HashSet<>(source.links()); // a tree's: one a file
    for (Digest t : targets) {
      boolean linked = sourceLinks.contains(t.toString())
          && parsed.get(t).isIncarnation(source.linkIncarnation(t));
      if (!linked) {
        missing.add(t);
      }
    }
    if (missing.size() < targets.size() && remembered) {
      return false; // a target found linked is not taken from a remembered version
    }
    List<Digest> linkedAlready = created.stream().filter(t -> !missing.contains(t)).toList();
    if (!linkedAlready.isEmpty()) {
      // Linked by another call, or by an earlier one of this operation.
      removals.giveBackCreated(linkedAlready, source, drawn);
    }
    if (missing.isEmpty()) {
      return true;
    }
    String op = drawn != null ? drawn.op() : records.newOp();
    long at = Times.now(config.clock());
    LinkMark mark = new LinkMark(op, from.toString(), source.incarnation(), at);
    Map<Digest, IndexRecords.Versioned> marked = new LinkedHashMap<>();
    List<Digest> toMark = new ArrayList<>();
    for (Digest t : missing) {
      if (created.contains(t)) {
        // Marked at its creation: step 2 is made already. The link is sent within the deadline
        // of the oldest such mark, as of step 2's.
        marked.put(t, new IndexRecords.Versioned(parsed.get(t), read.get(t).etag()));
        at = Math.min(at, parsed.get(t).mark(op).at());
      } else {
        toMark.add(t);
      }
    }
    try {
      marked.putAll(mark(toMark, read, mark));
    } catch (StoreException e) {
      removals.giveBack(marked.keySet(), op);
      throw e;
    }
    IndexRecord linked;
    try {
      if (Times.now(config.clock()) - at > IndexRecords.CAS_DEADLINE.toNanos()) {
        throw new AbortedException("linking " + marked.size() + " blobs from " + from
            + " took longer than " + IndexRecords.CAS_DEADLINE + " to mark; nothing was linked");
      }
      linked = link(from, source.incarnation(), marked, op, read.get(from), sourceRemembered);
    } catch (Refused e) {
      removals.giveBack(marked.keySet(), op);
      if (e.gone && sourceRemembered) {
        records.forget(from);
        return false; // F came from a remembered version: decided again on a fresh read
      }
      if (e.gone) {
        throw new NotFoundException(e.getMessage());
      }
      throw new AbortedException(e.getMessage());
    } catch (AbortedException e) {
      removals.giveBack(marked.keySet(), op); // nothing was changed, and nothing can land
      throw e;
    }
    // Step 3's outcome is known: step 4, and the give-back of a mark its record does not link.
    List<Digest> lost = removals.afterLinks(from, marked, created, linked, op);
    if (!lost.isEmpty()) {
      throw new NotFoundException("content " + lost.get(0) + " not found (deleted before its"
          + " link from " + from + " was made)");
    }
    return true;
  }

  /**
   * Step 1's records, each parsed once: {@code from}'s, then each target's (the same record when
   * {@code from} is a target too); null for a digest without a record.
   */
  private Map<Digest, IndexRecord> parse(Digest from, Set<Digest> targets,
      Map<Digest, S3Objects.Fetched> read) {
    Map<Digest, IndexRecord> parsed = new HashMap<>();
    parsed.put(from, records.parse(from, read.get(from)));
    for (Digest t : targets) {
      if (!parsed.containsKey(t)) {
        parsed.put(t, records.parse(t, read.get(t)));
      }
    }
    return parsed;
  }

  /**
   * Step 3: one compare-and-swap of {@code from}'s record, starting from {@code first}, adding a
   * link naming {@code op} to each target of {@code marked} it does not link at the incarnation
   * marked. When {@code first} is the version remembered here ({@code remembered}), "linked
   * already" and a refusal are decided again on a read, never on it (PROTO-14): a remembered
   * version could show a link that another host's deletion of {@code from} has since released.
   *
   * @return {@code from}'s record as written, or as read if it linked every target already
   * @throws Refused if {@code from} is gone, not live or not {@code incarnation}, or is fenced
   *     for {@code op}
   */
  private IndexRecord link(Digest from, long incarnation,
      Map<Digest, IndexRecords.Versioned> marked, String op, S3Objects.Fetched first,
      boolean remembered) {
    return records.casIndex(from, r -> {
      if (r == null || !r.isLive() || !r.isIncarnation(incarnation)) {
        throw new Refused(true, "content " + from + " not found");
      }
      if (r.isFenced(op)) {
        throw new Refused(false, "the links from " + from + " of this call were given up by"
            + " another host (it was slower than " + LinkMarks.bound(config) + ")");
      }
      Map<Digest, Long> added = new LinkedHashMap<>();
      Set<String> links = new HashSet<>(r.links());
      marked.forEach((t, v) -> {
        boolean already = links.contains(t.toString())
            && v.record().isIncarnation(r.linkIncarnation(t));
        if (!already) {
          added.put(t, v.record().incarnation());
        }
      });
      return added.isEmpty() ? null : r.withLinks(added, op);
    }, first, remembered);
  }

  /**
   * Step 2: marks a reference on each target, in parallel. If any fails, the marks made are
   * given back and the failure thrown; a mark whose outcome is unknown is left to gc.
   */
  private Map<Digest, IndexRecords.Versioned> mark(List<Digest> missing,
      Map<Digest, S3Objects.Fetched> read, LinkMark mark) {
    Map<Digest, CompletableFuture<IndexRecords.Versioned>> futures = new LinkedHashMap<>();
    for (Digest t : missing) {
      futures.put(t, CompletableFuture.supplyAsync(() -> {
        IndexRecords.Versioned v = records.casVersioned(t, r -> {
          IndexRecords.requireLive(t, r);
          return r.mark(mark.op()) != null ? null : r.withMark(mark);
        }, read.get(t));
        records.mirrorTags(t, v.record());
        return v;
      }, workers));
    }
    Map<Digest, IndexRecords.Versioned> marked = new LinkedHashMap<>();
    StoreException failure = null;
    for (Map.Entry<Digest, CompletableFuture<IndexRecords.Versioned>> e : futures.entrySet()) {
      try {
        marked.put(e.getKey(), S3Errors.join(e.getValue(), "marking " + e.getKey()));
      } catch (StoreException f) {
        if (failure == null) {
          failure = f;
        } else {
          failure.addSuppressed(f);
        }
      }
    }
    if (failure != null) {
      removals.giveBack(marked.keySet(), mark.op());
      throw failure;
    }
    return marked;
  }
}
