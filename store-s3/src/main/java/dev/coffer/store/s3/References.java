package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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

  References(IndexRecords records, S3StoreConfig config) {
    this.records = records;
    this.config = config;
  }

  private long now() {
    return Times.now(config.clock());
  }

  Info ref(Digest digest) {
    IndexRecord after = records.casIndex(digest, record -> {
      IndexRecords.requireLive(digest, record);
      return record.withRefCount(record.refCount() + 1);
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
      return record.withRefCount(record.refCount() - 1);
    });
    records.mirrorTags(digest, after);
    if (!after.isLive()) {
      cascade(after, digest);
    }
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

  void unlink(Digest to, Digest from) {
    records.liveRecord(to);
    AtomicBoolean removed = new AtomicBoolean();
    AtomicLong incarnation = new AtomicLong();
    records.casIndex(from, record -> {
      IndexRecords.requireLive(from, record);
      removed.set(record.links().contains(to.toString()));
      incarnation.set(record.linkIncarnation(to));
      return removed.get() ? record.withoutLink(to) : null;
    });
    if (removed.get()) {
      try {
        release(to, false, incarnation.get());
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
    record Link(Digest to, long incarnation) {}
    Deque<Link> pending = new ArrayDeque<>();
    first.linkDigests().forEach(to -> pending.add(new Link(to, first.linkIncarnation(to))));
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
          return record.refCount() == 1 ? record.deleting(now)
              : record.withRefCount(record.refCount() - 1);
        });
      } catch (NotFoundException e) {
        continue;
      }
      if (skip.get()) {
        continue;
      }
      records.mirrorTags(digest, after);
      if (!after.isLive() && removed.add(digest)) {
        after.linkDigests().forEach(to -> pending.add(new Link(to, after.linkIncarnation(to))));
      }
    }
  }
}
