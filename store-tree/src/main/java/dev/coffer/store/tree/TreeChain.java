package dev.coffer.store.tree;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.Info;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A stored tree read through its chain of bases (docs/architecture.md, "Delta trees"): every blob
 * of the chain read and verified, at most {@link TreeLayer#MAX_DEPTH} deltas over a full tree.
 *
 * @param layer the tree's own blob as written
 * @param tree the full tree the chain resolves to
 * @param held what the chain's blobs link to, as their records said when read: each is held
 *     while the tree is (TREE-2)
 */
record TreeChain(TreeLayer layer, Tree tree, Set<Digest> held) {

  /**
   * Reads tree {@code digest} and, for a delta, its chain of bases down to a full tree, each blob
   * verified; each delta's depth must be one more than its base's.
   *
   * @throws dev.coffer.store.NotFoundException if a blob of the chain is not stored
   * @throws InvalidArgumentException if a blob is not a tree, the depths do not follow, or a
   *     delta does not apply to its base
   * @throws dev.coffer.store.DataLossException if a blob's bytes do not hash to its digest
   */
  static TreeChain resolve(ContentStore store, Digest digest) {
    return resolve(store, digest, null);
  }

  /**
   * The same, each blob's bytes taken from {@code cache} (unless null) when kept there, and kept
   * there once read from the store and decoded; each blob's record is read from the store either
   * way.
   */
  static TreeChain resolve(ContentStore store, Digest digest, TreeCache cache) {
    List<TreeLayer> chain = new ArrayList<>();
    Set<Digest> held = new HashSet<>();
    Digest at = digest;
    while (true) {
      // Its record (live, its size, its links), then its bytes in one read: as many requests as
      // a plain read, which reads the record too, and the links come with them.
      Info info = store.info(at);
      held.addAll(info.links());
      byte[] kept = cache == null ? null : cache.read(at, info.size());
      byte[] bytes = kept != null ? kept
          : Content.readBlob(store::readerAtHeld, Descriptor.of(at, info.size()));
      TreeLayer layer = TreeCodec.decodeLayer(at, bytes);
      if (cache != null && kept == null) {
        cache.keep(at, bytes);
      }
      if (!chain.isEmpty() && layer.depth() != chain.get(chain.size() - 1).depth() - 1) {
        throw new InvalidArgumentException("tree " + at + " has depth " + layer.depth()
            + ", not one less than that of the delta over it");
      }
      chain.add(layer);
      if (!layer.isDelta()) {
        break;
      }
      at = layer.base();
    }
    Tree tree = new Tree(Tree.VERSION, chain.get(chain.size() - 1).entries());
    for (int i = chain.size() - 2; i >= 0; i--) {
      tree = chain.get(i).applyTo(tree);
    }
    return new TreeChain(chain.get(0), tree, Set.copyOf(held));
  }
}
