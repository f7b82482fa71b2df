package dev.coffer.store.s3.check;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * What the store should hold after a history, computed from the API's contract alone (see
 * docs/architecture.md, "Reference counts and links"): the live blobs with their reference counts,
 * links and labels, and the ingests with the bytes they hold. Each operation returns the class of
 * the error the store must answer, or null for success, and changes the model as a success would.
 * Blobs and refs are indices into the run's pools. Not thread-safe; {@link #copy} is deep.
 */
final class Model {

  /** A live blob. */
  static final class Blob {
    long refs;
    /** Which life of its digest this is: a blob deleted and committed again is a new one. */
    long incarnation;
    final TreeSet<Integer> links = new TreeSet<>();
    /** The incarnation of each link's target when the link was made. */
    final TreeMap<Integer, Long> linkedIncarnations = new TreeMap<>();
    final TreeMap<String, String> labels = new TreeMap<>();
    /**
     * The operations of {@code linkNew} whose marked references on this blob no link holds (a
     * call killed or failed after marking, PROTO-13): counted in {@link #refs}, an over-count
     * that gc or {@code fsck --repair} past the bound removes.
     */
    final TreeSet<String> marks = new TreeSet<>();

    Blob copy() {
      Blob b = new Blob();
      b.refs = refs;
      b.incarnation = incarnation;
      b.links.addAll(links);
      b.linkedIncarnations.putAll(linkedIncarnations);
      b.labels.putAll(labels);
      b.marks.addAll(marks);
      return b;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Blob b && refs == b.refs && links.equals(b.links)
          && labels.equals(b.labels);
    }

    @Override
    public int hashCode() {
      return Objects.hash(refs, links, labels);
    }

    @Override
    public String toString() {
      return "refs=" + refs + " links=" + links + " labels=" + labels;
    }
  }

  /** An ingest: the content its ref is writing and how many of its bytes are stored. */
  static final class Ingest {
    final int blob;
    int offset;
    /** A step on it ended without a clear answer: its offset is known once it is reopened. */
    int otherOffset = -1;
    /** A writer of a dead host, or one whose step ended unclearly, may still hold its lease. */
    boolean mayBeLocked;

    Ingest(int blob) {
      this.blob = blob;
    }

    Ingest copy() {
      Ingest i = new Ingest(blob);
      i.offset = offset;
      i.otherOffset = otherOffset;
      i.mayBeLocked = mayBeLocked;
      return i;
    }

    @Override
    public String toString() {
      return "b" + blob + "@" + offset + (otherOffset >= 0 ? "|" + otherOffset : "")
          + (mayBeLocked ? " (maybe locked)" : "");
    }
  }

  final TreeMap<Integer, Blob> blobs = new TreeMap<>();
  final TreeMap<Integer, Ingest> ingests = new TreeMap<>();
  /**
   * Whether a link holds a reference of the target's incarnation it was made to only (the
   * contract issue 17 gives the store), rather than of whatever blob has that digest now (what
   * the store does today: a link, once its target was deleted and committed again, spends a
   * reference of the new blob).
   */
  final boolean incarnations;
  long lives;
  /**
   * References tree links kept because their give-back found {@code from} gone (over-counts, see
   * "Trees"); a tally of the history, not part of the state ({@link #signature}).
   */
  long keptByTrees;
  /** Where another host's operation may run between this model's record changes (INV-8). */
  Orders.Pause pause;
  /**
   * What each host whose put that marks is in the step in progress draws its operation from
   * without a read (PROTO-14): the incarnation of {@code from} the version it remembers shows
   * live, {@link #ENDED_LIFE} if that life has ended by the step's start; a host not listed
   * reads {@code from}'s record. The host's memory, which the model does not hold otherwise:
   * set by the checker before each step, from the store. Not part of the state ({@link
   * #signature}).
   */
  final TreeMap<Integer, Long> drawsFrom = new TreeMap<>();

  /** An incarnation no blob has: one that has ended. */
  static final long ENDED_LIFE = 0;

  Model(boolean incarnations) {
    this.incarnations = incarnations;
  }

  Model copy() {
    Model m = new Model(incarnations);
    m.lives = lives;
    m.keptByTrees = keptByTrees;
    m.drawsFrom.putAll(drawsFrom);
    blobs.forEach((k, v) -> m.blobs.put(k, v.copy()));
    ingests.forEach((k, v) -> m.ingests.put(k, v.copy()));
    return m;
  }

  /**
   * The state that decides every later answer and count: each blob's count, labels and links
   * with, per link, whether it holds a reference of its target's live incarnation (the
   * incarnations' numbers themselves only name lives: any fresh one behaves alike), and the
   * ingests. Two models with one signature answer every history alike.
   */
  String signature() {
    StringBuilder s = new StringBuilder();
    blobs.forEach((b, blob) -> {
      s.append('b').append(b).append(':').append(blob.refs).append(blob.labels).append('[');
      blob.links.forEach(to -> s.append(to).append(holds(blob, to) ? "+" : "-").append(','));
      s.append("] ");
      if (!blob.marks.isEmpty()) {
        s.append("marks").append(blob.marks).append(' ');
      }
    });
    ingests.forEach((r, g) -> s.append('r').append(r).append(':').append(g).append(' '));
    return s.toString();
  }

