package dev.coffer.store.s3.check;

import dev.coffer.s3sim.Storage;
import dev.coffer.store.s3.SimHosts;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The marked references of {@code linkNew} in the bucket (PROTO-13), as the checker settles them
 * against its models. A mark is <em>linked</em> when its source's record (that incarnation, in
 * any state) links the marked blob by the mark's operation: its reference is the link's, and the
 * model counts it as such. Any other mark is <em>unlinked</em>: a reference no link holds, left
 * by a call that died or failed after marking, or whose give-back failed. The model counts it in
 * the blob's references and lists it ({@link Model.Blob#marks}) until gc or {@code fsck --repair}
 * past the bound removes it with the count less one (INV-12). Reads the simulation's storage
 * only; deterministic, so a seed replays the same tallies.
 */
final class LinkNewMarks {
  private final Storage storage;
  private final String indexPrefix;
  private final Map<String, Integer> blobOf;
  /** Every unlinked mark seen after a step ({@code b<blob>/<op>}), and those gone since. */
  private final Set<String> seen = new TreeSet<>();
  private final Set<String> gone = new TreeSet<>();

  LinkNewMarks(Storage storage, String prefix, Map<String, Integer> blobOf) {
    this.storage = storage;
    this.indexPrefix = prefix + "index/";
    this.blobOf = blobOf;
  }

  /**
   * The marks in the bucket now: per live blob, every pending operation and the unlinked ones;
   * and the blobs whose records are live.
   */
  record Snapshot(Map<Integer, Set<String>> pending, Map<Integer, Set<String>> unlinked,
      Set<Integer> live) {}

  Snapshot read() {
    Map<Integer, SimHosts.MarksView> all = new TreeMap<>();
    Map<Integer, Boolean> live = new TreeMap<>();
    var it = storage.objectsFrom(SimHosts.bucket(), indexPrefix);
    while (it.hasNext()) {
      var object = it.next();
      if (!object.key().startsWith(indexPrefix)) {
        break;
      }
      String digest = object.key().substring(indexPrefix.length()).replaceFirst("/", ":");
      Integer b = blobOf.get(digest);
      if (b == null) {
        continue; // INV-1 reports it
      }
      all.put(b, SimHosts.marks(object.content()));
      live.put(b, SimHosts.record(object.content()).live());
    }
    Map<Integer, Set<String>> pending = new TreeMap<>();
    Map<Integer, Set<String>> unlinked = new TreeMap<>();
    String[] names = new String[blobOf.size()];
    blobOf.forEach((name, b) -> names[b] = name);
    all.forEach((b, view) -> {
      if (!live.get(b)) {
        return;
      }
      for (SimHosts.MarkView m : view.pending()) {
        pending.computeIfAbsent(b, k -> new TreeSet<>()).add(m.op());
        Integer from = blobOf.get(m.from());
        SimHosts.MarksView source = from == null ? null : all.get(from);
        boolean linked = source != null && source.incarnation() == m.fromIncarnation()
            && m.op().equals(source.linkOps().get(names[b]));
        if (!linked) {
          unlinked.computeIfAbsent(b, k -> new TreeSet<>()).add(m.op());
        }
      }
    });
    Set<Integer> liveNow = new TreeSet<>();
    live.forEach((b, isLive) -> {
      if (isLive) {
        liveNow.add(b);
      }
    });
    return new Snapshot(pending, unlinked, liveNow);
  }

  /** Whether the bucket holds an unlinked mark {@code model} does not list. */
  boolean anyNew(Model model) {
    for (var e : read().unlinked().entrySet()) {
      Model.Blob b = model.blobs.get(e.getKey());
      if (b == null || !b.marks.containsAll(e.getValue())) {
        return true;
      }
    }
    return false;
  }

  /**
   * After a step settled against the bucket (its counts the bucket's): each blob lists the
   * unlinked marks its record holds, which those counts include.
   */
  void adopt(Model model) {
    Map<Integer, Set<String>> unlinked = read().unlinked();
    model.blobs.forEach((b, blob) -> {
      blob.marks.clear();
      blob.marks.addAll(unlinked.getOrDefault(b, Set.of()));
    });
  }

