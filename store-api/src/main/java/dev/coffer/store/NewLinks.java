package dev.coffer.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;

/**
 * One {@link ReferenceCounter#linkNew} from {@link #from()} whose operation is drawn before its
 * targets are stored ({@link ContentStore#newLinks}): content that {@link #put} creates is created
 * already holding the reference that this operation's link to it will hold, so that {@link #link}
 * makes that content's link without a change of its own (on S3, its index record is created with
 * the marked reference of this operation and its object with its tags; docs/architecture.md,
 * "The mark at creation", PROTO-13).
 *
 * <p>Who holds what:
 *
 * <ul>
 *   <li>{@link #put} as {@link Ingester#put} ({@link #putFile} as {@link Ingester#putFile}):
 *       content stored already is AlreadyExists and is not changed. Content it creates may start
 *       at one reference rather than none: that reference is not the caller's (never {@link
 *       ReferenceCounter#deref} it) but this operation's link's.
 *   <li>{@link #link} is exactly {@code linkNew(to, from())}: each target {@code from} does not
 *       link to yet gains a link holding one reference, and for content {@link #put} created that
 *       reference is the one it was created with (its count does not change). A target found
 *       linked already (by another call) has the reference it was created with given back.
 *   <li>If no {@link #link} of this operation ever lists content {@link #put} created (the
 *       caller killed before it, or failing), that content keeps its one reference more for a
 *       bounded time, and the store gives it back by itself once that time is past (the S3
 *       store: gc or {@code fsck --repair} past {@code pendingLinkBound()}, as for the marks of
 *       a killed {@code linkNew}, INV-12); a store whose {@code linkNew} is one atomic change
 *       creates the content at count 0 and has nothing to give back. Killed in {@link #link}:
 *       as a killed {@code linkNew}. Killed before the put's record exists: as {@link
 *       Ingester#put} killed.
 * </ul>
 *
 * <p>Thread-safe: puts and links may be made from many threads, and {@link #link} called many
 * times, each with content put through this operation and other targets (the S3 store makes the
 * links of one operation one call at a time: its calls share the operation's marks). An operation is meant
 * to be linked soon after its puts (the S3 store refuses, Aborted, a link sent more than five
 * minutes after the oldest put it links, and gc may give a put's reference back once past the
 * bound); a caller whose {@link #link} fails with NotFound or Aborted links its targets again
 * with a plain {@code linkNew}.
 */
public interface NewLinks {

  /** The blob this operation links from. */
  Digest from();

  /**
   * Stores content as {@link Ingester#put} does, created (if new) holding the reference of this
   * operation's link to it.
   *
   * @throws AlreadyExistsException if the content is stored already; nothing changed
   */
  Info put(byte[] content, Digest expected, Map<String, String> labels);

  /**
   * Stores the content of {@code file}, whose digest the caller knows, as {@link
   * Ingester#putFile} does, created (if new) holding the reference of this operation's link to
   * it, as {@link #put}.
   *
   * @throws IOException if the file cannot be read
   * @throws FailedPreconditionException if the bytes read do not have the {@code expected}
   *     digest; nothing is stored
   * @throws AlreadyExistsException if the content is stored already; nothing changed
   */
  Info putFile(Path file, Digest expected, Map<String, String> labels) throws IOException;

  /**
   * {@code linkNew(to, from())} as this operation: see {@link ReferenceCounter#linkNew}.
   *
   * @throws NotFoundException if {@code from} or a target is not live, or {@code from} is no
   *     longer the incarnation this operation was drawn for; the references content put through
   *     this operation was created with are given back (or left to the store's bound)
   */
  void link(Collection<Digest> to);
}