  /** A point between two record changes of a composite operation (see {@link Orders}). */
  private void boundary() {
    if (pause != null) {
      pause.reached(this);
    }
  }

  boolean live(int blob) {
    return blobs.containsKey(blob);
  }

  /** A commit or put of {@code blob}'s content, with {@code labels} for a new blob. */
  Class<? extends StoreException> publish(int blob, boolean takeRef, Map<String, String> labels) {
    Blob b = blobs.get(blob);
    if (b != null) {
      if (!takeRef) {
        return AlreadyExistsException.class;
      }
      b.refs++;
      return null;
    }
    Blob created = new Blob();
    created.refs = takeRef ? 1 : 0;
    created.incarnation = ++lives;
    labels.forEach((k, v) -> {
      if (!v.isEmpty()) {
        created.labels.put(k, v);
      }
    });
    blobs.put(blob, created);
    return null;
  }

  Class<? extends StoreException> ref(int blob) {
    Blob b = blobs.get(blob);
    if (b == null) {
      return NotFoundException.class;
    }
    b.refs++;
    return null;
  }

  Class<? extends StoreException> deref(int blob) {
    return release(blob, false);
  }

  /** {@code deref(digest, incarnation)}: NotFound, nothing changed, if the blob is another life. */
  Class<? extends StoreException> deref(int blob, long incarnation) {
    Blob b = blobs.get(blob);
    if (b == null || b.incarnation != incarnation) {
      return NotFoundException.class;
    }
    return deref(blob);
  }

  Class<? extends StoreException> delete(int blob) {
    return release(blob, true);
  }

  private Class<? extends StoreException> release(int blob, boolean whole) {
    Blob b = blobs.get(blob);
    if (b == null) {
      return NotFoundException.class;
    }
    if (whole || b.refs == 1) {
      blobs.remove(blob);
      cascade(held(b), blob);
      return null;
    }
    if (b.refs == 0) {
      return FailedPreconditionException.class;
    }
    b.refs--;
    return null;
  }

  /**
   * The states a {@code delete} ({@code whole}) or a {@code deref} that ended without a clear
   * answer may have stopped in besides those before and after it: {@code blob} removed (its
   * record written {@code deleting}) and only the first {@code k} of its cascade's releases
   * made, for each {@code k} from none to all but the last. The store releases each target its
   * links hold with a compare-and-swap of its own after the removal, in the order of the links in
   * the removed record, a blob the cascade removes adding its own links' targets at the end
   * (References' cascade): a release that fails (Unavailable, Aborted, Unknown) or a host killed
   * before it leaves that target and every later one over-referenced by one, as the cascade's
   * text allows, and a target whose release would have removed it live at its last reference
   * with its own links' references held. Alone, such a stop differs from the state after the
   * call within an unclear step's bounds; with another host's operation on a target run in its
   * middle, it is an outcome of its own (heavy seed 4, step 4,150: {@code h2 ref b11} landed and
   * h0's {@code delete b9}, b9 linking to b11, removed b9 and failed reading b11 for its release,
   * leaving b11 at 5 where both orders of the two calls have 4). Empty if the call does not
   * remove {@code blob} or its links hold no reference.
   *
   * @param order each blob's links in the order its record lists them (the cascade's order); a
   *     target it does not list comes after those it does, in the model's order
   */
  List<Model> releaseStops(int blob, boolean whole, Function<Integer, List<Integer>> order) {
    Blob b = blobs.get(blob);
    if (b == null || !(whole || b.refs == 1) || held(b).isEmpty()) {
      return List.of();
    }
    List<Model> stops = new java.util.ArrayList<>();
    for (int k = 0; ; k++) {
      Model stop = copy();
      Blob gone = stop.blobs.remove(blob);
      if (!stop.cascade(ordered(order, blob, stop.held(gone)), blob, order, k)) {
        return stops; // the whole cascade in k releases or fewer: the state after the call
      }
      stops.add(stop);
    }
  }

  /** {@link #releaseStops(int, boolean, Function)} in the model's order of links. */
  List<Model> releaseStops(int blob, boolean whole) {
    return releaseStops(blob, whole, b -> List.of());
  }

  /** {@code targets} (links of {@code blob}) in {@code order}'s order of {@code blob}'s links. */
  private static List<Integer> ordered(Function<Integer, List<Integer>> order, int blob,
      List<Integer> targets) {
    List<Integer> listed = order.apply(blob);
    return targets.stream().sorted(java.util.Comparator.comparingInt(t -> {
      int at = listed.indexOf(t);
      return at < 0 ? Integer.MAX_VALUE : at;
    })).toList();
  }

  /**
   * A blob that left the live state releases one reference of each blob it links to. Each
   * release is a record change of its own, after the removal (References' cascade: one
   * compare-and-swap per step), so another host's operation may take effect before any of them
   * ({@link #boundary}): a release then finds its target as that operation left it, and skips one
   * that is gone or another incarnation, as the store does (PROTO-1).
   */
  private void cascade(List<Integer> first, int origin) {
    cascade(first, origin, b -> List.of(), Integer.MAX_VALUE);
  }