  /**
   * gc in {@code model}: each unlinked mark it lists that the bucket no longer holds was given
   * back, the count less one; but on the blobs of {@code keptOn}, whose records the bucket no
   * longer holds live ({@link #undecided}), each mark was kept. An {@code fsck --repair} gives the
   * same marks back at each record's turn ({@link Model#repairDanglingLinks}).
   */
  void resolve(Model model, Set<Integer> keptOn) {
    model.resolveMarks(stillPending(read(), model, keptOn));
  }

  /**
   * The marks a gc or {@code fsck --repair} in {@code model} left, as the bucket shows them, with
   * every mark on the blobs of {@code keptOn} ({@link #stillPending(Snapshot, Model, Set)}).
   */
  Map<Integer, Set<String>> stillPending(Model model, Set<Integer> keptOn) {
    return stillPending(read(), model, keptOn);
  }

  /** {@link #resolve(Model, Set)}, every mark the bucket no longer holds given back. */
  void resolve(Model model) {
    resolve(model, Set.of());
  }

  /**
   * The blobs {@code model} lists unlinked marks on whose records the bucket no longer holds live:
   * whether a gc or {@code fsck --repair} of the step gave those marks back the bucket does not
   * show, since another host's operation run in the step's middle removed the blob after (a
   * mark kept, the blob's last reference released by a cascade) or before or after a give-back
   * (a {@code delete}, which removes it at any count). A repair gives back only the marks past
   * {@code pendingLinkBound()}, so both may be true: the checker tries each ({@link #keptChoices}).
   */
  Set<Integer> undecided(Model model) {
    return undecided(read(), model);
  }

  static Set<Integer> undecided(Snapshot after, Model model) {
    Set<Integer> undecided = new TreeSet<>();
    model.blobs.forEach((b, blob) -> {
      if (!blob.marks.isEmpty() && !after.live().contains(b)) {
        undecided.add(b);
      }
    });
    return undecided;
  }

  /**
   * Every set of {@code undecided} blobs whose marks a gc or repair may have kept: none first (the
   * marks given back, as the bucket shows for blobs it holds live), then each other subset.
   */
  static List<Set<Integer>> keptChoices(Set<Integer> undecided) {
    List<Integer> blobs = List.copyOf(undecided);
    List<Set<Integer>> choices = new java.util.ArrayList<>();
    for (int bits = 0; bits < 1 << blobs.size(); bits++) {
      Set<Integer> kept = new TreeSet<>();
      for (int j = 0; j < blobs.size(); j++) {
        if ((bits & 1 << j) != 0) {
          kept.add(blobs.get(j));
        }
      }
      choices.add(kept);
    }
    return choices;
  }

  /**
   * The marks a gc or repair left, as {@link Model#resolveMarks} takes them: those {@code after}
   * holds, and every mark {@code model} lists on the blobs of {@code keptOn}.
   */
  static Map<Integer, Set<String>> stillPending(Snapshot after, Model model,
      Set<Integer> keptOn) {
    Map<Integer, Set<String>> pending = new TreeMap<>();
    after.pending().forEach((b, ops) -> pending.put(b, new TreeSet<>(ops)));
    for (int b : keptOn) {
      Model.Blob blob = model.blobs.get(b);
      if (blob != null) {
        pending.computeIfAbsent(b, k -> new TreeSet<>()).addAll(blob.marks);
      }
    }
    return pending;
  }

