package dev.coffer.store.s3;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The index record of one blob, stored as JSON at {@code P/index/<alg>/<hex>}: the only truth about
 * the blob. Every change is a compare-and-swap of the whole record (PutObject If-Match).
 *
 * <p>Format version 1. Times are nanoseconds since the epoch on the writing client's clock.
 * {@code state} is {@code live}; {@code deleting} once its count fell to zero or it was deleted
 * (readers see NotFound); or {@code purging} while a purge holds it. {@code stateChangedAt} stamps
 * the last change of state, from which the deletion grace and the purge timeout count. The format
 * and the transitions are stated in docs/architecture.md ("Records", "The protocol in steps").
 *
 * <p>{@code incarnation} is drawn at random whenever a record becomes live from nothing or from
 * {@code deleting} (a creation or a resurrection), and {@code linkIncarnations} keeps, for each
 * link, the incarnation of its target whose reference the link holds (PROTO-1). Records written
 * before incarnations existed read as incarnation 0 and links without one, which match any.
 *
 * <p>{@code lastUsedAt} is the last use the hosts recorded (RET-1), 0 in records written before
 * uses were recorded (then the later of {@code createdAt} and {@code updatedAt} stands for it);
 * {@code expired} marks a {@code deleting} record that gc expired by last use rather than one
 * deleted or dereferenced to zero: a use within the grace brings it back (RET-3).
 *
 * <p>{@code pending} holds the marked references of {@code linkNew} calls whose links are not
 * confirmed yet (each counted in {@code refCount}), {@code linkOps} the operation of {@code
 * linkNew} that made each such link, and {@code fenced} the operations whose links this record
 * refuses (PROTO-13, {@link LinkMark}); all three are written only when not empty.
 */