  /**
   * {@link #cascade(List, int)} with each removed blob's links taken in {@code order}, stopped
   * after {@code max} releases (each target popped is one, made or skipped).
   *
   * @return whether it stopped with releases left
   */
  private boolean cascade(List<Integer> first, int origin, Function<Integer, List<Integer>> order,
      int max) {
    Deque<Held> pending = new ArrayDeque<>();
    first.forEach(to -> pending.add(held(to)));
    Set<Integer> removed = new HashSet<>();
    removed.add(origin);
    int made = 0;
    while (!pending.isEmpty()) {
      if (made == max) {
        return true;
      }
      made++;
      Held next = pending.pop();
      boundary();
      int d = next.to();
      Blob b = blobs.get(d);
      if (b == null || b.refs == 0 || incarnations && b.incarnation != next.incarnation()) {
        continue;
      }
      if (b.refs == 1) {
        blobs.remove(d);
        if (removed.add(d)) {
          ordered(order, d, held(b)).forEach(to -> pending.add(held(to)));
        }
      } else {
        b.refs--;
      }
    }
    return false;
  }

  /** A reference a cascade is to release: its target and the incarnation the link holds. */
  private record Held(int to, long incarnation) {}

  /** The reference a link to {@code to} holds now (of no incarnation if {@code to} is gone). */
  private Held held(int to) {
    Blob target = blobs.get(to);
    return new Held(to, target == null ? -1 : target.incarnation);
  }

  /** The targets whose references {@code b}'s links hold. */
  private List<Integer> held(Blob b) {
    return b.links.stream().filter(to -> holds(b, to)).toList();
  }

  /** Whether {@code b}'s link to {@code to} holds a reference of the blob live at {@code to}. */
  private boolean holds(Blob b, int to) {
    if (!incarnations) {
      return true;
    }
    Blob target = blobs.get(to);
    Long life = b.linkedIncarnations.get(to);
    return target != null && life != null && life == target.incarnation;
  }

  Class<? extends StoreException> link(int to, int from) {
    Blob target = blobs.get(to);
    Blob source = blobs.get(from);
    if (target == null || source == null) {
      return NotFoundException.class;
    }
    if (source.links.contains(to) && holds(source, to)) {
      return deref(to);
    }
    if (target.refs == 0) {
      return FailedPreconditionException.class;
    }
    source.links.add(to);
    source.linkedIncarnations.put(to, target.incarnation);
    return null;
  }

  /**
   * {@code linkAll(to, from)} as PROTO-11 makes it: the targets read first, NotFound if one is
   * not live; then, in one change of {@code from}'s record, NotFound if {@code from} is not live
   * and FailedPrecondition if a target to link anew had no reference to transfer when read, both
   * before any change; otherwise every new link at once, to the incarnation read (a link to an
   * earlier incarnation replaced); then the caller's reference dropped, in order, for each target
   * linked already or listed again, each drop a change of its own. A drop that fails ends the call
   * with its error, the links and earlier drops made. Target by target this is {@link #link}'s
   * outcome. Another host's operation may run between the reads, the links and each drop.
   */
  Class<? extends StoreException> linkAll(List<Integer> to, int from) {
    return linkAll(to, from, Integer.MAX_VALUE);
  }

  /**
   * The states a {@code linkAll} that ended without a clear answer may have stopped in besides
   * those before and after it: its links made and only the first {@code j} of its drops, for
   * each {@code j} below their number (each drop is a change of its own, and the call fails at
   * the first that does). A drop that removes a blob (the caller's last reference of a target
   * listed again, or of {@code from} linking to itself) removes it with its links' cascade, so a
   * state short of it differs from the one after the call in more than counts: links made on a
   * blob that is gone after the call. Empty if the call changes nothing before its drops.
   */
  List<Model> linkAllStops(List<Integer> to, int from) {
    List<Model> stops = new java.util.ArrayList<>();
    for (int j = 0; ; j++) {
      Model m = copy();
      if (m.linkAll(to, from, j) != null || m.dropsMade < j) {
        return stops;
      }
      if (m.dropsLeft == 0) {
        return stops; // the whole call: the state after it
      }
      stops.add(m);
    }
  }

  /** How many drops the last {@link #linkAll(List, int, int)} made, and how many it left. */
  private int dropsMade;
  private int dropsLeft;

  /** {@link #linkAll(List, int)} that stops after {@code maxDrops} of its drops. */
  private Class<? extends StoreException> linkAll(List<Integer> to, int from, int maxDrops) {
    dropsMade = 0;
    dropsLeft = 0;
    Map<Integer, Blob> read = new TreeMap<>();
    for (int t : to) {
      Blob target = blobs.get(t);
      if (target == null) {
        return NotFoundException.class;
      }
      read.put(t, target.copy());
    }
    boundary();
    Blob source = blobs.get(from);
    if (source == null) {
      return NotFoundException.class;
    }
    Set<Integer> added = new java.util.LinkedHashSet<>();
    List<Integer> drops = new java.util.ArrayList<>();
    for (int t : to) {
      Blob target = read.get(t);
      Long life = source.linkedIncarnations.get(t);
      boolean holds = !incarnations || life != null && life == target.incarnation;
      if (added.contains(t) || source.links.contains(t) && holds) {
        drops.add(t);
      } else if (target.refs == 0) {
        return FailedPreconditionException.class;
      } else {
        added.add(t);
      }
    }
    for (int t : added) {
      source.links.add(t);
      source.linkedIncarnations.put(t, read.get(t).incarnation);
    }
    for (int k = 0; k < drops.size(); k++) {
      if (k == maxDrops) {
        dropsLeft = drops.size() - k;
        return null;
      }
      boundary();
      Class<? extends StoreException> failed = deref(drops.get(k));
      if (failed != null) {
        return failed;
      }
      dropsMade++;
    }
    return null;
  }

