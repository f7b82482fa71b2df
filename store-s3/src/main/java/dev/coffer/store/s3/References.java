package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reference graph of one store: reference counts and links held in the index records, each
 * change one compare-and-swap of one record (PROTO-3), and the cascade that releases what a blob's
 * links hold when it leaves the live state. References and links spend only the incarnation they
 * were taken on (PROTO-1). The store checks that it is open before calling; thread-safe.
 */
final class References {
  private static final Logger LOG = LoggerFactory.getLogger(References.class);

  private final IndexRecords records;
  private final S3StoreConfig config;
  private final ParallelReads reads;

  References(IndexRecords records, S3StoreConfig config, ParallelReads reads) {
    this.records = records;
    this.config = config;
    this.reads = reads;
  }

  private long now() {
    return Times.now(config.clock());
  }

  /**
   * One reference more, by compare-and-swap starting from the version of the record this store
   * last knows ({@link IndexRecords#casKnown}): a put's reference on the tree it has just linked
   * costs no read.
   */
  Info ref(Digest digest) {
    long now = now();
    IndexRecord after = records.casKnown(digest, record -> {
      if (record != null && record.isExpired()) {
        return record.resurrected(now, records.newIncarnation(), 1); // a use revives it (RET-3)
      }
      IndexRecords.requireLive(digest, record);
      return record.withRefCount(record.refCount() + 1).usedAt(now);
    });
    records.mirrorTags(digest, after);
    return after.toInfo();
  }

  /**
   * Removes one reference ({@code whole} false) or the blob itself ({@code whole} true) by CAS;
   * a blob that leaves the live state releases what its links hold, by cascade.
   *
   * @param incarnation the incarnation the reference was taken on, 0 for any (PROTO-1)
   */
  void release(Digest digest, boolean whole, long incarnation) {
    release(digest, whole, incarnation, null);
  }

  /**
   * {@link #release(Digest, boolean, long)} of the reference a link made by operation {@code op}
   * of {@code linkNew} holds (null: any other): the change also removes that operation's mark,
   * if still there, since the mark's reference is the one released (TREE-3).
   */
  private void release(Digest digest, boolean whole, long incarnation, String op) {
    long now = now();
    IndexRecord after = records.casIndex(digest, record -> {
      IndexRecords.requireLive(digest, record);
      if (!record.isIncarnation(incarnation)) {
        throw new NotFoundException("content " + digest + " not found: incarnation "
            + Long.toHexString(incarnation) + " was deleted, and the blob committed anew since");
      }
      if (whole || record.refCount() == 1) {
        return record.deleting(now);
      }
      if (record.refCount() == 0) {
        throw new FailedPreconditionException("blob " + digest + " has no reference to remove");
      }
      return unmarked(record, op).withRefCount(record.refCount() - 1);
    });
    records.mirrorTags(digest, after);
    if (!after.isLive()) {
      cascade(after, digest);
    }
  }

  /** {@code record} without the mark of {@code op}, if any. */
  private static IndexRecord unmarked(IndexRecord record, String op) {
    return op == null || record.mark(op) == null ? record : record.withoutMark(op);
  }

  void link(Digest to, Digest from) {
    IndexRecord target = records.liveRecord(to);
    AtomicBoolean existed = new AtomicBoolean();
    records.casIndex(from, record -> {
      IndexRecords.requireLive(from, record);
      boolean linked = record.links().contains(to.toString());
      // A link to an earlier incarnation of `to` holds nothing of this one (PROTO-1): it is
      // replaced by a link holding the caller's reference, never counted as linked already.
      existed.set(linked && target.isIncarnation(record.linkIncarnation(to)));
      if (existed.get()) {
        return null;
      }
      if (target.refCount() == 0) {
        throw new FailedPreconditionException(
            "blob " + to + " has no reference to transfer to a link from " + from);
      }
      return (linked ? record.withoutLink(to) : record).withLink(to, target.incarnation());
    });
    if (existed.get()) {
      release(to, false, 0); // the link already holds a reference: drop the caller's
    }
  }

