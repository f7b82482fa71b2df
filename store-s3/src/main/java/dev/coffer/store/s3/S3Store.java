package dev.coffer.store.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Filter;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NewLinks;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.spi.Checks;
import dev.coffer.store.spi.Labels;
import dev.coffer.store.spi.Refs;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The content store on one bucket and prefix. Every shared fact lives in S3 and changes by
 * compare-and-swap, so instances on many hosts (or several in one JVM) see one store; the only
 * process-local state is the set of writers this instance has open and a cache of running digests
 * of paused ingests, which saves re-reading their bytes when the same instance resumes them.
 */
final class S3Store implements ContentStore {
  private static final long MIN_PART = S3StoreConfig.PART_SIZE_MIN;

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
  /** From this size a file is put in parts: one part, but the checker lowers it. */
  private volatile long filePartsFrom;
  /** Counters of CAS and lease events; set once by the builder, before any use. */
  volatile StoreMetrics metrics = StoreMetrics.NONE;
  /** Whether the server honours what gc and repairs rest on; probed once (PROTO-2). */
  final ServerProbe probe = new ServerProbe(this);
  /** This host's uses of blobs, written to their records at most once per touch interval. */
  final UsageMarks marks = new UsageMarks(this);
  /** The index records: reads, compare-and-swap, creation, tag mirror. */
  private final IndexRecords records;
  /** The reference graph: counts, links and their cascade. */
  private final References references;
  /** The marked references of linkNew and their resolution (TREE-3). */
  private final LinkMarks linkMarks;
  /** linkNew's four steps (TREE-3). */
  private final LinkNew linkNew;
  /** Record reads many at once, for a walk, a listing of ingests, gc and fsck. */
  private final ParallelReads reads;
  /** Ingests seen from outside their writers: status, listing, abort. */
  private final Ingests ingests;

  /** The running digest of a paused ingest, and its bytes when small enough to be re-sent. */
  record PausedDigest(String dataEtag, long offset, MessageDigest hasher, byte[] bytes) {}

  S3Store(S3StoreConfig config, S3Objects objects, AutoCloseable clients, StoreRuntime runtime) {
    this.config = config;
    this.runtime = runtime;
    this.instanceId = new UUID(runtime.nextLong(), runtime.nextLong()).toString();
    this.objects = objects;
    this.keys = new Keys(config.prefix());
    this.filePartsFrom = config.partSize();
    this.clients = clients;
    this.workers = runtime.workers();
    this.leases = runtime.leases();
    this.pausedDigests = Caffeine.newBuilder()
        .maximumWeight(256L << 20)
        .weigher((String ref, PausedDigest p) -> 1024 + (p.bytes() == null ? 0 : p.bytes().length))
        .build();
    this.records = new IndexRecords(config, objects, keys, runtime, () -> metrics);
    this.reads = new ParallelReads(objects, workers);
    this.references = new References(records, config, reads);
    this.linkMarks = new LinkMarks(records, config);
    this.linkNew = new LinkNew(records, config, reads, workers, linkMarks);
    this.ingests = new Ingests(config, objects, keys, openWriters, pausedDigests, reads);
  }

  /** Reads of many records at once. */
  ParallelReads reads() {
    return reads;
  }

  /** The reference graph: counts, links and their cascade. */
  References references() {
    return references;
  }

  /** The marked references of linkNew and their resolution (TREE-3). */
  LinkMarks linkMarks() {
    return linkMarks;
  }