  /**
   * The trees' pattern (TREE-3), step by step as {@code Trees.put} makes it: {@code from}'s links
   * read (NotFound if it is not live); one reference taken on each distinct target it has no link
   * to (of any incarnation: {@code Info.links} lists them all), in order, each remembering the
   * incarnation it was taken on; all of them handed to links by one {@link #linkAll}. If a
   * reference or the linkAll fails, its error is the answer, after the give-back ({@link
   * #giveBack(int, Map)}). Another host's operation may run between any two of these changes.
   */
  Class<? extends StoreException> treeLink(List<Integer> to, int from) {
    Blob source = blobs.get(from);
    if (source == null) {
      return NotFoundException.class;
    }
    List<Integer> batch = treeBatch(to, source);
    if (batch.isEmpty()) {
      return null;
    }
    Map<Integer, Long> taken = new java.util.LinkedHashMap<>();
    for (int t : batch) {
      boundary();
      Blob target = blobs.get(t);
      if (target == null) {
        giveBack(from, taken);
        return NotFoundException.class;
      }
      target.refs++;
      taken.put(t, target.incarnation);
    }
    boundary();
    Class<? extends StoreException> failed = linkAll(batch, from);
    if (failed != null) {
      giveBack(from, taken);
    }
    return failed;
  }

  /**
   * {@code Trees.giveBack}: {@code from}'s links read again, and each reference taken whose
   * target {@code from} does not link to given back, on the incarnation it was taken on (a target
   * removed or committed anew since is left alone). If {@code from} is gone its links cannot be
   * read, and every reference is kept: an over-count, tallied in {@link #keptByTrees}.
   */
  void giveBack(int from, Map<Integer, Long> taken) {
    boundary();
    Blob source = blobs.get(from);
    if (source == null) {
      keptByTrees += taken.size();
      return;
    }
    Set<Integer> linked = new TreeSet<>(source.links);
    for (var e : taken.entrySet()) {
      if (!linked.contains(e.getKey())) {
        boundary();
        deref(e.getKey(), e.getValue());
      }
    }
  }

  /**
   * The first half of a tree link whose {@code from} is then removed by another host before its
   * {@code linkAll}: one reference taken on each target of the batch (as read from the live
   * {@code from}), in order, up to the first that is not live. The give-back that follows cannot
   * read the links of a {@code from} that is gone, so it keeps them all: an over-count.
   *
   * @return how many references were taken, or -1 if {@code from} is not live
   */
  int treeTakeOnly(List<Integer> to, int from) {
    Blob source = blobs.get(from);
    if (source == null) {
      return -1;
    }
    int n = 0;
    for (int t : treeBatch(to, source)) {
      if (ref(t) != null) {
        break;
      }
      n++;
    }
    return n;
  }

  /**
   * A tree link whose {@code linkAll} did not land: one reference taken on each target of the
   * batch, in order, up to the first that is not live, then all of them given back ({@link
   * #giveBack(int, Map)}): a target taken from 0 is removed again, with the cascade of its links.
   * Neither the state before the tree link nor the one after it shows that removal, so an
   * unclear tree link needs this state as an outcome of its own (TREE-3's give-back state).
   */
  void treeGiveBack(List<Integer> to, int from) {
    Blob source = blobs.get(from);
    if (source == null) {
      return;
    }
    Map<Integer, Long> taken = new java.util.LinkedHashMap<>();
    for (int t : treeBatch(to, source)) {
      Blob target = blobs.get(t);
      if (target == null) {
        break;
      }
      target.refs++;
      taken.put(t, target.incarnation);
    }
    giveBack(from, taken);
  }

  /** {@code Trees.giveBack}: a {@code deref} of each target taken that is not in {@code linked}. */
  void giveBack(List<Integer> taken, Set<Integer> linked) {
    for (int t : taken) {
      if (!linked.contains(t)) {
        deref(t); // a target a cascade of an earlier give-back removed: NotFound, nothing to do
      }
    }
  }

  /** The targets a tree link of {@code to} from {@code source} takes references on, in order. */
  static List<Integer> treeBatch(List<Integer> to, Blob source) {
    return to.stream().distinct().filter(t -> !source.links.contains(t)).toList();
  }

  /**
   * {@code linkNew(to, from)} as PROTO-13 makes it: {@code from} and the targets read, NotFound
   * if one is not live, nothing changed; the distinct targets {@code from} does not link to at
   * their live incarnation get one marked reference each, in order (a change each; one gone
   * meanwhile ends the call NotFound after the marks made are given back); then one change of
   * {@code from}'s record adds a link to each marked target it does not link to yet, to the
   * incarnation marked (NotFound, the marks given back, if {@code from} is gone or another
   * incarnation by then); a target linked meanwhile has its mark given back. Another host's
   * operation may run between any two of these changes. The removal of a mark whose link was
   * made changes nothing the model holds.
   */
  Class<? extends StoreException> linkNew(List<Integer> to, int from) {
    return linkNew(to, from, null, Map.of());
  }

