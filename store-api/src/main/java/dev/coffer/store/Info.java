package dev.coffer.store;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What the store knows of one committed blob.
 *
 * <p>Times are the committing client's clock at full precision (not the object store's), labels are
 * an immutable sorted copy, and {@code refCount} and {@code links} are the blob's reference count and
 * the digests it links to (see {@link ReferenceCounter}). Instances are immutable.
 *
 * @param digest the blob's digest
 * @param size the blob's size in bytes
 * @param createdAt when the blob was committed
 * @param updatedAt when the blob's labels last changed (equal to createdAt at first)
 * @param labels the blob's labels
 * @param refCount the blob's reference count, 0 for a blob committed without a reference
 * @param links the digests of the blobs this blob links to, each holding one of their references
 * @param incarnation which life of the blob this is: a value the store sets when the content is
 *     committed anew (created, or committed again after it was deleted) and keeps through
 *     references, links and label updates, so that a reference taken on one life is never spent
 *     on a later one ({@link ReferenceCounter#deref(Digest, long)}); 0 if the store does not say
 * @param lastUsedAt when the blob was last used (committed, referenced, read or asked about) as the
 *     store last recorded it: a store records uses lazily, at most once per blob per touch
 *     interval, so this may lag the latest use by that interval; null given means the later of
 *     createdAt and updatedAt (a record written before uses were recorded)
 */
public record Info(
    Digest digest,
    long size,
    Instant createdAt,
    Instant updatedAt,
    Map<String, String> labels,
    long refCount,
    Set<Digest> links,
    long incarnation,
    Instant lastUsedAt) {

  public Info {
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    if (size < 0) {
      throw new InvalidArgumentException("invalid size " + size + " for " + digest);
    }
    if (refCount < 0) {
      throw new InvalidArgumentException("invalid reference count " + refCount + " for " + digest);
    }
    labels = labels == null || labels.isEmpty()
        ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(labels));
    links = links == null || links.isEmpty()
        ? Set.of() : Collections.unmodifiableSet(new TreeSet<>(links));
    if (lastUsedAt == null) {
      lastUsedAt = updatedAt.isAfter(createdAt) ? updatedAt : createdAt;
    }
  }

  /** An info whose last use is the later of its creation and its last update. */
  public Info(Digest digest, long size, Instant createdAt, Instant updatedAt,
      Map<String, String> labels, long refCount, Set<Digest> links, long incarnation) {
    this(digest, size, createdAt, updatedAt, labels, refCount, links, incarnation, null);
  }

  /** An info of a store that does not tell incarnations apart (incarnation 0). */
  public Info(Digest digest, long size, Instant createdAt, Instant updatedAt,
      Map<String, String> labels, long refCount, Set<Digest> links) {
    this(digest, size, createdAt, updatedAt, labels, refCount, links, 0);
  }

  /**
   * An info that carries only a digest and labels, as passed to {@link Manager#update}; its other
   * fields are ignored there.
   */
  public static Info forUpdate(Digest digest, Map<String, String> labels) {
    return new Info(digest, 0, Instant.EPOCH, Instant.EPOCH, labels, 0, Set.of());
  }

  /** A copy with other labels. */
  public Info withLabels(Map<String, String> newLabels) {
    return new Info(digest, size, createdAt, updatedAt, newLabels, refCount, links, incarnation,
        lastUsedAt);
  }

  /** The descriptor of this blob. */
  public Descriptor descriptor() {
    return Descriptor.of(digest, size);
  }
}