  /**
   * {@link #link} to each of {@code to} in one change of {@code from}'s record (PROTO-11): the
   * targets' records are read in parallel, one compare-and-swap of {@code from}'s record adds
   * every new link (a link to an earlier incarnation of its target replaced, PROTO-1), and then
   * each target linked already (or listed again) loses the caller's reference. A target missing,
   * or with no reference to transfer, fails the call before anything changes.
   */
  void linkAll(Collection<Digest> to, Digest from) {
    if (to.isEmpty()) {
      return;
    }
    Map<Digest, IndexRecord> targets = records.records(new HashSet<>(to), reads);
    targets.forEach(IndexRecords::requireLive);
    List<Digest> drops = new ArrayList<>();
    records.casIndex(from, record -> {
      IndexRecords.requireLive(from, record);
      drops.clear();
      Set<String> present = new HashSet<>(record.links());
      Map<Digest, Long> added = new LinkedHashMap<>();
      for (Digest t : to) {
        IndexRecord target = targets.get(t);
        boolean linkedAlready = added.containsKey(t) || present.contains(t.toString())
            && target.isIncarnation(record.linkIncarnation(t));
        if (linkedAlready) {
          drops.add(t);
        } else if (target.refCount() == 0) {
          throw new FailedPreconditionException(
              "blob " + t + " has no reference to transfer to a link from " + from);
        } else {
          added.put(t, target.incarnation());
        }
      }
      return added.isEmpty() ? null : record.withLinks(added);
    });
    for (Digest t : drops) {
      release(t, false, 0); // the link already holds a reference: drop the caller's
    }
  }

  void unlink(Digest to, Digest from) {
    IndexRecord target = records.liveRecord(to);
    if (!target.pending().isEmpty()) {
      // A link made by linkNew whose mark is still there: the mark is kept (the link holds its
      // reference) before the link goes, so no one finds the link gone and the mark droppable
      // while this release is on its way (TREE-3).
      IndexRecord source = records.liveRecord(from);
      String op = source.linkOp(to);
      if (op != null && target.mark(op) != null) {
        LinkMarks.keep(records, to, op);
      }
    }
    AtomicBoolean removed = new AtomicBoolean();
    AtomicLong incarnation = new AtomicLong();
    AtomicReference<String> op = new AtomicReference<>();
    records.casIndex(from, record -> {
      IndexRecords.requireLive(from, record);
      removed.set(record.links().contains(to.toString()));
      incarnation.set(record.linkIncarnation(to));
      op.set(record.linkOp(to));
      return removed.get() ? record.withoutLink(to) : null;
    });
    if (removed.get()) {
      try {
        release(to, false, incarnation.get(), op.get());
      } catch (NotFoundException e) {
        // The link held a reference of an incarnation of `to` that is gone: nothing to release.
        LOG.debug("unlink {} -> {}: {}", from, to, e.getMessage());
      }
    }
  }

  /**
   * Releases the references held by the links of blobs that just left the live state, iteratively;
   * each blob is released at most once per cascade, so cycles terminate. Dangling links and blobs
   * without references are skipped.
   */
  void cascade(IndexRecord first, Digest origin) {
    cascade(first, origin, false);
  }

  /**
   * {@link #cascade(IndexRecord, Digest)}; with {@code expiry}, blobs it leaves without a
   * reference are expired rather than deleted, so a use within the grace brings them back (RET-4).
   */
  void cascade(IndexRecord first, Digest origin, boolean expiry) {
    record Link(Digest to, long incarnation, String op) {}
    Deque<Link> pending = new ArrayDeque<>();
    first.linkDigests().forEach(to -> pending.add(
        new Link(to, first.linkIncarnation(to), first.linkOp(to))));
    Set<Digest> removed = new HashSet<>();
    removed.add(origin);
    long now = now();
    while (!pending.isEmpty()) {
      Link link = pending.pop();
      Digest digest = link.to();
      AtomicBoolean skip = new AtomicBoolean();
      IndexRecord after;
      try {
        after = records.casIndex(digest, record -> {
          if (record == null) {
            return null; // a dangling link to a purged blob: casIndex says NotFound
          }
          if (!record.isLive() || record.refCount() == 0
              || !record.isIncarnation(link.incarnation())) {
            // Also a later incarnation: its references are not this link's (PROTO-1).
            skip.set(true);
            return null;
          }
          if (record.refCount() > 1) {
            return unmarked(record, link.op()).withRefCount(record.refCount() - 1);
          }
          return expiry ? record.expiring(now) : record.deleting(now);
        });
      } catch (NotFoundException e) {
        continue;
      }
      if (skip.get()) {
        continue;
      }
      records.mirrorTags(digest, after);
      if (!after.isLive() && removed.add(digest)) {
        after.linkDigests().forEach(to -> pending.add(
            new Link(to, after.linkIncarnation(to), after.linkOp(to))));
      }
    }
  }
}