  /**
   * {@link #linkNew(List, int)}; with {@code drawnLife}, as an operation drawn before (a put
   * that marks): {@code from} must still be that incarnation, at the start and at the links;
   * each target of {@code created} (its incarnation created by the put, holding its mark) is not
   * marked again, and has its mark given back where the call is NotFound or finds it linked.
   * Such a target is not read again either (its version is the one the put wrote, PROTO-14):
   * one deleted, or deleted and stored anew, since its creation is linked at the incarnation
   * created with the others, and found so only by step 4's write, after the links, by then
   * another point of the call: its link is removed (it holds nothing) and the call is NotFound,
   * the other targets' links made (their marks theirs). Where a target is found linked already,
   * the call is made again from fresh reads (PROTO-14): then such a target deleted is NotFound at
   * once, the creation marks given back, and one stored anew is marked by step 2 like any other
   * target.
   */
  private Class<? extends StoreException> linkNew(List<Integer> to, int from, Long drawnLife,
      Map<Integer, Long> created) {
    return linkNew(to, from, drawnLife, created, Reads.AS_FOUND);
  }

  /**
   * Which versions a put that marks makes its link from, where a target it created is stale
   * (deleted, or deleted and stored anew, since its creation). The host decides from the versions
   * it remembers (PROTO-14), which the model does not hold: its remembered version of {@code
   * from} may be older than a link another host made since (it then finds that target missing,
   * marks it or takes its creation mark, and learns it is linked only when its step 3 is refused
   * and decided again on a read: the pass from remembered versions, NotFound at step 4), or found
   * not live, or refused as gone at step 3 (the whole call then made again from fresh reads).
   */
  enum Reads {
    /** Made again from fresh reads exactly where a target is linked already in the model. */
    AS_FOUND,
    /** From the remembered versions, whatever is linked already. */
    REMEMBERED,
    /** Made again from fresh reads. */
    FRESH
  }

  /**
   * {@link #linkNew(List, int, Long, Map)} from the versions {@code reads} says (checker seed 1:
   * at 5,000 steps, step 1,686, the host had seen {@code from} deleted by a {@code ref} that was
   * NotFound, and {@code from} was committed anew since, so its link of a file stored anew by
   * another host succeeded, from fresh reads; at 34,000 steps, step 13,057, a target was linked
   * already and the host's link, from a version of {@code from} that did not show it, was
   * NotFound at step 4).
   */
  private Class<? extends StoreException> linkNew(List<Integer> to, int from, Long drawnLife,
      Map<Integer, Long> created, Reads reads) {
    Blob source = blobs.get(from);
    if (source == null || drawnLife != null && source.incarnation != drawnLife) {
      dropMarks(created);
      return NotFoundException.class;
    }
    // The targets created marked whose version the call starts from is stale.
    Set<Integer> stale = new TreeSet<>();
    created.forEach((t, life) -> {
      Blob b = blobs.get(t);
      if (b == null || b.incarnation != life) {
        stale.add(t);
      }
    });
    for (int t : to) {
      if (!blobs.containsKey(t) && !stale.contains(t)) {
        dropMarks(created);
        return NotFoundException.class;
      }
    }
    List<Integer> distinct = to.stream().distinct().toList();
    List<Integer> missing = distinct.stream()
        .filter(t -> !(source.links.contains(t) && blobs.containsKey(t) && holds(source, t)))
        .toList();
    if (!stale.isEmpty() && (reads == Reads.FRESH
        || reads == Reads.AS_FOUND && missing.size() < distinct.size())) {
      // Made again from fresh reads: the stale targets are seen as they are.
      for (int t : stale) {
        if (!blobs.containsKey(t)) {
          dropMarks(created);
          return NotFoundException.class;
        }
      }
      created = new java.util.LinkedHashMap<>(created);
      created.keySet().removeAll(stale);
      stale.clear();
    }
    Map<Integer, Long> linkedAlready = new java.util.LinkedHashMap<>(created);
    linkedAlready.keySet().removeAll(missing);
    dropMarks(linkedAlready);
    if (missing.isEmpty()) {
      return null;
    }
    long fromLife = source.incarnation;
    Map<Integer, Long> marked = new java.util.LinkedHashMap<>();
    for (int t : missing) {
      Long createdLife = created.get(t);
      if (createdLife != null) {
        marked.put(t, createdLife); // marked at its creation: not read, nor written, here
        continue;
      }
      boundary();
      Blob target = blobs.get(t);
      if (target == null) {
        dropMarks(marked);
        return NotFoundException.class;
      }
      target.refs++; // step 2's mark
      marked.put(t, target.incarnation);
    }
    boundary();
    Blob now = blobs.get(from);
    if (now == null || now.incarnation != fromLife) {
      dropMarks(marked);
      return NotFoundException.class;
    }
    Map<Integer, Long> unlinked = new java.util.LinkedHashMap<>();
    Map<Integer, Long> linkedNow = new java.util.LinkedHashMap<>();
    marked.forEach((t, life) -> {
      Long linkedTo = now.linkedIncarnations.get(t);
      if (now.links.contains(t) && (!incarnations || linkedTo != null && linkedTo.equals(life))) {
        unlinked.put(t, life);
      } else {
        now.links.add(t);
        now.linkedIncarnations.put(t, life);
        linkedNow.put(t, life);
      }
    });
    dropMarks(unlinked);
    return confirmCreated(from, linkedNow, created);
  }

