package dev.coffer.store.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Filter;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.Labels;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Refs;
import dev.coffer.store.Status;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import dev.coffer.store.Writer;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The content store on one bucket and prefix. Every shared fact lives in S3 and changes by
 * compare-and-swap, so instances on many hosts (or several in one JVM) see one store; the only
 * process-local state is the set of writers this instance has open and a cache of running digests
 * of paused ingests, which saves re-reading their bytes when the same instance resumes them.
 */
final class S3Store implements ContentStore {
  private static final Logger LOG = LoggerFactory.getLogger(S3Store.class);
  private static final long MIN_PART = S3StoreConfig.PART_SIZE_MIN;
  /**
   * How long a compare-and-swap of a record keeps trying (PROTO-3): well below {@link
   * IndexRecord#OP_RETENTION}, so its operation ids are still in the record when it last reads it,
   * even with hosts' clocks apart by half the default purge timeout.
   */
  static final Duration CAS_DEADLINE = Duration.ofMinutes(5);
  /** Record reads in flight during a walk or a listing of ingests. */
  private static final int LIST_CONCURRENCY = 16;

  final S3StoreConfig config;
  final S3Objects objects;
  final Keys keys;
  private final AutoCloseable clients;
  final StoreRuntime runtime;
  final ExecutorService workers;
  final ScheduledExecutorService leases;
  /** Distinguishes this instance's leases from every other's. */
  final String instanceId;
  private final AtomicLong writerIds = new AtomicLong();
  final Map<String, S3Writer> openWriters = new ConcurrentHashMap<>();
  /** Running digests of ingests paused by this instance, valid while their data ETag matches. */
  final Cache<String, PausedDigest> pausedDigests;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Counters of CAS and lease events; set once by the builder, before any use. */
  volatile StoreMetrics metrics = StoreMetrics.NONE;
  /** Whether the server honours what gc and repairs rest on; probed once (PROTO-2). */
  final ServerProbe probe = new ServerProbe(this);
  /** This host's uses of blobs, written to their records at most once per touch interval. */
  final UsageMarks marks = new UsageMarks(this);

  /** The running digest of a paused ingest, and its bytes when small enough to be re-sent. */
  record PausedDigest(String dataEtag, long offset, MessageDigest hasher, byte[] bytes) {}

  S3Store(S3StoreConfig config, S3Objects objects, AutoCloseable clients, StoreRuntime runtime) {
    this.config = config;
    this.runtime = runtime;
    this.instanceId = new UUID(runtime.nextLong(), runtime.nextLong()).toString();
    this.objects = objects;
    this.keys = new Keys(config.prefix());
    this.clients = clients;
    this.workers = runtime.workers();
    this.leases = runtime.leases();
    this.pausedDigests = Caffeine.newBuilder()
        .maximumWeight(256L << 20)
        .weigher((String ref, PausedDigest p) -> 1024 + (p.bytes() == null ? 0 : p.bytes().length))
        .build();
  }

  long now() {
    return Times.now(config.clock());
  }

  String newOwner() {
    return instanceId + "/" + writerIds.incrementAndGet();
  }

  void checkOpen() {
    if (closed.get()) {
      // Names no bucket: the message may reach a gRPC client.
      throw new FailedPreconditionException("the store is closed");
    }
  }

  // ---- Manager

  @Override
  public Info info(Digest digest) {
    checkOpen();
    IndexRecord record = marks.usable(digest);
    requireLive(digest, record);
    marks.used(digest, record);
    return record.toInfo();
  }

