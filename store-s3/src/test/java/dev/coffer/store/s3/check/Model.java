package dev.coffer.store.s3.check;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

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

    Blob copy() {
      Blob b = new Blob();
      b.refs = refs;
      b.incarnation = incarnation;
      b.links.addAll(links);
      b.linkedIncarnations.putAll(linkedIncarnations);
      b.labels.putAll(labels);
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

  Model(boolean incarnations) {
    this.incarnations = incarnations;
  }

  Model copy() {
    Model m = new Model(incarnations);
    m.lives = lives;
    blobs.forEach((k, v) -> m.blobs.put(k, v.copy()));
    ingests.forEach((k, v) -> m.ingests.put(k, v.copy()));
    return m;
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

  /** A blob that left the live state releases one reference of each blob it links to. */
  private void cascade(List<Integer> first, int origin) {
    Deque<Integer> pending = new ArrayDeque<>(first);
    Set<Integer> removed = new HashSet<>();
    removed.add(origin);
    while (!pending.isEmpty()) {
      int d = pending.pop();
      Blob b = blobs.get(d);
      if (b == null || b.refs == 0) {
        continue;
      }
      if (b.refs == 1) {
        blobs.remove(d);
        if (removed.add(d)) {
          pending.addAll(held(b));
        }
      } else {
        b.refs--;
      }
    }
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

  Class<? extends StoreException> unlink(int to, int from) {
    Blob target = blobs.get(to);
    Blob source = blobs.get(from);
    if (target == null || source == null) {
      return NotFoundException.class;
    }
    boolean held = holds(source, to);
    if (source.links.remove(to)) {
      source.linkedIncarnations.remove(to);
      return held ? deref(to) : null;
    }
    return null;
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

  /** {@code fsck --repair}: a live blob's links to blobs that are not live are dropped. */
  Class<? extends StoreException> repairDanglingLinks() {
    for (Blob b : blobs.values()) {
      b.links.removeIf(to -> !blobs.containsKey(to));
      b.linkedIncarnations.keySet().retainAll(b.links);
    }
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
