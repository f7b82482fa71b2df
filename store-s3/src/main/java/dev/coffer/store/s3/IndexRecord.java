package dev.coffer.store.s3;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The index record of one blob, stored as JSON at {@code P/index/<alg>/<hex>}: the only truth about
 * the blob. Every change is a compare-and-swap of the whole record (PutObject If-Match).
 *
 * <p>Format version 1. Times are nanoseconds since the epoch on the writing client's clock.
 * {@code state} is {@code live}; {@code deleting} once its count fell to zero or it was deleted
 * (readers see NotFound; a commit of the same content resurrects it by CAS); or {@code purging}
 * once a garbage collector has decided to remove the blob object, after which only that collector
 * touches the blob object and then deletes the record (If-Match), unless it is still there after the
 * purge timeout: then another host stamps it anew by CAS and finishes the purge. {@code
 * stateChangedAt} stamps the last state change, so a collector can wait out a grace period before
 * {@code deleting → purging}, and a purge that outlived its timeout can be told apart.
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
    List<String> ops) {

  static final int VERSION = 1;
  /** How many of the latest changes' operation ids a record keeps. */
  static final int RECENT_OPS = 8;

  enum State {
    @JsonProperty("live") LIVE,
    @JsonProperty("deleting") DELETING,
    @JsonProperty("purging") PURGING
  }

  IndexRecord {
    labels = labels == null ? Map.of() : new TreeMap<>(labels);
    links = links == null ? List.of() : List.copyOf(links);
    ops = ops == null ? List.of() : List.copyOf(ops);
  }

  static IndexRecord live(Digest digest, long size, long now, Map<String, String> labels,
      long refCount) {
    return new IndexRecord(VERSION, digest.toString(), size, now, now, labels, refCount, List.of(),
        State.LIVE, now, List.of());
  }

  boolean isLive() {
    return state == State.LIVE;
  }

  IndexRecord withLabels(Map<String, String> newLabels, long now) {
    return new IndexRecord(version, digest, size, createdAt, now, newLabels, refCount, links, state,
        stateChangedAt, ops);
  }

  IndexRecord withRefCount(long count) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, count, links, state,
        stateChangedAt, ops);
  }

  IndexRecord withLinks(List<String> newLinks) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, newLinks,
        state, stateChangedAt, ops);
  }

  IndexRecord withLink(Digest to) {
    List<String> more = new ArrayList<>(links);
    more.add(to.toString());
    return withLinks(more);
  }

  IndexRecord withoutLink(Digest to) {
    List<String> fewer = new ArrayList<>(links);
    fewer.remove(to.toString());
    return withLinks(fewer);
  }

  IndexRecord deleting(long now) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, 0, links,
        State.DELETING, now, ops);
  }

  IndexRecord purging(long now) {
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, 0, links,
        State.PURGING, now, ops);
  }

  /**
   * This record stamped with the id of the change that writes it, keeping the latest
   * {@value #RECENT_OPS}: a writer whose compare-and-swap answer was lost (a reset after S3
   * applied it, then a retry that met its own new ETag) finds its id here and knows the change
   * landed, instead of applying it twice.
   */
  IndexRecord withOp(String op) {
    List<String> recent = new ArrayList<>(ops);
    recent.add(op);
    if (recent.size() > RECENT_OPS) {
      recent = recent.subList(recent.size() - RECENT_OPS, recent.size());
    }
    return new IndexRecord(version, digest, size, createdAt, updatedAt, labels, refCount, links,
        state, stateChangedAt, recent);
  }

  List<Digest> linkDigests() {
    return links.stream().map(Digest::parse).toList();
  }

  Info toInfo() {
    return new Info(Digest.parse(digest), size, Times.instant(createdAt), Times.instant(updatedAt),
        labels, refCount, new java.util.HashSet<>(linkDigests()));
  }

  /** The tags mirroring this record on the blob object. */
  Map<String, String> tags() {
    return Map.of("refs", Long.toString(refCount), "state", state.name().toLowerCase());
  }
}
