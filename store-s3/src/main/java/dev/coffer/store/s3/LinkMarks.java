package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumption of marked references ({@link LinkMark}, TREE-3) other than by their link's
 * release: kept (the mark removed, the count unchanged) once the link holds the reference, or
 * dropped (the mark removed with the count less one) once the link can no longer be made. A mark older than {@link #bound} is resolved by gc and {@code fsck --repair}:
 * its source is first fenced (its record refuses the operation's link from then on), and the
 * source's links, read in that same change, tell which of the two applies. Thread-safe.
 */
final class LinkMarks {
  private static final Logger LOG = LoggerFactory.getLogger(LinkMarks.class);

  private final IndexRecords records;
  private final S3StoreConfig config;
  LinkMarks(IndexRecords records, S3StoreConfig config) {
    this.records = records;
    this.config = config;
  }

  /** {@link S3StoreConfig#pendingLinkBound()}. */
  static Duration bound(S3StoreConfig config) {
    return config.pendingLinkBound();
  }

  private long now() {
    return Times.now(config.clock());
  }

  /** Removes mark {@code op} of {@code to}, if there, leaving the count: the link holds it. */
  static void keep(IndexRecords records, Digest to, String op) {
    try {
      records.casIndex(to, r -> r != null && r.isLive() && r.mark(op) != null
          ? r.withoutMark(op) : null);
    } catch (NotFoundException gone) {
      // nothing to keep
    }
  }

  /**
   * Removes mark {@code op} of {@code to}, if there, with one reference: no link holds it, nor
   * can one. A record left without references stays live at count 0, as a blob committed without
   * one (linkNew's targets may have none): the count is what it would be had the call never been
   * made, and retention (gc by last use) reclaims it if nothing takes it.
   *
   * @return whether the mark was there and is gone
   */
  boolean drop(Digest to, String op) {
    AtomicBoolean dropped = new AtomicBoolean();
    IndexRecord after;
    try {
      after = records.casIndex(to, r -> {
        dropped.set(false);
        if (r == null || !r.isLive() || r.mark(op) == null) {
          return null;
        }
        dropped.set(true);
        return r.withoutMark(op).withRefCount(Math.max(0, r.refCount() - 1));
      });
    } catch (NotFoundException gone) {
      return false;
    }
    if (dropped.get()) {
      records.mirrorTags(to, after);
    }
    return dropped.get();
  }

  /**
   * Resolves each mark of {@code record} (the live record of {@code to}) older than the bound:
   * fences its source, then keeps or drops it. A mark whose fence fails is left for the next run.
   *
   * @return the marks dropped
   */
  int resolve(Digest to, IndexRecord record) {
    long cutoff = now() - bound(config).toNanos();
    int dropped = 0;
    for (LinkMark mark : List.copyOf(record.pending())) {
      if (mark.at() > cutoff) {
        continue;
      }
      Set<Digest> linked;
      try {
        linked = fence(Digest.parse(mark.from()), mark.fromIncarnation(), mark.op(), Set.of(to));
      } catch (StoreException e) {
        LOG.warn("could not fence {} for the link marked on {}: {}", mark.from(), to,
            e.getMessage());
        continue;
      }
      if (linked.contains(to)) {
        keep(records, to, mark.op());
      } else if (drop(to, mark.op())) {
        dropped++;
      }
    }
    return dropped;
  }

  /**
   * Makes sure no link of operation {@code op} from {@code from} can be made any more, and says
   * which of {@code targets} {@code from} links to by that operation now: one compare-and-swap of
   * {@code from}'s record adding {@code op} to its fenced operations, unless it is gone, is not
   * incarnation {@code fromIncarnation} live (a link needs both), is fenced already, or links
   * every target by {@code op}.
   *
   * @throws StoreException if the fence could not be written (Aborted, Unknown)
   */
  Set<Digest> fence(Digest from, long fromIncarnation, String op, Set<Digest> targets) {
    long now = now();
    Duration bound = bound(config);
    IndexRecord after;
    try {
      after = records.casIndex(from, r -> {
        if (r == null || !r.isLive() || !r.isIncarnation(fromIncarnation) || r.isFenced(op)
            || targets.stream().allMatch(t -> op.equals(r.linkOp(t)))) {
          return null;
        }
        return r.withFence(op, now, bound);
      });
    } catch (NotFoundException gone) {
      return Set.of(); // purged: what its links held was released when it was deleted
    }
    Set<Digest> linked = new HashSet<>();
    targets.forEach(t -> {
      if (op.equals(after.linkOp(t))) {
        linked.add(t);
      }
    });
    return linked;
  }
}
