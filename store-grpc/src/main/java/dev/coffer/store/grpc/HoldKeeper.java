package dev.coffer.store.grpc;

import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Writer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * <p>Orders that keep a crash safe (docs/architecture.md, GRPC-2): a hold takes the reference first
 * and then records the hold, a release forgets the hold first and then drops the reference. A
 * crash between the two steps leaves the blob with one reference too many, never deleted while
 * held.
 *
 * <p>A blob stored with no reference at all (committed by the CLI or the library with a plain
 * commit, which lives until deleted) is pinned with one more reference the first time a holder
 * takes it, so the holders' releases never delete it.
 *
 * <p>Thread-safe: the steps of one digest run under one of a fixed set of locks, so a holder takes
 * one reference per blob (GRPC-1).
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
   * Commits the writer's ingest and holds the blob. Content already stored is held too (this
   * holder now needs it), and then the commit fails with AlreadyExists, the ingest discarded, as
   * containerd's own server answers (GRPC-3).
   *
   * <p>Content this holder does not hold yet is committed with a reference in one step whether it
   * is stored or not ({@code commitAndRef}: a new blob, one more reference, or a deleted blob
   * resurrected), so a release by another host at the same moment meets it in the store's count;
   * whether to answer AlreadyExists comes from a look-up just before.
   *
   * @throws AlreadyExistsException if the content was stored already; it is held all the same
   */
  void commit(Writer writer, long size, Digest expected, Map<String, String> labels) {
    Digest digest = expected != null ? expected : writer.digest();
    ReentrantLock lock = lock(digest);
    lock.lock();
    try {
      Long held = holds.incarnation(digest);
      if (held != null) {
        try {
          writer.commit(size, expected, labels); // AlreadyExists: stored and held already
        } catch (AlreadyExistsException e) {
          // Held, unless the blob was deleted and committed anew since the hold was taken: the
          // hold's reference went with the earlier incarnation, and this one needs its own.
          Info stored = storedInfo(digest);
          if (stored != null && !sameIncarnation(held, stored)) {
            LOG.debug("{} held as incarnation {}, stored as {}: holding it anew", digest, held,
                stored.incarnation());
            hold(digest, () -> store.ref(digest), null);
          }
          throw e;
        }
        // Stored anew: the blob was deleted outside containerd (coffer rm) since it was held.
        hold(digest, () -> store.ref(digest), null);
        return;
      }
      Info stored = storedInfo(digest);
      hold(digest, () -> writer.commitAndRef(size, expected, labels), Optional.ofNullable(stored));
      if (stored != null) {
        throw new AlreadyExistsException("content " + digest + " already exists");
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Holds a blob that an ingest found stored, unless it holds this incarnation of it already.
   *
   * @return false if the blob is no longer stored (deleted meanwhile): the caller writes it
   */
  boolean holdStored(Digest digest) {
    ReentrantLock lock = lock(digest);
    lock.lock();
    try {
      Long held = holds.incarnation(digest);
      Info stored = storedInfo(digest);
      if (stored == null) {
        return false;
      }
      if (held != null && sameIncarnation(held, stored)) {
        return true;
      }
      try {
        hold(digest, () -> store.ref(digest), null);
        return true;
      } catch (NotFoundException e) {
        return false;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Whether a hold of incarnation {@code held} owns a reference of {@code stored}. */
  private static boolean sameIncarnation(long held, Info stored) {
    return held == 0 || stored.incarnation() == 0 || held == stored.incarnation();
  }

  /** The info of {@code digest}, or null if it is not stored. */
  private Info storedInfo(Digest digest) {
    try {
      return store.info(digest);
    } catch (NotFoundException e) {
      return null;
    }
  }

  /**
   * Takes this holder's reference and records the hold with the incarnation the reference was
   * taken on (PROTO-1). A blob that had no reference before this one is pinned with one more
   * reference, so the holders' releases leave it as it was; the count that tells is the one the
   * reference-taking call returned, not a cached look-up (PROTO-8).
   *
   * @param looked null if {@code reference} only adds a reference ({@code ref}); for a commit,
   *     which creates the blob when it is not stored, the blob as looked up before (empty if not
   *     stored). A count of 1 after a commit is then ours alone unless it is the incarnation the
   *     look-up found: a blob committed anew meanwhile is taken for this commit's own.
   */
  private void hold(Digest digest, Supplier<Info> reference, Optional<Info> looked) {
    Info taken = reference.get();
    boolean hadNone = taken.refCount() == 1 && (looked == null || looked.map(before ->
        before.incarnation() != 0 ? before.incarnation() == taken.incarnation()
            : before.refCount() == 0).orElse(false));
    if (hadNone) {
      // A concurrent holder may pin it too: one reference too many, which is the safe side.
      store.ref(digest);
      LOG.debug("{} had no reference: pinned", digest);
    }
    holds.add(digest, taken.incarnation());
    LOG.debug("holding {} (incarnation {})", digest, taken.incarnation());
  }

  /**
   * containerd's Delete: drops this holder's reference, if it holds the blob; otherwise leaves the
   * store alone (another host, or another reference, keeps the blob). The reference dropped is
   * one of the incarnation the hold took it on: if the blob was deleted and committed anew since,
   * the new incarnation's references are others', and none is dropped (PROTO-1).
   *
   * @return whether this holder held the blob
   */
  boolean release(Digest digest) {
    ReentrantLock lock = lock(digest);
    lock.lock();
    try {
      Long held = holds.incarnation(digest);
      if (held == null) {
        LOG.debug("delete of {}: not held here, kept", digest);
        return false;
      }
      holds.remove(digest);
      try {
        store.deref(digest, held);
        LOG.debug("released {}", digest);
      } catch (NotFoundException | FailedPreconditionException e) {
        // Deleted outside containerd (coffer rm), perhaps committed anew since, or its references
        // dropped by hand.
        LOG.debug("release of {}: {}", digest, e.getMessage());
      } catch (AbortedException e) {
        // The count did not change (the store says Aborted only then, PROTO-3): hold it again,
        // so the next collection retries the release. After any other failure the deref may
        // have applied; holding again could release a reference twice, so that hold stays
        // forgotten and the blob over-referenced.
        holds.add(digest, held);
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

  /** The blobs this holder holds, as of some moment during the call. */
  List<Digest> held() {
    return holds.list();
  }

  @Override
  public String toString() {
    return "holds in " + holds;
  }
}
