package dev.coffer.store.tree;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import java.util.Collection;

/**
 * The lookups a delta put makes before sending a changed file of more than {@link
 * FileCopies#SEND_WITHOUT_LOOKUP}, started before the tree is committed rather than when the
 * file's turn comes: their round trip then overlaps the tree's commit and the draw of its links'
 * operation instead of following them (a second upload is a chain of round trips, not a fan).
 * Each is the request the file's own lookup would have made, no other, and decides only what that
 * lookup decides: whether the bytes are sent. A lookup that failed is made again at the file's
 * turn. Content found stored and released before its link is handled as any such content is: the
 * link says NotFound and the file is stored again ({@link LinkPipeline}).
 *
 * <p>{@link #close} ends the lookups still running before it returns. Thread-safe.
 */
final class EarlyLookups implements FileCopies.Lookup, AutoCloseable {

  private final ContentStore store;
  private final EarlyWork<Boolean> found;

  private EarlyLookups(ContentStore store, Collection<Digest> digests, int jobs) {
    this.store = store;
    this.found = new EarlyWork<>(digests, jobs, "coffer-tree-lookup", d -> lookUp(store, d));
  }

  /** Starts looking up each of {@code digests}, at most {@code jobs} at a time. */
  static EarlyLookups start(ContentStore store, Collection<Digest> digests, int jobs) {
    return new EarlyLookups(store, digests, jobs);
  }

  /** Whether {@code d} is stored: true if its info is found, false if NotFound. */
  static boolean lookUp(ContentStore store, Digest d) {
    try {
      store.info(d);
      return true;
    } catch (NotFoundException absent) {
      return false;
    }
  }

  /**
   * The early lookup's answer for {@code d} once it has one, given once: a digest not looked up
   * early, whose lookup failed, or asked about again (stored again after its link found it
   * released since) is looked up now.
   */
  @Override
  public boolean stored(Digest d) {
    Boolean early = found.take(d);
    return early != null ? early : lookUp(store, d);
  }

  @Override
  public void close() {
    found.close();
  }
}
