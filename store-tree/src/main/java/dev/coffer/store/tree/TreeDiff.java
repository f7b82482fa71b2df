package dev.coffer.store.tree;

import java.util.List;

/**
 * How one tree differs from another: paths only in the second (added), only in the first (removed),
 * and in both with another kind, mode, digest or target (changed).
 *
 * @param added paths only in the second tree, sorted
 * @param removed paths only in the first tree, sorted
 * @param changed paths in both that differ, sorted
 * @param bytesToTransfer bytes of the second tree's files, added or changed, whose content the first
 *     tree does not hold: what turning a copy of the first into the second downloads
 */
public record TreeDiff(List<String> added, List<String> removed, List<String> changed,
    long bytesToTransfer) {

  public TreeDiff {
    added = List.copyOf(added);
    removed = List.copyOf(removed);
    changed = List.copyOf(changed);
  }
}