  /**
   * The bound a {@code linkNew} without a clear outcome adds: one reference more on each live
   * target it lists, nothing linked or given back (its marks left). A host that starts from the
   * versions of the records it wrote last (PROTO-14) decides what to mark from its version of
   * {@code from}'s record, which may be older than a link another host made since: it marks that
   * target too, learns it is linked only when its change of {@code from} is refused, and a call
   * that then ends without a clear answer (killed, or its read of {@code from} failed) leaves that
   * mark to gc past the bound (heavy seed 26, step 4,695: {@code linkNew [b6] from b2}, b2 linking
   * to b6 since another host's {@code linkNew}, left b6 one reference over). Likewise, if
   * {@code from} or a target is not live in {@code model}, the call is NotFound, but such a host
   * may learn it only at its marks or links. So one reference more on each live target,
   * whether {@code from} links to it or not; and one more again on each target of the batch
   * ({@link Model#linkNewBatch}), since a call whose pass from remembered versions is refused
   * gives its marks back and makes a second pass from fresh reads, which marks the batch again:
   * the first pass's mark left by a failed give-back and the second's (linked or left) are two
   * references more, even on a call that answers success (heavy seed 21, step 4,451:
   * {@code linkNew [b0] from b10}, b0 from 6 to 8, one held by the new link).
   */
  static Model markedOnly(Model model, Op.LinkNew op) {
    model = puts(model, op);
    Model marked = model.copy();
    op.to().stream().distinct().filter(model::live).forEach(t -> marked.blobs.get(t).refs++);
    if (model.live(op.from()) && op.to().stream().allMatch(model::live)) {
      for (int t : model.linkNewBatch(op.to(), op.from())) {
        marked.blobs.get(t).refs++;
      }
    }
    return marked;
  }

  /**
   * INV-3 after a {@code linkNew} step without a clear answer and with nothing run in its
   * middle: each target it marked has exactly one reference more than before if {@code from}
   * now links to it anew or its mark is left unlinked, else the count it had; never fewer (an
   * under-count) and never more.
   */
  static void exact(int i, Model before, Model now, Op.LinkNew op) {
    Model created = puts(before, op);
    Model.Blob was = created.blobs.get(op.from());
    Model.Blob is = now.blobs.get(op.from());
    if (was == null || !op.to().stream().allMatch(created::live)) {
      return;
    }
    for (int t : created.linkNewBatch(op.to(), op.from())) {
      if (was.links.contains(t)) {
        continue; // a stale link replaced: the set of links alone does not tell
      }
      Model.Blob target = created.blobs.get(t);
      Model.Blob seen = now.blobs.get(t);
      if (seen == null && !before.live(t)) {
        continue; // a put that marks stopped before it created this target
      }
      if (seen == null) {
        throw new Simulation.Violation(i, "INV-3 counts", op + " left b" + t
            + " without a live record (" + target.refs + " references before)");
      }
      Set<String> left = new TreeSet<>(seen.marks);
      left.removeAll(target.marks);
      boolean linked = is != null && is.links.contains(t);
      long expected = target.refs + (linked ? 1 : 0) + left.size();
      if (seen.refs != expected) {
        throw new Simulation.Violation(i, "INV-3 counts", op + ": b" + t + " has " + seen.refs
            + " references, " + target.refs + " before" + (linked ? ", linked anew" : "")
            + (left.isEmpty() ? "" : ", marks left " + left));
      }
    }
  }

  /**
   * The state a put that marks starts its link from: {@code model} with each target its puts
   * create at count 0 ({@link Model#putsOfMarkedPut}), the mark each was created with counted,
   * as step 2's, by the bounds above; {@code model} itself for a plain {@code linkNew}.
   */
  private static Model puts(Model model, Op.LinkNew op) {
    if (!op.put() || !model.live(op.from()) && !model.drawsFrom.containsKey(op.host())) {
      return model; // no put made: the draw found from not live
    }
    Model created = model.copy();
    created.putsOfMarkedPut(op.to(), false);
    return created;
  }

  /** Tallies the unlinked marks after a step: those first seen, and those gone since. */
  void observe() {
    Set<String> now = new TreeSet<>();
    read().unlinked().forEach((b, ops) -> ops.forEach(op -> now.add("b" + b + "/" + op)));
    seen.addAll(now);
    for (String m : seen) {
      if (!now.contains(m)) {
        gone.add(m);
      }
    }
  }

  /** INV-12: the marks left in the bucket, each named by its blob and operation. */
  List<String> left() {
    List<String> left = new java.util.ArrayList<>();
    read().pending().forEach((b, ops) -> ops.forEach(op -> left.add("b" + b + "/" + op)));
    return left;
  }

  long marksLeft() {
    return seen.size();
  }

  long marksGone() {
    return gone.size();
  }
}