  /** The store's index records. */
  IndexRecords records() {
    return records;
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
    IndexRecords.requireLive(digest, record);
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
    return records.casIndex(digest, record -> {
      IndexRecords.requireLive(digest, record);
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
    reads.forEachListed(keys.indexPrefix(), (key, bytes) -> {
      IndexRecord record = bytes == null ? null : Json.read(bytes, IndexRecord.class, "index");
      if (record != null && record.isLive()) {
        Info info = record.toInfo();
        if (filter.matches(info)) {
          fn.accept(info);
        }
      }
    });
  }

  @Override
  public void delete(Digest digest) {
    checkOpen();
    references.release(digest, true, 0);
  }

  // ---- Provider

  @Override
  public ReaderAt readerAt(Descriptor descriptor) {
    checkOpen();
    Digest digest = descriptor.requireDigest();
    IndexRecord record = marks.usable(digest);
    IndexRecords.requireLive(digest, record);
    marks.used(digest, record);
    return new S3Reader(this, digest, keys.blob(digest), record.size());
  }

  /** One GET: the caller's knowledge that the blob is held stands for the record's read. */
  @Override
  public ReaderAt readerAtHeld(Descriptor descriptor) {
    checkOpen();
    Digest digest = descriptor.requireDigest();
    if (descriptor.size() <= 0) {
      return readerAt(descriptor);
    }
    return new S3Reader(this, digest, keys.blob(digest), descriptor.size());
  }

  // ---- IngestManager

  @Override
  public Status status(String ref) {
    checkOpen();
    return ingests.status(ref);
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    checkOpen();
    return ingests.listStatuses(filters);
  }

  @Override
  public void abort(String ref) {
    checkOpen();
    ingests.abort(ref);
  }

  /** Removes the objects and upload of an ingest whose record is gone or being replaced. */
  void discardBytes(IngestRecord record) {
    ingests.discardBytes(record);
  }
  // ---- Ingester

  @Override
  public Writer writer(String ref, Descriptor descriptor) {
    checkOpen();
    Refs.validate(ref);
    if (descriptor.digest() != null) {
      IndexRecord existing = records.record(descriptor.digest());
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

  /**
   * Straight to the digest key, without an ingest or a copy ({@link DirectPut}): one conditional
   * PutObject below one part, else a multipart upload completed only if the bytes sent hash to
   * {@code expected}.
   */
  @Override
  public Info putFile(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return putDirect(file, expected, labels, false);
  }

  /** As {@link #putFile}, taking one reference. */
  @Override
  public Info putFileAndRef(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return putDirect(file, expected, labels, true);
  }

  private Info putDirect(Path file, Digest expected, Map<String, String> labels,
      boolean takeRef) throws IOException {
    return putDirect(file, expected, labels, takeRef, null);
  }

  /**
   * A put of a file straight to its digest key (PROTO-12); a record it creates holds {@code
   * drawn}'s marked reference unless that is null (the mark at creation, {@link CreationMarks}).
   */
  Info putDirect(Path file, Digest expected, Map<String, String> labels, boolean takeRef,
      LinkNew.Drawn drawn) throws IOException {
    checkOpen();
    Objects.requireNonNull(file, "file");
    if (expected == null) {
      throw new InvalidArgumentException("a put of file " + file + " needs its digest");
    }
    Labels.validate(labels);
    return new DirectPut(this, file, expected, labels, takeRef, drawn).run();
  }

  /** From this size a file is put as a multipart upload; below it, in one PutObject. */
  long filePartsFrom() {
    return filePartsFrom;
  }

  /** For the multi-host checker, whose contents are small: files from {@code bytes} in parts. */
  void filePartsFrom(long bytes) {
    filePartsFrom = bytes;
  }

  private Info putSmall(byte[] content, Digest expected, Map<String, String> labels,
      boolean takeRef) {
    checkOpen();
    Digest digest = Checks.put(content, expected, labels);
    return new BlobPublisher(this, digest, content.length, BlobPublisher.kept(labels), takeRef,
        () -> { }).storeAndPublish(content, content.length);
  }

  // ---- ReferenceCounter

  @Override
  public Info ref(Digest digest) {
    checkOpen();
    return references.ref(digest);
  }

  @Override
  public void deref(Digest digest) {
    checkOpen();
    references.release(digest, false, 0);
  }

  @Override
  public void deref(Digest digest, long incarnation) {
    checkOpen();
    references.release(digest, false, incarnation);
  }

  @Override
  public void link(Digest to, Digest from) {
    checkOpen();
    references.link(to, from);
  }

  @Override
  public void linkAll(Collection<Digest> to, Digest from) {
    checkOpen();
    references.linkAll(to, from);
  }

  @Override
  public void linkNew(Collection<Digest> to, Digest from) {
    checkOpen();
    linkNew.linkNew(to, from);
  }

  /**
   * An operation of {@code linkNew} drawn before its targets are stored ({@link CreationMarks}),
   * from the version of {@code from}'s record this store remembers when it shows {@code from}
   * live (no request: a tree's put draws right after writing the tree's record), else on a read
   * of it. A stale version draws an incarnation that step 3 refuses: the operation's links are
   * then NotFound, its marks given back ({@link LinkNew#draw}).
   */
  @Override
  public NewLinks newLinks(Digest from) {
    checkOpen();
    return new CreationMarks(this, linkNew, linkNew.draw(from));
  }

  @Override
  public void unlink(Digest to, Digest from) {
    checkOpen();
    references.unlink(to, from);
  }

  // ---- Maintenance

  @Override
  public GcReport gc(GcOptions options) {
    checkOpen();
    return new S3Maintenance(this).gc(options);
  }

  @Override
  public FsckReport fsck(boolean repair) {
    checkOpen();
    return new S3Fsck(this).fsck(repair);
  }

  @Override
  public FsckReport fsck(FsckOptions options) {
    checkOpen();
    return new S3Fsck(this).fsck(options);
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
      RuntimeException wrapped = S3Errors.translate("closing the S3 clients", e);
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