  @Override
  public Info update(Info info, String... fieldpaths) {
    checkOpen();
    Digest digest = info.digest();
    List<String> paths = fieldpaths == null ? List.of() : List.of(fieldpaths);
    for (String path : paths) {
      if (!"labels".equals(path) && (path == null || !path.startsWith("labels.")
          || path.length() == "labels.".length())) {
        throw new InvalidArgumentException("cannot update field \"" + path + "\" of " + digest
            + ": only labels and labels.<key> can be updated");
      }
    }
    Labels.validate(info.labels());
    long now = now();
    return casIndex(digest, record -> {
      requireLive(digest, record);
      Map<String, String> labels = new TreeMap<>(record.labels());
      if (paths.isEmpty()) {
        labels = new TreeMap<>(info.labels());
      }
      for (String path : paths) {
        if ("labels".equals(path)) {
          labels = new TreeMap<>(info.labels());
        } else {
          String key = path.substring("labels.".length());
          String value = info.labels().get(key);
          if (value == null || value.isEmpty()) {
            labels.remove(key);
          } else {
            labels.put(key, value);
          }
        }
      }
      labels.values().removeIf(String::isEmpty);
      return record.withLabels(labels, now);
    }).toInfo();
  }

  @Override
  public void walk(Consumer<? super Info> fn, String... filters) {
    checkOpen();
    Filter filter = Filter.parse(filters);
    List<String> recordKeys = new ArrayList<>();
    objects.list(keys.indexPrefix(), recordKeys::add);
    forEachRecord(recordKeys, (key, bytes) -> {
      IndexRecord record = bytes == null ? null : Json.read(bytes, IndexRecord.class, "index");
      if (record != null && record.isLive()) {
        Info info = record.toInfo();
        if (filter.matches(info)) {
          fn.accept(info);
        }
      }
    });
  }

  /**
   * Reads the objects {@code recordKeys} with up to {@value #LIST_CONCURRENCY} reads in flight and
   * hands their bytes (null if gone meanwhile) to {@code fn} in the calling thread, in key order.
   */
  private void forEachRecord(List<String> recordKeys, BiConsumer<String, byte[]> fn) {
    forEachObject(recordKeys, (key, fetched) -> fn.accept(key, fetched == null ? null
        : fetched.bytes()));
  }

  /**
   * Reads the objects {@code recordKeys} with up to {@value #LIST_CONCURRENCY} reads in flight and
   * hands them (null if gone meanwhile) to {@code fn} in the calling thread, in key order.
   */
  void forEachObject(List<String> recordKeys, BiConsumer<String, S3Objects.Fetched> fn) {
    Deque<CompletableFuture<S3Objects.Fetched>> inFlight = new ArrayDeque<>();
    int next = 0;
    try {
      while (next < recordKeys.size() || !inFlight.isEmpty()) {
        while (next < recordKeys.size() && inFlight.size() < LIST_CONCURRENCY) {
          String key = recordKeys.get(next++);
          inFlight.add(CompletableFuture.supplyAsync(() -> objects.get(key), workers));
        }
        String key = recordKeys.get(next - inFlight.size());
        fn.accept(key, S3Objects.join(inFlight.poll(), "reading records"));
      }
    } finally {
      inFlight.forEach(f -> f.cancel(true));
    }
  }

  @Override
  public void delete(Digest digest) {
    checkOpen();
    release(digest, true, 0);
  }

  // ---- Provider

  @Override
  public ReaderAt readerAt(Descriptor descriptor) {
    checkOpen();
    Digest digest = descriptor.requireDigest();
    IndexRecord record = marks.usable(digest);
    requireLive(digest, record);
    marks.used(digest, record);
    return new S3Reader(this, digest, keys.blob(digest), record.size());
  }

  // ---- IngestManager

