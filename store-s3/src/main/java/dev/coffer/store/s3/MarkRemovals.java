package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The removals of the marks of one {@code linkNew} call ({@link LinkNew}, PROTO-13): step 4, which
 * removes each mark whose reference a new link now holds (the count unchanged), confirms the
 * targets marked at their creation and removes a new link found to hold nothing; and the
 * give-backs of marks no link of the call will hold (each mark removed with one reference, {@link
 * LinkMarks#drop}), but for a creation mark that a link of its own operation holds, which is
 * kept ({@link LinkMarks#keep}).
 *
 * <p>Best effort, with one exception: a removal that fails is logged and leaves its mark to gc
 * and {@code fsck --repair} past {@link LinkMarks#bound}, which fence the mark's source and then
 * keep or drop it; a link found to hold nothing that cannot be removed names an incarnation that
 * is not live. The exception: a target created marked whose step 4 write fails is confirmed by a
 * read instead, and if that read fails too (and no other target is found lost) {@link #afterLinks}
 * throws the write's failure, since the call cannot then answer success. Thread-safe; step 4's writes are made in parallel on the
 * store's workers, the give-backs one after another on the caller's thread.
 */
final class MarkRemovals {
  private static final Logger LOG = LoggerFactory.getLogger(MarkRemovals.class);

  private final IndexRecords records;
  private final S3StoreConfig config;
  private final ExecutorService workers;
  private final LinkMarks marks;

  MarkRemovals(IndexRecords records, S3StoreConfig config, ExecutorService workers,
      LinkMarks marks) {
    this.records = records;
    this.config = config;
    this.workers = workers;
    this.marks = marks;
  }

  /**
   * Once step 3's outcome is known ({@code linked}, {@code from}'s record as step 3 wrote or read
   * it): a mark of {@code op} on a target of {@code marked} that {@code linked} does not link by
   * {@code op} is given back first; then step 4 removes each other mark, starting from the version
   * {@code marked} holds for its target (step 2's write, or the record read or remembered at step
   * 1 for a target of {@code created}). A target of {@code created} (marked at its creation, step 2
   * not made for it, so no write has confirmed its version, PROTO-14) is confirmed by that write:
   * one found gone, not live, or live at another incarnation than the one its new link names
   * (deleted, or stored anew, before the link was made) keeps its record as it is, and its link,
   * which holds no reference, is removed from {@code from}'s record if still there as made.
   *
   * @return the targets of {@code created} that their new links do not hold, in {@code marked}'s
   *     order; the call is NotFound if there is one
   * @throws StoreException the failure of a step 4 write on a target of {@code created} whose
   *     record could not be read either, when none is found lost (the call's outcome unclear)
   */
  List<Digest> afterLinks(Digest from, Map<Digest, IndexRecords.Versioned> marked,
      Set<Digest> created, IndexRecord linked, String op) {
    List<Digest> unlinked = new ArrayList<>();
    marked.keySet().forEach(t -> {
      if (!op.equals(linked.linkOp(t))) {
        unlinked.add(t);
      }
    });
    giveBack(unlinked, op);
    List<Digest> lost = unmark(marked, unlinked, op, created, linked);
    if (!lost.isEmpty()) {
      unlinkLost(from, lost, linked, op);
    }
    return lost;
  }

  /**
   * The marks made at creation on {@code created} that the call will not link: each is kept
   * (removed, the count unchanged) where {@code source}, at the drawn incarnation, live or being
   * deleted, links its target by the drawn operation (an earlier call of it made the link, and
   * its step 4 did not remove the mark; a deleted source's cascade releases that reference),
   * else given back ({@link #giveBack}).
   *
   * @param source {@code from}'s record as the call read it, or null if there is none
   * @param drawn the call's operation; not used when {@code created} is empty (a plain call)
   */
  void giveBackCreated(Collection<Digest> created, IndexRecord source, LinkNew.Drawn drawn) {
    if (created.isEmpty()) {
      return; // a plain linkNew (no drawn operation), or no target created marked
    }
    List<Digest> unheld = new ArrayList<>();
    for (Digest t : created) {
      // Live or not: a deleted source's link still holds its reference until its cascade
      // releases it (with the mark, if there), as gc's fence reads it (LinkMarks.fence).
      boolean held = source != null && source.isIncarnation(drawn.fromIncarnation())
          && drawn.op().equals(source.linkOp(t));
      if (held) {
        try {
          LinkMarks.keep(records, t, drawn.op());
        } catch (StoreException e) {
          LOG.debug("a mark of {} is left to gc: {}", drawn.op(), e.getMessage());
        }
      } else {
        unheld.add(t);
      }
    }
    giveBack(unheld, drawn.op());
  }

  /**
   * Gives back the marked references of {@code op} on {@code targets} (no link holds them, nor
   * can one of this call): each mark still there is removed with one reference, one target after
   * another.
   */
  void giveBack(Collection<Digest> targets, String op) {
    for (Digest t : targets) {
      try {
        marks.drop(t, op);
      } catch (StoreException e) {
        LOG.warn("could not give back the reference marked on {}; gc does once {} old: {}", t,
            LinkMarks.bound(config), e.getMessage());
      }
    }
  }

  /**
   * Step 4: removes the marks whose references the links now hold, in parallel; best effort.
   * A target marked at its creation, whose mark step 2 did not confirm (its version may be
   * remembered, PROTO-14), is checked by this write: one found not live at the incarnation its
   * new link names (deleted, or stored anew, before the link was made) is returned, its link
   * holding no reference. One whose write fails is confirmed by a read of its record instead
   * (lost if not live at that incarnation); if that read fails too, unless another is found
   * lost, the write's failure is thrown (the call's outcome unclear: its link may hold nothing),
   * never a success.
   *
   * @return the targets created marked that the links do not hold
   */
  private List<Digest> unmark(Map<Digest, IndexRecords.Versioned> marked, List<Digest> unlinked,
      String op, Set<Digest> created, IndexRecord linked) {
    Map<Digest, CompletableFuture<Boolean>> futures = new LinkedHashMap<>();
    marked.forEach((t, v) -> {
      if (unlinked.contains(t)) {
        return;
      }
      boolean check = created.contains(t);
      long incarnation = linked.linkIncarnation(t);
      futures.put(t, CompletableFuture.supplyAsync(() -> {
        AtomicBoolean lost = new AtomicBoolean();
        try {
          records.casIndex(t, r -> {
            lost.set(check && (r == null || !r.isLive() || !r.isIncarnation(incarnation)));
            return !lost.get() && r != null && r.isLive() && r.mark(op) != null
                ? r.withoutMark(op) : null;
          }, v.fetched());
        } catch (NotFoundException gone) {
          lost.set(check);
        }
        return lost.get();
      }, workers));
    });
    List<Digest> lost = new ArrayList<>();
    StoreException unconfirmed = null;
    for (Map.Entry<Digest, CompletableFuture<Boolean>> e : futures.entrySet()) {
      try {
        if (S3Errors.join(e.getValue(), "removing a mark")) {
          lost.add(e.getKey());
        }
      } catch (StoreException f) {
        LOG.debug("a mark of {} is left to gc: {}", op, f.getMessage());
        if (!created.contains(e.getKey())) {
          continue;
        }
        // A target created marked whose write failed is confirmed by a read instead: it may have
        // been deleted (or stored anew) since, its new link then holding nothing.
        Digest t = e.getKey();
        try {
          IndexRecord r = records.parse(t, records.fetch(t));
          if (r == null || !r.isLive() || !r.isIncarnation(linked.linkIncarnation(t))) {
            lost.add(t);
          }
        } catch (StoreException unread) {
          f.addSuppressed(unread);
          unconfirmed = unconfirmed == null ? f : unconfirmed;
        }
      }
    }
    if (lost.isEmpty() && unconfirmed != null) {
      throw unconfirmed; // unconfirmed: the call cannot answer success, its link may hold nothing
    }
    return lost;
  }

  /**
   * Removes from {@code from}'s record the links of operation {@code op} to {@code lost} that
   * name the incarnations {@code linked} named (they hold no reference); best effort, a link left
   * names an incarnation that is not live and holds nothing.
   */
  private void unlinkLost(Digest from, List<Digest> lost, IndexRecord linked, String op) {
    try {
      records.casIndex(from, r -> {
        if (r == null || !r.isLive()) {
          return null;
        }
        IndexRecord after = r;
        for (Digest t : lost) {
          if (op.equals(r.linkOp(t)) && r.linkIncarnation(t) == linked.linkIncarnation(t)) {
            after = after.withoutLink(t);
          }
        }
        return after == r ? null : after;
      });
    } catch (StoreException e) {
      LOG.debug("a link of {} to a blob not live is left: {}", op, e.getMessage());
    }
  }
}
