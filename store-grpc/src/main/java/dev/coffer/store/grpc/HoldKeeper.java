package dev.coffer.store.grpc;

import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Writer;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What lets many containerd daemons share one store: each server is one holder, and it holds a blob
 * its containerd wrote or found stored with exactly one reference in the store. containerd's
 * garbage collector calls Delete for every blob of the store its own metadata does not know;
 * {@link #release} drops only this holder's reference, so the store deletes a blob when its last
 * holder (or other reference) lets go, and the store's own deletion protocol settles a race with a
 * host committing the same content at that moment.
 *
 * <p>Orders that keep a crash safe: a hold takes the reference first and then records the hold, a
 * release forgets the hold first and then drops the reference. A crash between the two steps leaves
 * the blob with one reference too many, never deleted while held.
 *
 * <p>A blob stored with no reference at all (committed by the CLI or the library with a plain
 * commit, which lives until deleted) is pinned with one more reference the first time a holder
 * takes it, so the holders' releases never delete it.
 *
 * <p>Thread-safe: the steps of one digest run under one of a fixed set of locks.
 */
final class HoldKeeper {

  private static final Logger LOG = LoggerFactory.getLogger(HoldKeeper.class);

  private final ContentStore store;
  private final Holds holds;
  private final ReentrantLock[] locks = new ReentrantLock[64];

  HoldKeeper(ContentStore store, Holds holds) {
    this.store = store;
    this.holds = holds;
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new ReentrantLock();
    }
  }

  private ReentrantLock lock(Digest digest) {
    return locks[Math.floorMod(digest.hashCode(), locks.length)];
  }

  /**
   * Commits the writer's ingest and holds the blob. Content already stored is held too and is not
   * an error, since this holder now needs it.
   */
  void commit(Writer writer, long size, Digest expected, Map<String, String> labels) {
    Digest digest = expected != null ? expected : writer.digest();
    ReentrantLock lock = lock(digest);
    lock.lock();
    try {
      if (holds.contains(digest)) {
        try {
          writer.commit(size, expected, labels);
          // Stored anew: the blob was deleted outside containerd (coffer rm) since it was held.
          store.ref(digest);
        } catch (AlreadyExistsException e) {
          LOG.debug("commit of {}: stored and held already", digest);
        }
        return;
      }
      hold(digest, () -> writer.commitAndRef(size, expected, labels));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Holds a blob that an ingest found stored, unless it is held already.
   *
   * @return false if the blob is no longer stored (deleted meanwhile): the caller writes it
   */
  boolean holdStored(Digest digest) {
    ReentrantLock lock = lock(digest);
    lock.lock();
    try {
      if (holds.contains(digest)) {
        return true;
      }
      try {
        hold(digest, () -> store.ref(digest));
        return true;
      } catch (NotFoundException e) {
        return false;
      }
    } finally {
      lock.unlock();
    }
  }

  private void hold(Digest digest, Supplier<Info> reference) {
    boolean unreferenced;
    try {
      unreferenced = store.info(digest).refCount() == 0;
    } catch (NotFoundException e) {
      unreferenced = false;
    }
    reference.get();
    if (unreferenced) {
      // A concurrent holder may pin it too: one reference too many, which is the safe side.
      store.ref(digest);
      LOG.debug("{} had no reference: pinned", digest);
    }
    holds.add(digest);
    LOG.debug("holding {}", digest);
  }

  /**
   * containerd's Delete: drops this holder's reference, if it holds the blob; otherwise leaves the
   * store alone (another host, or another reference, keeps the blob).
   *
   * @return whether this holder held the blob
   */
  boolean release(Digest digest) {
    ReentrantLock lock = lock(digest);
    lock.lock();
    try {
      if (!holds.contains(digest)) {
        LOG.debug("delete of {}: not held here, kept", digest);
        return false;
      }
      holds.remove(digest);
      try {
        store.deref(digest);
        LOG.debug("released {}", digest);
      } catch (NotFoundException | FailedPreconditionException e) {
        // Deleted outside containerd (coffer rm), or its references dropped by hand.
        LOG.debug("release of {}: {}", digest, e.getMessage());
      } catch (AbortedException e) {
        // The count did not change: hold it again, so the next collection retries the release.
        // (After an Unknown failure the deref may have applied; holding again could release a
        // reference twice, so that hold stays forgotten and the blob over-referenced.)
        holds.add(digest);
        throw e;
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Whether this holder holds {@code digest}. */
  boolean holds(Digest digest) {
    return holds.contains(digest);
  }

  @Override
  public String toString() {
    return "holds in " + holds;
  }
}
