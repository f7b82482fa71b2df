package dev.coffer.store;

/**
 * Reference counts and links between blobs, the seed blob store's role, made safe for many hosts.
 *
 * <p>A blob committed with {@link Writer#commitAndRef} starts at one reference. A blob whose count
 * falls to zero through {@link #deref} is removed, and each blob it links to is dereferenced in turn
 * (a cascade that terminates on cycles). A blob may link to another: the link holds one reference of
 * its target. Every step changes one blob's record atomically, so a crash in a cascade may leave a
 * blob over-referenced, never a referenced blob removed.
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
   * Records that {@code from} links to {@code to}, transferring the caller's reference to {@code to}
   * to the link: {@code to}'s count does not change. If the link exists already, the caller's
   * reference is dropped instead ({@code to} loses one reference).
   *
   * @throws NotFoundException if either blob does not exist
   * @throws FailedPreconditionException if {@code to} has no reference to transfer (count 0)
   */
  void link(Digest to, Digest from);

  /**
   * Removes the link from {@code from} to {@code to} and dereferences {@code to}; a no-op if there is
   * no such link.
   *
   * @throws NotFoundException if either blob does not exist
   */
  void unlink(Digest to, Digest from);
}