  /**
   * Step 4 for the targets created marked that the call linked: each is confirmed by its mark's
   * removal, a write from the version the put left; one found not live at the incarnation its
   * new link names (deleted, or stored anew, since its creation) has that link removed from
   * {@code from}'s record, where it is still there, and the call is NotFound.
   */
  private Class<? extends StoreException> confirmCreated(int from, Map<Integer, Long> linkedNow,
      Map<Integer, Long> created) {
    List<Integer> check = linkedNow.keySet().stream().filter(created::containsKey).toList();
    if (check.isEmpty() || !confirms) {
      return null;
    }
    boundary();
    List<Integer> lost = new java.util.ArrayList<>();
    for (int t : check) {
      Blob b = blobs.get(t);
      if (b == null || b.incarnation != linkedNow.get(t)) {
        lost.add(t);
      }
    }
    if (lost.isEmpty()) {
      return null;
    }
    Blob source = blobs.get(from);
    if (source != null) {
      for (int t : lost) {
        Long life = source.linkedIncarnations.get(t);
        if (source.links.contains(t) && life != null && life.equals(linkedNow.get(t))) {
          source.links.remove(t);
          source.linkedIncarnations.remove(t);
        }
      }
    }
    return NotFoundException.class;
  }

  /**
   * A put that marks ({@code NewLinks}, the mark at creation, PROTO-13): the operation is drawn
   * on a read of {@code from}, live (NotFound, nothing done, if not); each distinct target is put through
   * it, one not live created at count 1 (its mark, counted from its creation on, as the store
   * counts it), one live AlreadyExists and unchanged; then, with {@code link}, {@code
   * linkNew(to, from)} as that operation, {@code from} still the incarnation drawn, which marks
   * only the targets not created so and gives back the creation marks it will not link.
   * Without it (the caller stopped before its link), each target the puts created keeps its
   * mark: count 1, which gc past the bound gives back.
   */
  Class<? extends StoreException> markedPut(List<Integer> to, int from, boolean link) {
    return markedPut(to, from, link, null);
  }

  /**
   * {@link #markedPut(List, int, boolean)} drawn from {@code remembered}, when not null: the
   * incarnation of {@code from} its host remembers live ({@link #drawsFrom}), taken without a
   * read whatever {@code from} is now. The puts are made even if {@code from} is gone; the link
   * of an incarnation that is not {@code from}'s live one is NotFound, its creation marks given
   * back, and links nothing.
   */
  Class<? extends StoreException> markedPut(List<Integer> to, int from, boolean link,
      Long remembered) {
    Blob source = blobs.get(from);
    if (source == null && remembered == null) {
      return NotFoundException.class;
    }
    long drawn = remembered != null ? remembered : source.incarnation;
    Map<Integer, Long> created = putsOfMarkedPut(to, true);
    if (!link) {
      return null;
    }
    // The link's reads come after the puts, so another host's call may run between them: a
    // target found stored and linked, then deleted, is NotFound at the link (checker seed 83117,
    // step 44,203: the model had no point there, and expected success).
    boundary();
    return linkNew(to, from, drawn, created);
  }

  /** The answers of a {@link #racedPut}'s calls, null for success or a call not made. */
  record Race(Class<? extends StoreException> start, Class<? extends StoreException> delete,
      Class<? extends StoreException> reput, Class<? extends StoreException> link,
      Class<? extends StoreException> relink, boolean created) {}

  /**
   * How far a {@link #racedPut} gets: its puts and the other host's calls; its link's change of
   * {@code from} without step 4's confirmation of the files the puts created (which failed: a
   * file deleted keeps a link that holds nothing, heavy seed 19, step 4,905); its link; after a
   * refused link, the targets stored again and not the plain {@code linkNew} (which may have
   * marked them and stopped: heavy seed 26, step 902, a file stored again live at one reference
   * and not linked); all.
   */
  enum RaceStage { PUTS, UNCONFIRMED, LINK, REPUTS, ALL }

  /** Whether step 4 confirms the targets created marked ({@link #confirmCreated}). */
  private boolean confirms = true;

