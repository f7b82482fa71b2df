package dev.coffer.store.memory;

import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.spi.Labels;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The blob table and its references: lookups, label updates, uses, {@code ref}, {@code deref},
 * {@code link}, {@code unlink} and the cascade that releases what a removed blob's links hold. Not
 * thread-safe: every method is called with the store's monitor held, which makes each cascade
 * atomic.
 */
final class MemoryBlobs {

  /** How often a blob's use is recorded: as the S3 store's default touch interval, one day. */
  static final Duration TOUCH_INTERVAL = Duration.ofDays(1);

  private final Clock clock;
  private final Map<Digest, MemoryBlob> blobs = new HashMap<>();
  /** The incarnation of the last blob committed (PROTO-1); every commit of new content counts. */
  private long incarnations;

  MemoryBlobs(Clock clock) {
    this.clock = clock;
  }

  Instant now() {
    return clock.instant();
  }

  /** The live table, for maintenance that walks it with the monitor held. */
  Map<Digest, MemoryBlob> table() {
    return blobs;
  }

  /** The blob stored under {@code digest}, or null. */
  MemoryBlob get(Digest digest) {
    return blobs.get(digest);
  }

  /** The blob stored under {@code digest}; NotFound when there is none. */
  MemoryBlob live(Digest digest) {
    MemoryBlob blob = blobs.get(digest);
    if (blob == null) {
      throw new NotFoundException("content " + digest + " not found");
    }
    return blob;
  }

  /** Records a use of {@code blob} unless one within the touch interval is recorded (RET-1). */
  void used(MemoryBlob blob) {
    Instant now = now();
    if (!blob.lastUsedAt.plus(TOUCH_INTERVAL).isAfter(now)) {
      blob.lastUsedAt = now;
    }
  }

  /** Stores new content under {@code digest} as the next incarnation (PROTO-1). */
  MemoryBlob add(Digest digest, byte[] data, Map<String, String> labels, long refCount) {
    MemoryBlob blob = new MemoryBlob(data, now(), labels, refCount, ++incarnations);
    blobs.put(digest, blob);
    return blob;
  }

  /** Removes {@code digest}'s blob, which must be stored, and releases what its links hold. */
  void remove(Digest digest) {
    MemoryBlob blob = blobs.remove(digest);
    cascade(blob.links);
  }

  Info update(Info info, String... fieldpaths) {
    Digest digest = info.digest();
    MemoryBlob blob = live(digest);
    Map<String, String> labels = new TreeMap<>(blob.labels);
    if (fieldpaths == null || fieldpaths.length == 0) {
      labels = new TreeMap<>(info.labels());
    } else {
      for (String path : fieldpaths) {
        if ("labels".equals(path)) {
          labels = new TreeMap<>(info.labels());
        } else if (path != null && path.startsWith("labels.") && path.length() > 7) {
          String key = path.substring(7);
          String value = info.labels().get(key);
          if (value == null || value.isEmpty()) {
            labels.remove(key);
          } else {
            labels.put(key, value);
          }
        } else {
          throw new InvalidArgumentException("cannot update field \"" + path + "\" of " + digest
              + ": only labels and labels.<key> can be updated");
        }
      }
    }
    labels.values().removeIf(String::isEmpty);
    Labels.validate(labels);
    blob.labels = Map.copyOf(labels);
    blob.updatedAt = now();
    return blob.info(digest);
  }

  /** The infos of every blob stored now. */
  List<Info> snapshot() {
    List<Info> snapshot = new ArrayList<>();
    blobs.forEach((d, b) -> snapshot.add(b.info(d)));
    return snapshot;
  }

  Info ref(Digest digest) {
    MemoryBlob blob = live(digest);
    blob.refCount++;
    used(blob);
    return blob.info(digest);
  }

  void deref(Digest digest) {
    MemoryBlob blob = live(digest);
    if (blob.refCount == 0) {
      throw new FailedPreconditionException("blob " + digest + " has no reference to remove");
    }
    if (--blob.refCount == 0) {
      blobs.remove(digest);
      cascade(blob.links);
    }
  }

  void deref(Digest digest, long incarnation) {
    MemoryBlob blob = live(digest);
    if (incarnation != 0 && blob.incarnation != incarnation) {
      throw new NotFoundException("content " + digest + " not found: incarnation " + incarnation
          + " was deleted, and the blob committed anew since");
    }
    deref(digest);
  }

  void link(Digest to, Digest from) {
    MemoryBlob target = live(to);
    MemoryBlob source = live(from);
    Long linked = source.links.get(to);
    if (linked != null && linked == target.incarnation) {
      deref(to); // the link already holds a reference: drop the caller's
      return;
    }
    // A link to an earlier incarnation holds nothing of this one (PROTO-1): it is replaced.
    if (target.refCount == 0) {
      throw new FailedPreconditionException(
          "blob " + to + " has no reference to transfer to a link from " + from);
    }
    source.links.put(to, target.incarnation);
  }

  /**
   * Links {@code from} to each target it does not link to at the target's incarnation, each link
   * with a reference of its own; every blob is looked up before anything changes.
   */
  void linkNew(Collection<Digest> to, Digest from) {
    MemoryBlob source = live(from);
    Map<Digest, MemoryBlob> targets = new java.util.LinkedHashMap<>();
    for (Digest t : to) {
      targets.put(t, live(t));
    }
    targets.forEach((t, target) -> {
      Long linked = source.links.get(t);
      if (linked == null || linked != target.incarnation) {
        target.refCount++;
        source.links.put(t, target.incarnation);
      }
    });
  }

  void unlink(Digest to, Digest from) {
    live(to);
    MemoryBlob source = live(from);
    if (source.links.containsKey(to)) {
      long incarnation = source.links.remove(to);
      if (live(to).incarnation == incarnation) {
        deref(to);
      }
    }
  }

  /** Dereferences every target of removed links, iteratively, so that cycles terminate. */
  private void cascade(Map<Digest, Long> firstTargets) {
    Deque<Map.Entry<Digest, Long>> pending = new ArrayDeque<>(firstTargets.entrySet());
    Set<Digest> removed = new HashSet<>();
    while (!pending.isEmpty()) {
      Map.Entry<Digest, Long> link = pending.pop();
      Digest digest = link.getKey();
      MemoryBlob blob = blobs.get(digest);
      if (blob == null || blob.refCount == 0 || blob.incarnation != link.getValue()) {
        // A dangling link, a blob committed without references, or a later incarnation whose
        // references are not this link's (PROTO-1): nothing to release.
        continue;
      }
      if (--blob.refCount == 0 && removed.add(digest)) {
        blobs.remove(digest);
        pending.addAll(blob.links.entrySet());
      }
    }
  }
}
