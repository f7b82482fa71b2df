package dev.coffer.store.tree;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

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
  private final Map<Digest, CompletableFuture<Boolean>> found = new ConcurrentHashMap<>();
  private final ExecutorService pool;

  private EarlyLookups(ContentStore store, Collection<Digest> digests, int jobs) {
    this.store = store;
    this.pool = digests.isEmpty() ? null
        : Executors.newFixedThreadPool(Math.min(jobs, digests.size()), r -> {
          Thread t = new Thread(r, "coffer-tree-lookup");
          t.setDaemon(true);
          return t;
        });
    for (Digest d : digests) {
      found.computeIfAbsent(d, x -> CompletableFuture.supplyAsync(() -> lookUp(store, x), pool));
    }
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
    CompletableFuture<Boolean> early = found.remove(d);
    if (early != null) {
      try {
        return early.get();
      } catch (ExecutionException failed) {
        // looked up again below, as the file's turn would have
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    return lookUp(store, d);
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
      Jobs.awaitEnd(pool);
    }
  }
}