  /**
   * A put that marks with another host's {@code delete(victim)} (then, with {@code reput}, its
   * plain {@code put}) between its puts and its link ({@code Op.RacedPut}): the operation drawn
   * from live {@code from} (NotFound, no put made, if not; or from the incarnation its host
   * remembers, {@link #markedPut(List, int, boolean, Long)}) and its puts, as {@link #markedPut};
   * the other host's calls, whatever became of the puts; the link, {@code linkNew} as that
   * operation. A file the puts created and the other host deleted (or deleted and stored anew)
   * is linked at the incarnation created and found not live at step 4: that link removed, the
   * call NotFound ({@link #confirmCreated}). Where the link is NotFound, as a tree's put does:
   * each distinct target stored again without the operation (at count 0 if not live,
   * AlreadyExists otherwise) and a plain {@code linkNew(to, from)}, which gives each target
   * {@code from} does not link to one reference held by its new link. {@code stage} stops it
   * short (a host killed, or a call without a clear answer): after the other host's calls, or
   * after the link; without {@code deletes} the other host's delete did not land (an unclear
   * answer). {@code reads} says which versions the link is made from ({@link Reads}, the host's
   * memory): from fresh reads, a victim the puts created is NotFound at once if deleted, marked
   * by step 2 and linked if stored anew.
   */
  Race racedPut(List<Integer> to, int from, int victim, boolean deletes, boolean reput,
      RaceStage stage, Reads reads) {
    return racedPut(to, from, victim, deletes, reput, stage, reads, null);
  }

  /**
   * {@link #racedPut(List, int, int, boolean, boolean, RaceStage, Reads)} whose operation is
   * drawn from {@code remembered}, when not null, as {@link #markedPut(List, int, boolean, Long)}
   * draws it: the puts made whatever {@code from} is now, the link NotFound unless {@code from}
   * is live at that incarnation.
   */
  Race racedPut(List<Integer> to, int from, int victim, boolean deletes, boolean reput,
      RaceStage stage, Reads reads, Long remembered) {
    Blob source = blobs.get(from);
    boolean drawn = source != null || remembered != null;
    long life = remembered != null ? remembered : drawn ? source.incarnation : ENDED_LIFE;
    Map<Integer, Long> created = drawn ? putsOfMarkedPut(to, true) : Map.of();
    Class<? extends StoreException> start = drawn ? null : NotFoundException.class;
    Class<? extends StoreException> delete = deletes ? delete(victim) : null;
    Class<? extends StoreException> again = reput ? publish(victim, false, Map.of()) : null;
    boolean createdVictim = created.containsKey(victim);
    if (!drawn || stage == RaceStage.PUTS) {
      return new Race(start, delete, again, null, null, createdVictim);
    }
    confirms = stage != RaceStage.UNCONFIRMED;
    Class<? extends StoreException> link;
    try {
      link = linkNew(to, from, life, created, reads);
    } finally {
      confirms = true;
    }
    Class<? extends StoreException> relink = null;
    if (link == NotFoundException.class
        && (stage == RaceStage.REPUTS || stage == RaceStage.ALL)) {
      for (int t : to.stream().distinct().toList()) {
        publish(t, false, Map.of());
      }
      if (stage == RaceStage.ALL) {
        relink = linkNew(to, from);
      }
    }
    return new Race(start, delete, again, link, relink, createdVictim);
  }

  /**
   * The puts of a put that marks: each target not live created, at count 1 with {@code counted}
   * (the mark it is created with, as the store counts it from its creation on), else at 0 (the
   * bounds that count that mark as step 2's, {@code LinkNewMarks}); the targets created, with
   * the incarnation each was created at.
   */
  Map<Integer, Long> putsOfMarkedPut(List<Integer> to, boolean counted) {
    Map<Integer, Long> created = new java.util.LinkedHashMap<>();
    for (int t : to.stream().distinct().toList()) {
      boundary();
      if (!live(t)) {
        publish(t, false, Map.of());
        Blob b = blobs.get(t);
        if (counted) {
          b.refs = 1;
        }
        created.put(t, b.incarnation);
      }
    }
    return created;
  }

  /** The distinct targets of {@code to} that a {@code linkNew} from live {@code from} marks. */
  List<Integer> linkNewBatch(List<Integer> to, int from) {
    Blob source = blobs.get(from);
    return to.stream().distinct().filter(t -> !(source.links.contains(t) && holds(source, t)))
        .toList();
  }

  /** Each marked reference given back: the count less one, on the incarnation marked. */
  private void dropMarks(Map<Integer, Long> marked) {
    marked.forEach((t, life) -> {
      boundary();
      Blob b = blobs.get(t);
      if (b != null && b.incarnation == life && b.refs > 0) {
        b.refs--; // at 0 the blob stays live, as had the call never been made
      }
    });
  }

  /**
   * gc resolving marks no link holds (a repair gives them back record by record, {@link
   * #repairDanglingLinks}): each of {@code resolved} (the
   * operations whose marks are gone from the blob's record) removed with the count less one; the
   * blob stays live at 0.
   *
   * @return how many marks were so given back
   */
  int resolveMarks(Map<Integer, Set<String>> stillPending) {
    int n = 0;
    for (var e : blobs.entrySet()) {
      Blob b = e.getValue();
      Set<String> pending = stillPending.getOrDefault(e.getKey(), Set.of());
      for (String op : List.copyOf(b.marks)) {
        if (!pending.contains(op)) {
          b.marks.remove(op);
          if (b.refs > 0) {
            b.refs--;
          }
          n++;
        }
      }
    }
    return n;
  }