  @Override
  public Status status(String ref) {
    checkOpen();
    Refs.validate(ref);
    S3Writer open = openWriters.get(ref);
    if (open != null) {
      return open.status();
    }
    S3Objects.Fetched fetched = objects.get(keys.ingestState(ref));
    if (fetched == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    return Json.read(fetched.bytes(), IngestRecord.class, ref).toStatus();
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    checkOpen();
    Filter filter = Filter.parse(filters);
    List<String> stateKeys = new ArrayList<>();
    objects.list(keys.ingestPrefix(), key -> {
      if (keys.isIngestState(key)) {
        stateKeys.add(key);
      }
    });
    List<Status> statuses = new ArrayList<>();
    forEachRecord(stateKeys, (key, bytes) -> {
      if (bytes == null) {
        return;
      }
      Status status;
      try {
        IngestRecord record = Json.read(bytes, IngestRecord.class, key);
        S3Writer open = openWriters.get(record.ref());
        status = open != null ? open.status() : record.toStatus();
      } catch (StoreException | NullPointerException | IllegalArgumentException e) {
        // Any writer of the bucket can write an ingest record: one that does not parse must not
        // hide every other host's ingests. It stays for gc and fsck.
        LOG.warn("skipping the unreadable ingest record {}: {}", key, e.toString());
        return;
      }
      if (filter.matches(status)) {
        statuses.add(status);
      }
    });
    return statuses;
  }

  @Override
  public void abort(String ref) {
    checkOpen();
    Refs.validate(ref);
    if (openWriters.containsKey(ref)) {
      throw new UnavailableException("ref \"" + ref + "\" is locked by an open writer");
    }
    String stateKey = keys.ingestState(ref);
    S3Objects.Fetched fetched = objects.get(stateKey);
    if (fetched == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    IngestRecord record = Json.read(fetched.bytes(), IngestRecord.class, ref);
    if (record.leasedAt(now())) {
      Instant until = Times.instant(record.leaseExpiry());
      throw new UnavailableException("ref \"" + ref + "\" is locked by a writer ("
          + record.leaseOwner() + ") whose lease lapses at " + until + " unless renewed", until);
    }
    // Removing the record first makes the ref free at once; the bytes follow.
    if (!objects.deleteIfMatch(stateKey, fetched.etag())) {
      throw new UnavailableException("ref \"" + ref + "\" changed while being aborted");
    }
    discardBytes(record);
    pausedDigests.invalidate(ref);
  }

  /** Removes the objects and upload of an ingest whose record is gone or being replaced. */
  void discardBytes(IngestRecord record) {
    if (record.uploadId() != null) {
      // The upload's key never holds an object before completion, so aborting it loses nothing.
      objects.abortUpload(record.uploadKey(), record.uploadId());
    }
    if (record.dataKey() != null) {
      objects.delete(record.dataKey());
    }
  }

  // ---- Ingester

  @Override
  public Writer writer(String ref, Descriptor descriptor) {
    checkOpen();
    Refs.validate(ref);
    if (descriptor.digest() != null) {
      IndexRecord existing = record(descriptor.digest());
      // INT-3: a live record whose bytes fsck --verify --repair removed takes the content again.
      if (existing != null && existing.isLive()
          && objects.exists(keys.blob(descriptor.digest()))) {
        marks.used(descriptor.digest(), existing); // pushing stored content again is a use
        throw new AlreadyExistsException("content " + descriptor.digest() + " already exists");
      }
    }
    S3Writer writer = new S3Writer(this, ref, newOwner());
    if (openWriters.putIfAbsent(ref, writer) != null) {
      throw new UnavailableException("ref \"" + ref + "\" is locked by another writer");
    }
    try {
      writer.open(descriptor);
      return writer;
    } catch (RuntimeException | Error e) {
      openWriters.remove(ref, writer);
      throw e;
    }
  }

  /**
   * Content below one part skips the ingest: the blob with one conditional PutObject, then its
   * index record create-only (2 requests for new content). Larger content goes through a writer.
   */
  @Override
  public Info put(byte[] content, Digest expected, Map<String, String> labels) {
    if (content != null && content.length >= config.partSize()) {
      return ContentStore.super.put(content, expected, labels);
    }
    return putSmall(content, expected, labels, false);
  }

  /** As {@link #put}: below one part, no ingest. */
  @Override
  public Info putAndRef(byte[] content, Digest expected, Map<String, String> labels) {
    if (content != null && content.length >= config.partSize()) {
      return ContentStore.super.putAndRef(content, expected, labels);
    }
    return putSmall(content, expected, labels, true);
  }

  private Info putSmall(byte[] content, Digest expected, Map<String, String> labels,
      boolean takeRef) {
    checkOpen();
    Digest digest = Content.checkPut(content, expected, labels);
    BlobPublisher publisher = new BlobPublisher(this, digest, content.length,
        BlobPublisher.kept(labels), takeRef, () -> { });
    BlobPublisher.Created created = putBlob(digest, content, content.length, publisher.fresh());
    String blobKey = keys.blob(digest);
    return publisher.publish(() -> objects.put(blobKey, content, content.length), created);
  }

  /**
   * Stores {@code length} bytes of {@code bytes} at the digest key unless an object is there, with
   * their SHA-256 as checksum where the digest is one, and the tags of {@code record}.
   *
   * @return when this call's PutObject was sent, if it created the object; null if it found one
   *     (a PutObject whose answer was lost and that the SDK retried into a 412 counts as found)
   */
  BlobPublisher.Created putBlob(Digest digest, byte[] bytes, int length, IndexRecord record) {
    byte[] sha256 = digest.algorithm() == DigestAlgorithm.SHA256 ? digest.hash() : null;
    BlobPublisher.Created sending = BlobPublisher.Created.sending(this);
    return objects.putIfAbsent(keys.blob(digest), bytes, length, sha256, record.tags()) != null
        ? sending : null;
  }

  // ---- ReferenceCounter

  @Override
  public Info ref(Digest digest) {
    checkOpen();
    long now = now();
    IndexRecord after = casIndex(digest, record -> {
      if (record != null && record.isExpired()) {
        return record.resurrected(now, newIncarnation(), 1); // a use brings it back (RET-3)
      }
      requireLive(digest, record);
      return record.withRefCount(record.refCount() + 1).usedAt(now);
    });
    mirrorTags(digest, after);
    return after.toInfo();
  }

  @Override
  public void deref(Digest digest) {
    checkOpen();
    release(digest, false, 0);
  }

  @Override
  public void deref(Digest digest, long incarnation) {
    checkOpen();
    release(digest, false, incarnation);
  }

  /**
   * Removes one reference ({@code whole} false) or the blob itself ({@code whole} true) by CAS;
   * a blob that leaves the live state releases what its links hold, by cascade.
   *
   * @param incarnation the incarnation the reference was taken on, 0 for any (PROTO-1)
   */
  private void release(Digest digest, boolean whole, long incarnation) {
    long now = now();
    IndexRecord after = casIndex(digest, record -> {
      requireLive(digest, record);
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
    mirrorTags(digest, after);
    if (!after.isLive()) {
      cascade(after, digest);
    }
  }

  @Override
  public void link(Digest to, Digest from) {
    checkOpen();
    IndexRecord target = liveRecord(to);
    AtomicBoolean existed = new AtomicBoolean();
    casIndex(from, record -> {
      requireLive(from, record);
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
      deref(to); // the link already holds a reference: drop the caller's
    }
  }

  @Override
  public void unlink(Digest to, Digest from) {
    checkOpen();
    liveRecord(to);
    AtomicBoolean removed = new AtomicBoolean();
    AtomicLong incarnation = new AtomicLong();
    casIndex(from, record -> {
      requireLive(from, record);
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
    cascade(first, origin, false);
  }

  /**
   * {@link #cascade(IndexRecord, Digest)}; with {@code expiry}, blobs it leaves without a
   * reference are expired rather than deleted, so a use within the grace brings them back (RET-4).
   */
  void cascade(IndexRecord first, Digest origin, boolean expiry) {
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
        after = casIndex(digest, record -> {
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
            return record.withRefCount(record.refCount() - 1);
          }
          return expiry ? record.expiring(now) : record.deleting(now);
        });
      } catch (NotFoundException e) {
        continue;
      }
      if (skip.get()) {
        continue;
      }
      mirrorTags(digest, after);
      if (!after.isLive() && removed.add(digest)) {
        after.linkDigests().forEach(to -> pending.add(new Link(to, after.linkIncarnation(to))));
      }
    }
  }

  // ---- Maintenance

  @Override
  public GcReport gc(GcOptions options) {
    checkOpen();
    if (!options.dryRun()) { // a dry run writes nothing, not even a probe (RET-5)
      probe.requireSafeDeletes("gc");
    }
    return new S3Maintenance(this).gc(options);
  }

  @Override
  public FsckReport fsck(boolean repair) {
    checkOpen();
    if (repair) {
      probe.requireSafeDeletes("fsck repairs");
    }
    return new S3Maintenance(this).fsck(repair);
  }

  @Override
  public FsckReport fsck(FsckOptions options) {
    checkOpen();
    return new S3Maintenance(this).fsck(options);
  }

  // ---- index records

  /** The record of {@code digest}, or null. */
  IndexRecord record(Digest digest) {
    S3Objects.Fetched fetched = objects.get(keys.index(digest));
    return fetched == null ? null
        : Json.read(fetched.bytes(), IndexRecord.class, digest.toString());
  }

  IndexRecord liveRecord(Digest digest) {
    IndexRecord record = record(digest);
    requireLive(digest, record);
    return record;
  }

  private static void requireLive(Digest digest, IndexRecord record) {
    if (record == null || !record.isLive()) {
      throw new NotFoundException("content " + digest + " not found");
    }
  }

  /**
   * Changes the record of {@code digest} by compare-and-swap: reads it, applies {@code change}
   * (which sees null for a missing record, may throw to refuse, and returns null for "no change"),
   * and writes the result If-Match the ETag read, as one request; when that is refused, or fails,
   * it starts over after a jittered pause, at most {@link S3StoreConfig#casAttempts} times and
   * for at most {@link #CAS_DEADLINE}.
   *
   * <p>The store owns these retries (PROTO-3): the SDK does not retry a record write, and each
   * attempt carries its own operation id, which the record keeps by age ({@link
   * IndexRecord#withOp}), so an attempt that S3 applied but whose answer was lost is found on the
   * next read however many other changes landed meanwhile, and is not applied again.
   *
   * @return the record written (by the attempt that landed), or the record read if {@code change}
   *     returned null
   * @throws NotFoundException if there is no record and {@code change} accepts that with null
   * @throws AbortedException if every attempt was refused or failed without being applied, and
   *     none can land any more: nothing was changed
   * @throws UnknownException if an attempt failed in a way that leaves it able to land still (its
   *     condition is the record's current ETag): the change may or may not happen
   */
  IndexRecord casIndex(Digest digest, UnaryOperator<IndexRecord> change) {
    return casIndex(digest, change, null);
  }

  /**
   * {@link #casIndex(Digest, UnaryOperator)} starting from {@code first}, the record as the caller
   * has just read it (null: read it).
   */
  IndexRecord casIndex(Digest digest, UnaryOperator<IndexRecord> change,
      S3Objects.Fetched first) {
    String key = keys.index(digest);
    // Each attempt's record, by its operation id: the one found in a later read is what landed.
    Map<String, IndexRecord> attempts = new HashMap<>();
    // The conditions (the ETag written If-Match, "" for create-only) of attempts that may land.
    Set<String> mayLand = new HashSet<>();
    StoreException failure = null;
    long started = runtime.nanoTime().getAsLong();
    S3Objects.Fetched fetched = first;
    for (int attempt = 0; ; attempt++) {
      if (attempt > 0 || fetched == null) {
        fetched = objects.get(key);
      }
      IndexRecord current =
          fetched == null ? null : Json.read(fetched.bytes(), IndexRecord.class, key);
      IndexRecord landed = landed(current, attempts);
      if (landed != null) {
        metrics.cas("recovered");
        return landed;
      }
      if (attempt >= config.casAttempts()
          || runtime.nanoTime().getAsLong() - started > CAS_DEADLINE.toNanos()) {
        String condition = fetched == null ? "" : fetched.etag();
        if (mayLand.contains(condition)) {
          UnknownException unknown = new UnknownException("the record of " + digest
              + " may still change: a write of it failed without an answer and can still land");
          if (failure != null) {
            unknown.addSuppressed(failure);
          }
          metrics.cas("unknown");
          throw unknown;
        }
        AbortedException aborted = new AbortedException("the record of " + digest
            + " changed concurrently " + attempt + " times; nothing was changed");
        if (failure != null) {
          aborted.addSuppressed(failure);
        }
        metrics.cas("aborted");
        throw aborted;
      }
      IndexRecord next = change.apply(current);
      if (next == null) {
        if (current == null) {
          throw new NotFoundException("content " + digest + " not found");
        }
        return current;
      }
      String op = newOp();
      next = next.withOp(op, now());
      attempts.put(op, next);
      String condition = fetched == null ? null : fetched.etag();
      S3Objects.Attempt result = objects.writeRecordOnce(key, Json.write(next), condition);
      if (result.written()) {
        return next;
      }
      if (result.failure() != null) {
        failure = result.failure();
      }
      if (result.mayLand()) {
        mayLand.add(condition == null ? "" : condition);
      }
      metrics.cas("retry");
      pause(attempt);
    }
  }

  /** The attempt of {@code attempts} that {@code current} shows landed, or null. */
  private static IndexRecord landed(IndexRecord current, Map<String, IndexRecord> attempts) {
    if (current == null || attempts.isEmpty()) {
      return null;
    }
    for (String op : current.ops()) {
      IndexRecord attempt = attempts.get(op);
      if (attempt != null) {
        return attempt;
      }
    }
    return null;
  }

  /**
   * What {@link #createIndex} found.
   *
   * @param created whether this call created the record
   * @param found the record that refused this one, as read to tell it from this call's own
   *     (null if created, or if it vanished meanwhile)
   */
  record Creation(boolean created, S3Objects.Fetched found) {}

  /**
   * Creates the record of {@code digest} create-only (If-None-Match), one request at a time,
   * stamped with an operation id so that a creation whose answer was lost (applied, then a
   * timeout or reset) is recognised as this one's rather than taken for another host's; an
   * attempt that failed and left no record is sent again (create-only, so at most one lands).
   *
   * @throws UnknownException if every attempt failed and none is seen landed
   */
  Creation createIndex(Digest digest, IndexRecord record) {
    String key = keys.index(digest);
    String op = newOp();
    byte[] json = Json.write(record.withOp(op, now()));
    StoreException failure = null;
    for (int attempt = 0; attempt < config.casAttempts(); attempt++) {
      S3Objects.Attempt result = objects.writeRecordOnce(key, json, null);
      if (result.written()) {
        return new Creation(true, null);
      }
      S3Objects.Fetched found = objects.get(key);
      if (found != null) {
        boolean ours = Json.read(found.bytes(), IndexRecord.class, key).ops().contains(op);
        return ours ? new Creation(true, null) : new Creation(false, found);
      }
      if (result.failure() != null) {
        failure = result.failure();
        pause(attempt);
      }
      // Else refused, and the record is gone already (a purge ended meanwhile): create it again.
    }
    throw new UnknownException("creating the record of " + digest + " failed "
        + config.casAttempts() + " times", failure);
  }

  /** A fresh incarnation for a record that becomes live anew: random, never 0 (PROTO-1). */
  long newIncarnation() {
    long incarnation = runtime.nextLong();
    return incarnation == 0 ? 1 : incarnation;
  }

  /** A fresh id for one attempt of a change of an index record, stamped with the time. */
  private String newOp() {
    return IndexRecord.op(runtime.nextLong(), now());
  }

  /** A jittered pause before attempt {@code attempt + 1} of a compare-and-swap. */
  void pause(int attempt) {
    long cap = Math.min(1000, 10L << Math.min(attempt, 10));
    try {
      runtime.sleeper().sleep(
          Duration.ofMillis(runtime.random().get().nextLong(cap / 2, cap + 1)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while retrying a compare-and-swap", e);
    }
  }

  /** Sets the blob object's tags to mirror its record; best effort, the record is the truth. */
  void mirrorTags(Digest digest, IndexRecord record) {
    try {
      objects.putTags(keys.blob(digest), record.tags());
    } catch (StoreException e) {
      LOG.debug("could not mirror the tags of {}; fsck reconciles them", digest, e);
    }
  }

  static long minPart() {
    return MIN_PART;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    RuntimeException failure = null;
    for (S3Writer writer : List.copyOf(openWriters.values())) {
      try {
        writer.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    try {
      marks.close();
    } catch (RuntimeException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    runtime.shutdown();
    try {
      clients.close();
    } catch (Exception e) {
      RuntimeException wrapped = S3Objects.translate("closing the S3 clients", e);
      if (failure == null) {
        failure = wrapped;
      } else {
        failure.addSuppressed(wrapped);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