record IndexRecord(
    int version,
    String digest,
    long size,
    long createdAt,
    long updatedAt,
    Map<String, String> labels,
    long refCount,
    List<String> links,
    State state,
    long stateChangedAt,
    List<String> ops,
    long incarnation,
    Map<String, Long> linkIncarnations,
    long lastUsedAt,
    boolean expired,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<LinkMark> pending,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<LinkMark.Fence> fenced,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> linkOps) {

  static final int VERSION = 1;
  /** How many of the latest changes' operation ids a record keeps whatever their age. */
  static final int RECENT_OPS = 8;
  /** How long a record keeps the operation id of a change (PROTO-3). */
  static final Duration OP_RETENTION = Duration.ofMinutes(15);

  enum State {
    @JsonProperty("live") LIVE,
    @JsonProperty("deleting") DELETING,
    @JsonProperty("purging") PURGING
  }

  IndexRecord {
    labels = labels == null ? Map.of() : new TreeMap<>(labels);
    links = links == null ? List.of() : List.copyOf(links);
    ops = ops == null ? List.of() : List.copyOf(ops);
    linkIncarnations = linkIncarnations == null ? Map.of() : new TreeMap<>(linkIncarnations);
    pending = pending == null ? List.of() : List.copyOf(pending);
    fenced = fenced == null ? List.of() : List.copyOf(fenced);
    linkOps = linkOps == null ? Map.of() : new TreeMap<>(linkOps);
  }

  /**
   * A record of content committed anew, as a new incarnation.
   *
   * @param incarnation a fresh random value, not 0
   */
  static IndexRecord live(Digest digest, long size, long now, Map<String, String> labels,
      long refCount, long incarnation) {
    return new IndexRecord(VERSION, digest.toString(), size, now, now, labels, refCount, List.of(),
        State.LIVE, now, List.of(), incarnation, Map.of(), now, false, List.of(), List.of(),
        Map.of());
  }

  boolean isLive() {
    return state == State.LIVE;
  }

  IndexRecord withLabels(Map<String, String> newLabels, long now) {
    return new IndexRecord(version, digest, size, createdAt, now, newLabels, refCount, links, state,
        stateChangedAt, ops, incarnation, linkIncarnations, lastUsedAt, expired, pending,
        fenced, linkOps);
  }

  IndexRecord withRefCount(long count) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, count, links, state,
        stateChangedAt, ops, incarnation, linkIncarnations, lastUsedAt, expired, pending,
        fenced, linkOps);
  }

  IndexRecord withLinks(List<String> newLinks) {
    Map<String, Long> incarnations = new TreeMap<>(linkIncarnations);
    incarnations.keySet().retainAll(newLinks);
    Map<String, String> keptOps = new TreeMap<>(linkOps);
    keptOps.keySet().retainAll(newLinks);
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, newLinks,
        state, stateChangedAt, ops, incarnation, incarnations, lastUsedAt, expired, pending, fenced,
        keptOps);
  }

  /** This record linking to incarnation {@code toIncarnation} of {@code to}. */
  IndexRecord withLink(Digest to, long toIncarnation) {
    List<String> more = new ArrayList<>(links);
    more.add(to.toString());
    Map<String, Long> incarnations = new TreeMap<>(linkIncarnations);
    if (toIncarnation != 0) {
      incarnations.put(to.toString(), toIncarnation);
    }
    Map<String, String> keptOps = new TreeMap<>(linkOps);
    keptOps.remove(to.toString());
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, more,
        state, stateChangedAt, ops, incarnation, incarnations, lastUsedAt, expired, pending, fenced,
        keptOps);
  }

  /**
   * This record linking to each target of {@code targets} at the incarnation given (0: any),
   * replacing a link it has to a target already; one copy of the links whatever their number.
   */
  IndexRecord withLinks(Map<Digest, Long> targets) {
    return withLinks(targets, null);
  }

  /**
   * {@link #withLinks(Map)}, each new link made by operation {@code op} of {@code linkNew}
   * (null: by {@code link} or {@code linkAll}), whose marked reference on its target it holds.
   */
  IndexRecord withLinks(Map<Digest, Long> targets, String op) {
    Set<String> replaced = new HashSet<>();
    targets.keySet().forEach(d -> replaced.add(d.toString()));
    List<String> more = new ArrayList<>(links.size() + targets.size());
    links.stream().filter(l -> !replaced.contains(l)).forEach(more::add);
    Map<String, Long> incarnations = new TreeMap<>(linkIncarnations);
    incarnations.keySet().removeAll(replaced);
    Map<String, String> keptOps = new TreeMap<>(linkOps);
    keptOps.keySet().removeAll(replaced);
    targets.forEach((to, toIncarnation) -> {
      more.add(to.toString());
      if (toIncarnation != 0) {
        incarnations.put(to.toString(), toIncarnation);
      }
      if (op != null) {
        keptOps.put(to.toString(), op);
      }
    });
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, more,
        state, stateChangedAt, ops, incarnation, incarnations, lastUsedAt, expired, pending, fenced,
        keptOps);
  }

  IndexRecord withoutLink(Digest to) {
    List<String> fewer = new ArrayList<>(links);
    fewer.remove(to.toString());
    Map<String, Long> incarnations = new TreeMap<>(linkIncarnations);
    incarnations.remove(to.toString());
    Map<String, String> keptOps = new TreeMap<>(linkOps);
    keptOps.remove(to.toString());
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, fewer,
        state, stateChangedAt, ops, incarnation, incarnations, lastUsedAt, expired, pending, fenced,
        keptOps);
  }

  /** The incarnation of {@code to} whose reference this record's link holds; 0 if any. */
  long linkIncarnation(Digest to) {
    return linkIncarnations.getOrDefault(to.toString(), 0L);
  }

  /** Whether a reference taken on {@code expected} (0: any) belongs to this incarnation. */
  boolean isIncarnation(long expected) {
    return expected == 0 || incarnation == 0 || expected == incarnation;
  }

  IndexRecord deleting(long now) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, 0, links,
        State.DELETING, now, ops, incarnation, linkIncarnations, lastUsedAt, false, List.of(),
        fenced, linkOps);
  }

  /**
   * This record expired by last use (RET-2): {@code deleting} like a deleted record, but marked
   * so that a use within the deletion grace brings it back ({@link #resurrected}).
   */
  IndexRecord expiring(long now) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, 0, links,
        State.DELETING, now, ops, incarnation, linkIncarnations, lastUsedAt, true, List.of(),
        fenced, linkOps);
  }

  /** Whether this record was expired by last use and a use may still bring it back. */
  boolean isExpired() {
    return expired && state == State.DELETING;
  }

  /**
   * This expired record live again after a use at {@code now}, as a new incarnation without
   * references or links (the expiry released what its links held, as a deletion does), keeping
   * its labels and creation time (RET-3).
   */
  IndexRecord resurrected(long now, long newIncarnation, long refCount) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount,
        List.of(), State.LIVE, now, ops, newIncarnation, Map.of(), now, false, List.of(), fenced,
        Map.of());
  }

  /**
   * The last use recorded, in ns since the epoch: for a record written before uses were
   * recorded, the later of its creation and its last update.
   */
  long lastUsed() {
    return Math.max(lastUsedAt, Math.max(createdAt, updatedAt));
  }

  /** This record used at {@code now} (ns since the epoch). */
  IndexRecord usedAt(long now) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, links,
        state, stateChangedAt, ops, incarnation, linkIncarnations, Math.max(now, lastUsedAt),
        expired, pending, fenced, linkOps);
  }

  IndexRecord purging(long now) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, 0, links,
        State.PURGING, now, ops, incarnation, linkIncarnations, lastUsedAt, expired, pending,
        fenced, linkOps);
  }

  /**
   * This record stamped with the id of the change that writes it (PROTO-3). An id
   * {@code <random hex>-<hex ns>} is kept while younger than {@link #OP_RETENTION} on this
   * writer's clock; the latest {@value #RECENT_OPS} are kept whatever their age, and ids without a
   * time (written before ids had one) only among those.
   *
   * @param now this writer's clock, in ns since the epoch
   */
  IndexRecord withOp(String op, long now) {
    List<String> kept = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      String old = ops.get(i);
      if (ops.size() - i < RECENT_OPS || opTime(old) >= now - OP_RETENTION.toNanos()) {
        kept.add(old);
      }
    }
    kept.add(op);
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, links,
        state, stateChangedAt, kept, incarnation, linkIncarnations, lastUsedAt, expired, pending,
        fenced, linkOps);
  }

  /**
   * This record, written over {@code replaced} (a commit that brings a {@code deleting} record
   * back as a new incarnation), keeping the operation ids of {@code replaced}'s changes (PROTO-3):
   * a change of the replaced record whose answer was lost is still recognised as landed by its
   * next attempt, rather than refused by the new incarnation (a deref answering "no reference to
   * remove"). The compare-and-swap that writes this record prunes them as {@link #withOp} does.
   */
  IndexRecord withOpsOf(IndexRecord replaced) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, links,
        state, stateChangedAt, replaced.ops(), incarnation, linkIncarnations, lastUsedAt, expired,
        pending, fenced, linkOps);
  }

  /** A new operation id stamped at {@code now} (ns since the epoch). */
  static String op(long random, long now) {
    return Long.toHexString(random | Long.MIN_VALUE) + "-" + Long.toHexString(now);
  }

  /** The time an operation id was stamped at, or {@link Long#MIN_VALUE} if it has none. */
  static long opTime(String op) {
    int dash = op.indexOf('-');
    if (dash < 0) {
      return Long.MIN_VALUE;
    }
    try {
      return Long.parseUnsignedLong(op.substring(dash + 1), 16);
    } catch (NumberFormatException e) {
      return Long.MIN_VALUE;
    }
  }

  /**
   * This record with one reference more, marked as taken by operation {@code mark.op()} of
   * {@code linkNew} for a link from {@code mark.from()} (TREE-3).
   */
  IndexRecord withMark(LinkMark mark) {
    List<LinkMark> more = new ArrayList<>(pending);
    more.add(mark);
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount + 1,
        links, state, stateChangedAt, ops, incarnation, linkIncarnations, lastUsedAt, expired,
        more, fenced, linkOps);
  }

  /** This record without the mark of operation {@code op}; its count is not changed here. */
  IndexRecord withoutMark(String op) {
    List<LinkMark> fewer = new ArrayList<>(pending);
    fewer.removeIf(m -> m.op().equals(op));
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, links,
        state, stateChangedAt, ops, incarnation, linkIncarnations, lastUsedAt, expired, fewer,
        fenced, linkOps);
  }

  /** The mark of operation {@code op}, or null. */
  LinkMark mark(String op) {
    return op == null ? null
        : pending.stream().filter(m -> m.op().equals(op)).findFirst().orElse(null);
  }

  /**
   * This record refusing, from now on, a link of operation {@code op} ({@link #isFenced}),
   * stamped at {@code now}; fences older than {@code bound} are dropped.
   */
  IndexRecord withFence(String op, long now, Duration bound) {
    List<LinkMark.Fence> kept = new ArrayList<>();
    fenced.stream().filter(f -> f.at() >= now - bound.toNanos()).forEach(kept::add);
    kept.add(new LinkMark.Fence(op, now));
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, links,
        state, stateChangedAt, ops, incarnation, linkIncarnations, lastUsedAt, expired, pending,
        kept, linkOps);
  }

  /** Whether a link of operation {@code op} is refused here. */
  boolean isFenced(String op) {
    return fenced.stream().anyMatch(f -> f.op().equals(op));
  }

  /** The operation of {@code linkNew} whose marked reference the link to {@code to} holds. */
  String linkOp(Digest to) {
    return linkOps.get(to.toString());
  }

  List<Digest> linkDigests() {
    return links.stream().map(Digest::parse).toList();
  }

  Info toInfo() {
    return new Info(Digest.parse(digest), size, Times.instant(createdAt), Times.instant(updatedAt),
        labels, refCount, new java.util.HashSet<>(linkDigests()), incarnation,
        Times.instant(lastUsed()));
  }

  /**
   * The tags mirroring this record on the blob object, in the order of their names (a
   * {@code Map.of} of two entries iterates in an order each JVM draws at start, and the tags are
   * sent in iteration order).
   */
  Map<String, String> tags() {
    Map<String, String> tags = new TreeMap<>();
    tags.put("refs", Long.toString(refCount));
    tags.put("state", state.name().toLowerCase());
    return Collections.unmodifiableMap(tags);
  }
}
