package dev.coffer.store;

import java.util.Collection;

/**
 * Reference counts and links between blobs, the seed blob store's role, made safe for many hosts.
 *
 * <p>A blob committed with {@link Writer#commitAndRef} starts at one reference. A blob whose count
 * falls to zero through {@link #deref} is removed, and each blob it links to is dereferenced in turn
 * (a cascade that terminates on cycles). A blob may link to another: the link holds one reference of
 * its target. Every step changes one blob's record atomically, so a crash in a cascade may leave a
 * blob over-referenced, never a referenced blob removed.
 *
 * <p>A reference belongs to one incarnation of its blob ({@link Info#incarnation}): a blob deleted
 * and committed anew is a new incarnation, and a reference of the earlier one (held by a link, or
 * remembered by a caller with {@link #deref(Digest, long)}) is never spent on it.
 */
public interface ReferenceCounter {

  /**
   * Adds one reference to a blob.
   *
   * @return the blob's info after the change
   * @throws NotFoundException if no blob has that digest
   */
  Info ref(Digest digest);

  /**
   * Removes one reference from a blob; at zero the blob is removed and its links dereferenced.
   *
   * @throws NotFoundException if no blob has that digest
   * @throws FailedPreconditionException if the blob has no reference to remove
   */
  void deref(Digest digest);

  /**
   * Removes one reference taken on incarnation {@code incarnation} of a blob, as {@link
   * #deref(Digest)} does, provided the blob is still that incarnation; a blob deleted and committed
   * anew since is another incarnation, whose references are someone else's: nothing changes.
   *
   * @param incarnation the blob's {@link Info#incarnation} when the reference was taken; 0 means
   *     any, as {@link #deref(Digest)}
   * @throws NotFoundException if no blob has that digest, or it is another incarnation
   * @throws FailedPreconditionException if the blob has no reference to remove
   */
  void deref(Digest digest, long incarnation);

  /**
   * Records that {@code from} links to {@code to}, transferring the caller's reference to {@code to}
   * to the link: {@code to}'s count does not change. The link holds its reference of {@code to}'s
   * current incarnation: if {@code to} is later deleted and committed anew, removing the link (by
   * {@link #unlink} or a cascade) does not take a reference of the new incarnation. If the link exists already, the caller's
   * reference is dropped instead ({@code to} loses one reference).
   *
   * @throws NotFoundException if either blob does not exist
   * @throws FailedPreconditionException if {@code to} has no reference to transfer (count 0)
   */
  void link(Digest to, Digest from);

  /**
   * Links {@code from} to each blob of {@code to}, with exactly the outcome of {@link #link(Digest,
   * Digest)} called for each in iteration order: the caller's reference to each target passes to
   * its link; a target linked already (to its current incarnation, or listed twice) loses the
   * caller's reference instead; a link to an earlier incarnation of a target is replaced (PROTO-1).
   * A store may make all the links in one change of {@code from}'s record rather than one each.
   *
   * <p>If it throws, the links may have been made for none, some or all of the targets: a target
   * that {@code from} now links to (see {@link Info#links}) has had the caller's reference passed to
   * the link; the caller still holds its reference to every other target.
   *
   * @throws NotFoundException if {@code from} or any target does not exist
   * @throws FailedPreconditionException if a target has no reference to transfer (count 0)
   */
  default void linkAll(Collection<Digest> to, Digest from) {
    for (Digest target : to) {
      link(target, from);
    }
  }

  /**
   * Links {@code from} to each blob of {@code to} that it does not link to yet, each new link
   * holding a reference of its own: the target gains one reference, taken and handed to the link
   * as one operation, so that no caller ever holds a reference meant for a link (which {@link #ref}
   * then {@link #link} leaves behind when interrupted between the two). A target {@code from}
   * links to already, at its current incarnation, is left unchanged, so calling again after a
   * failure or a crash makes exactly the links still missing; a link to an earlier incarnation of
   * a target is replaced (PROTO-1); a target listed twice is linked once. The caller's own
   * references, if any, are neither used nor changed, and a target may have none (count 0).
   *
   * <p>If it throws after checking, each target {@code from} now links to (see {@link Info#links})
   * holds the link's reference, and the others are as they were, except that a store whose links
   * are not one atomic change may, after a failure or a crash, keep for a bounded time one
   * reference more on a target it was about to link; it gives it back by itself once that time is
   * past (the S3 store: gc or {@code fsck --repair}, TREE-3 in docs/architecture.md). Thread-safe
   * as every operation of the store.
   *
   * @throws NotFoundException if {@code from} or a target does not exist, naming it; nothing was
   *     changed
   */
  void linkNew(Collection<Digest> to, Digest from);

  /**
   * Removes the link from {@code from} to {@code to} and dereferences {@code to}; a no-op if there is
   * no such link.
   *
   * @throws NotFoundException if either blob does not exist
   */
  void unlink(Digest to, Digest from);
}