  Class<? extends StoreException> unlink(int to, int from) {
    Blob target = blobs.get(to);
    Blob source = blobs.get(from);
    if (target == null || source == null) {
      return NotFoundException.class;
    }
    boolean held = holds(source, to);
    if (source.links.remove(to)) {
      source.linkedIncarnations.remove(to);
      if (!held) {
        return null;
      }
      // The release is a record change of its own (References.unlink), so another host's
      // operation may take effect before it; a target it then finds gone or another
      // incarnation has nothing of the link's to release, and the call answers success.
      long life = target.incarnation;
      boundary();
      Blob now = blobs.get(to);
      if (now == null || incarnations && now.incarnation != life) {
        return null;
      }
      return deref(to);
    }
    return null;
  }

  /**
   * The state an {@code unlink} that ended without a clear answer may have stopped in besides
   * those before and after it, where it differs from both in more than counts: its first change
   * (the link removed from {@code from}'s record) made, its second (the release of the reference
   * the link held) not, so the target keeps a reference no link holds, as a host killed between
   * the two leaves it. That differs from the state after the call only in counts unless the
   * release removes {@code from} itself: {@code from} linking to itself at its last reference, or
   * reached by the release's cascade at its last one. Then the call's end has {@code from} gone,
   * while the stop has it live without the link (and its links' targets not released). Empty
   * otherwise, and if the call changes nothing or its link holds no reference.
   */
  List<Model> unlinkStops(int to, int from) {
    Blob source = blobs.get(from);
    if (source == null || !blobs.containsKey(to) || !source.links.contains(to)
        || !holds(source, to)) {
      return List.of();
    }
    Model end = copy();
    end.unlink(to, from);
    if (end.live(from)) {
      return List.of();
    }
    Model stop = copy();
    stop.blobs.get(from).links.remove(to);
    stop.blobs.get(from).linkedIncarnations.remove(to);
    return List.of(stop);
  }

  /** An update of one label; an empty value removes it. */
  Class<? extends StoreException> label(int blob, String key, String value) {
    Blob b = blobs.get(blob);
    if (b == null) {
      return NotFoundException.class;
    }
    if (value.isEmpty()) {
      b.labels.remove(key);
    } else {
      b.labels.put(key, value);
    }
    return null;
  }

  /**
   * {@code fsck --repair}: a live blob's links to blobs that are not live are dropped, and the
   * unlinked marks past the bound are given back. The store reads every record first (in the
   * checker one at a time, in {@code readOrder}, its key order), and only then takes each record
   * read live in turn, in that same order ({@code S3Fsck}): it gives that blob's marks back, then
   * repairs its dangling links. So another host's operation may land between two reads, between
   * two give-backs, or between two repairs. A link is dropped if its target was not live when the
   * target's record was read and is not live when the link is repaired (the store reads the target
   * again then, so one created meanwhile keeps its links), and only from a blob that was live when
   * its own record was read. A blob that another host's deref removes after its record was read
   * keeps the links to it; one its cascade removes after that, read later, loses them: a state
   * neither whole order gives. A mark is given back (the count less one; at 0 the blob stays live)
   * only if the blob's record listed it when read, the blob still lists it at its turn, and it is
   * not in {@code stillPending} (the marks the bucket shows left, {@link LinkNewMarks}); an
   * operation run during the reads still finds it counted. Each read, each give-back and each
   * repair (a compare-and-swap of its own) is a point of its own ({@link Orders}).
   *
   * @param readOrder every blob of the pool, in the order the store reads their records
   * @param stillPending per blob, the marks the repair leaves
   */
  Class<? extends StoreException> repairDanglingLinks(List<Integer> readOrder,
      Map<Integer, Set<String>> stillPending) {
    Map<Integer, List<Integer>> linksRead = new LinkedHashMap<>();
    Map<Integer, List<String>> marksRead = new HashMap<>();
    for (int i = 0; i < readOrder.size(); i++) {
      if (i > 0) {
        boundary();
      }
      int b = readOrder.get(i);
      Blob blob = blobs.get(b);
      if (blob != null) {
        linksRead.put(b, List.copyOf(blob.links));
        marksRead.put(b, List.copyOf(new TreeSet<>(blob.marks)));
      }
    }
    linksRead.forEach((from, links) -> {
      Set<String> pending = stillPending.getOrDefault(from, Set.of());
      for (String op : marksRead.get(from)) {
        if (pending.contains(op)) {
          continue;
        }
        boundary();
        Blob now = blobs.get(from);
        if (now != null && now.marks.remove(op) && now.refs > 0) {
          now.refs--;
        }
      }
      for (int to : links) {
        if (linksRead.containsKey(to) || blobs.containsKey(to)) {
          continue;
        }
        boundary();
        Blob now = blobs.get(from);
        if (now != null) {
          now.links.remove(to);
          now.linkedIncarnations.remove(to);
        }
      }
    });
    return null;
  }

  Class<? extends StoreException> abort(int ref) {
    return ingests.remove(ref) == null ? NotFoundException.class : null;
  }

  /** The blobs whose state differs between this model and {@code other}. */
  Set<Integer> differences(Model other) {
    Set<Integer> diff = new TreeSet<>();
    Set<Integer> all = new TreeSet<>(blobs.keySet());
    all.addAll(other.blobs.keySet());
    for (int b : all) {
      if (!Objects.equals(blobs.get(b), other.blobs.get(b))) {
        diff.add(b);
      }
    }
    return diff;
  }

  @Override
  public String toString() {
    return "blobs " + blobs + ", ingests " + ingests;
  }
}
