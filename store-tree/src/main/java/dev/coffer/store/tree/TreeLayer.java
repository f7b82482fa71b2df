package dev.coffer.store.tree;

import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One stored tree blob as written: a full tree (format 1, no base) or a delta tree (format 2) that
 * names its base tree and lists only the entries added or changed relative to it and the paths
 * removed from it. A tree is read by resolving its chain of bases, at most {@link #MAX_DEPTH}
 * deltas over a full tree (docs/architecture.md, "Delta trees"). Instances are immutable.
 *
 * @param base the base tree's digest; null for a full tree
 * @param depth the number of deltas from this tree down to a full tree: 0 for a full tree, its
 *     base's depth plus one for a delta
 * @param entries the entries this blob lists (all of a full tree's; a delta's added or changed),
 *     sorted by path, paths unique
 * @param removed the paths of the base this delta removes, sorted, unique; empty for a full tree
 */
record TreeLayer(Digest base, int depth, List<Tree.Entry> entries, List<String> removed) {

  /** The most deltas a chain may hold over its full tree: a read reads at most this plus one blob. */
  static final int MAX_DEPTH = 8;

  /** @throws InvalidArgumentException if the layer is malformed */
  TreeLayer {
    entries = List.copyOf(entries);
    removed = List.copyOf(removed);
    if ((base == null) != (depth == 0) || depth < 0 || depth > MAX_DEPTH) {
      throw new InvalidArgumentException("tree depth " + depth + (base == null ? " without" : " with")
          + " a base: a full tree has depth 0, a delta 1 to " + MAX_DEPTH);
    }
    if (base == null && !removed.isEmpty()) {
      throw new InvalidArgumentException("a full tree removes nothing");
    }
    String previous = null;
    for (String path : removed) {
      Tree.checkPath(path);
      if (previous != null && previous.compareTo(path) >= 0) {
        throw new InvalidArgumentException("removed path \"" + path + "\": not sorted after \""
            + previous + "\" or repeated");
      }
      previous = path;
    }
    Set<String> gone = new HashSet<>(removed);
    previous = null;
    for (Tree.Entry e : entries) {
      if (previous != null && previous.compareTo(e.path()) >= 0) {
        throw new InvalidArgumentException("tree entry \"" + e.path()
            + "\": not sorted after \"" + previous + "\" or repeated");
      }
      if (gone.contains(e.path())) {
        throw new InvalidArgumentException("tree entry \"" + e.path()
            + "\": both listed and removed");
      }
      previous = e.path();
    }
  }

  /** The full tree {@code tree}. */
  static TreeLayer full(Tree tree) {
    return new TreeLayer(null, 0, tree.entries(), List.of());
  }

  /**
   * The delta that turns {@code from} (tree {@code base}, of depth {@code baseDepth}) into {@code
   * to}: the entries of {@code to} that {@code from} lacks or lists otherwise, and the paths of
   * {@code from} that {@code to} lacks.
   */
  static TreeLayer delta(Digest base, int baseDepth, Tree from, Tree to) {
    Map<String, Tree.Entry> before = new TreeMap<>();
    from.entries().forEach(e -> before.put(e.path(), e));
    List<Tree.Entry> listed = new ArrayList<>();
    for (Tree.Entry e : to.entries()) {
      if (!e.equals(before.remove(e.path()))) {
        listed.add(e);
      }
    }
    return new TreeLayer(base, baseDepth + 1, listed, new ArrayList<>(before.keySet()));
  }

  /** Whether this is a delta tree. */
  boolean isDelta() {
    return base != null;
  }

  /** How many paths this delta changes: its entries and its removals. */
  int size() {
    return entries.size() + removed.size();
  }

  /**
   * The tree this delta makes of its base's resolved tree {@code resolvedBase}.
   *
   * @throws InvalidArgumentException if it removes a path the base does not list, or the result is
   *     not a valid tree (an entry beneath a symbolic link)
   */
  Tree applyTo(Tree resolvedBase) {
    Map<String, Tree.Entry> all = new TreeMap<>(Comparator.naturalOrder());
    resolvedBase.entries().forEach(e -> all.put(e.path(), e));
    for (String path : removed) {
      if (all.remove(path) == null) {
        throw new InvalidArgumentException("removed path \"" + path
            + "\": not in the base tree " + base);
      }
    }
    entries.forEach(e -> all.put(e.path(), e));
    return Tree.of(new ArrayList<>(all.values()));
  }
}
