package dev.coffer.store.memory;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.BlobVerifier;
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
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.spi.Checks;
import dev.coffer.store.spi.Labels;
import dev.coffer.store.spi.Refs;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The in-memory store. One monitor guards all state: operations are short, and a single lock makes
 * every step of a cascade atomic, which is the behaviour the S3 store reaches with compare-and-swap.
 */
final class MemoryStore implements ContentStore {

  /** A committed blob. The bytes never change; the rest is guarded by the store's monitor. */
  private static final class Blob {
    final byte[] data;
    final Instant createdAt;
    Instant updatedAt;
    Map<String, String> labels;
    long refCount;
    /** The blobs this one links to, each with the incarnation whose reference the link holds. */
    final Map<Digest, Long> links = new LinkedHashMap<>();
    final long incarnation;

    Blob(byte[] data, Instant createdAt, Map<String, String> labels, long refCount,
        long incarnation) {
      this.incarnation = incarnation;
      this.data = data;
      this.createdAt = createdAt;
      this.updatedAt = createdAt;
      this.labels = labels;
      this.refCount = refCount;
    }
  }

  /** An ingest: the bytes written so far under one ref and the running hash of them. */
  private static final class Ingest {
    final String ref;
    final Instant startedAt;
    Instant updatedAt;
    long total;
    Digest expected;
    byte[] buffer = new byte[0];
    int length;
    MessageDigest hasher;
    MemoryWriter holder;

    Ingest(String ref, long total, Digest expected, Instant now) {
      this.ref = ref;
      this.total = total;
      this.expected = expected;
      this.startedAt = now;
      this.updatedAt = now;
      this.hasher = algorithm().newHasher();
    }

    DigestAlgorithm algorithm() {
      return expected == null ? DigestAlgorithm.CANONICAL : expected.algorithm();
    }

    Status status() {
      return new Status(ref, length, total, expected, startedAt, updatedAt);
    }

    void append(byte[] bytes, int offset, int count) {
      if ((long) length + count > Integer.MAX_VALUE - 8) {
        throw new FailedPreconditionException("ingest \"" + ref
            + "\" exceeds what the in-memory store holds (2 GiB)");
      }
      if (length + count > buffer.length) {
        long grown = Math.max((long) length + count, Math.max(1024L, buffer.length * 2L));
        buffer = Arrays.copyOf(buffer, (int) Math.min(grown, Integer.MAX_VALUE - 8));
      }
      System.arraycopy(bytes, offset, buffer, length, count);
      hasher.update(bytes, offset, count);
      length += count;
    }

    void reset() {
      buffer = new byte[0];
      length = 0;
      hasher = algorithm().newHasher();
    }
  }

  private final Clock clock;
  private final Map<Digest, Blob> blobs = new HashMap<>();
  /** The incarnation of the last blob committed (PROTO-1); every commit of new content counts. */
  private long incarnations;
  private final Map<String, Ingest> ingests = new HashMap<>();

  MemoryStore(Clock clock) {
    this.clock = clock;
  }

  private Instant now() {
    return clock.instant();
  }

  // ---- Manager

  @Override
  public synchronized Info info(Digest digest) {
    return infoOf(digest, live(digest));
  }

  @Override
  public synchronized Info update(Info info, String... fieldpaths) {
    Digest digest = info.digest();
    Blob blob = live(digest);
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
    return infoOf(digest, blob);
  }

  @Override
  public void walk(Consumer<? super Info> fn, String... filters) {
    Filter filter = Filter.parse(filters);
    List<Info> snapshot = new ArrayList<>();
    synchronized (this) {
      blobs.forEach((d, b) -> snapshot.add(infoOf(d, b)));
    }
    for (Info info : snapshot) {
      if (filter.matches(info)) {
        fn.accept(info);
      }
    }
  }

  @Override
  public synchronized void delete(Digest digest) {
    Blob blob = live(digest);
    blobs.remove(digest);
    cascade(blob.links);
  }

  @Override
  public synchronized void deref(Digest digest, long incarnation) {
    Blob blob = live(digest);
    if (incarnation != 0 && blob.incarnation != incarnation) {
      throw new NotFoundException("content " + digest + " not found: incarnation " + incarnation
          + " was deleted, and the blob committed anew since");
    }
    deref(digest);
  }

  // ---- Provider

  @Override
  public synchronized ReaderAt readerAt(Descriptor descriptor) {
    Digest digest = descriptor.requireDigest();
    return new MemoryReader(digest, live(digest).data);
  }

  // ---- IngestManager

  @Override
  public synchronized Status status(String ref) {
    Refs.validate(ref);
    Ingest ingest = ingests.get(ref);
    if (ingest == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    return ingest.status();
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    Filter filter = Filter.parse(filters);
    List<Status> all;
    synchronized (this) {
      all = ingests.values().stream().map(Ingest::status).toList();
    }
    return all.stream().filter(filter::matches).toList();
  }

  @Override
  public synchronized void abort(String ref) {
    Refs.validate(ref);
    Ingest ingest = ingests.get(ref);
    if (ingest == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    if (ingest.holder != null) {
      throw new UnavailableException("ref \"" + ref + "\" is locked by an open writer");
    }
    ingests.remove(ref);
  }

  // ---- Ingester

  @Override
  public synchronized Writer writer(String ref, Descriptor descriptor) {
    Refs.validate(ref);
    if (descriptor.digest() != null && blobs.containsKey(descriptor.digest())) {
      throw new AlreadyExistsException("content " + descriptor.digest() + " already exists");
    }
    Ingest ingest = ingests.get(ref);
    if (ingest == null) {
      ingest = new Ingest(ref, descriptor.size(), descriptor.digest(), now());
      ingests.put(ref, ingest);
    } else {
      if (ingest.holder != null) {
        throw new UnavailableException("ref \"" + ref + "\" is locked by another writer");
      }
      if (ingest.total == 0 && descriptor.size() > 0) {
        ingest.total = descriptor.size();
      }
      if (ingest.expected == null && descriptor.digest() != null && ingest.length == 0) {
        ingest.expected = descriptor.digest();
        ingest.reset();
      }
    }
    MemoryWriter writer = new MemoryWriter(ingest);
    ingest.holder = writer;
    return writer;
  }

  // ---- ReferenceCounter

  @Override
  public synchronized Info ref(Digest digest) {
    Blob blob = live(digest);
    blob.refCount++;
    return infoOf(digest, blob);
  }

  @Override
  public synchronized void deref(Digest digest) {
    Blob blob = live(digest);
    if (blob.refCount == 0) {
      throw new FailedPreconditionException("blob " + digest + " has no reference to remove");
    }
    if (--blob.refCount == 0) {
      blobs.remove(digest);
      cascade(blob.links);
    }
  }

  @Override
  public synchronized void link(Digest to, Digest from) {
    Blob target = live(to);
    Blob source = live(from);
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

  @Override
  public synchronized void unlink(Digest to, Digest from) {
    live(to);
    Blob source = live(from);
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
      Blob blob = blobs.get(digest);
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

  // ---- Maintenance

  @Override
  public GcReport gc(GcOptions options) {
    long started = System.nanoTime();
    long removed = 0;
    long bytes = 0;
    List<GcReport.Skip> skipped = new ArrayList<>();
    synchronized (this) {
      Instant cutoff = now().minus(options.ingestAge());
      for (var it = ingests.values().iterator(); it.hasNext(); ) {
        Ingest ingest = it.next();
        if (ingest.updatedAt.isAfter(cutoff)) {
          continue;
        }
        if (ingest.holder != null) {
          skipped.add(new GcReport.Skip(ingest.ref, "a writer has the ingest open"));
          continue;
        }
        removed++;
        bytes += ingest.length;
        if (!options.dryRun()) {
          it.remove();
        }
      }
    }
    // Blobs are removed at once when deleted or dereferenced to zero: nothing waits for a purge.
    return new GcReport(0, bytes, removed, 0, skipped, Duration.ofNanos(System.nanoTime() - started));
  }

  /** Verification reads every blob through this store; a corrupt blob is not repaired. */
  @Override
  public FsckReport fsck(FsckOptions options) {
    FsckReport base = fsck(options.repair());
    if (!options.verify()) {
      return base;
    }
    List<FsckReport.Finding> findings = new ArrayList<>(base.findings());
    findings.addAll(BlobVerifier.verify(this, options, digest -> false));
    return new FsckReport(base.blobsChecked(), findings);
  }

  @Override
  public synchronized FsckReport fsck(boolean repair) {
    List<FsckReport.Finding> findings = new ArrayList<>();
    for (Map.Entry<Digest, Blob> entry : blobs.entrySet()) {
      for (var it = entry.getValue().links.keySet().iterator(); it.hasNext(); ) {
        Digest target = it.next();
        if (!blobs.containsKey(target)) {
          if (repair) {
            it.remove();
          }
          findings.add(new FsckReport.Finding(FsckReport.Kind.DANGLING_LINK,
              entry.getKey().toString(), "links to " + target + ", which does not exist", repair));
        }
      }
    }
    return new FsckReport(blobs.size(), findings);
  }

  @Override
  public void close() {
    // Nothing to release: the state is garbage-collected with the instance.
  }

  // ---- internals

  private Blob live(Digest digest) {
    Blob blob = blobs.get(digest);
    if (blob == null) {
      throw new NotFoundException("content " + digest + " not found");
    }
    return blob;
  }

  private static Info infoOf(Digest digest, Blob blob) {
    return new Info(digest, blob.data.length, blob.createdAt, blob.updatedAt, blob.labels,
        blob.refCount, blob.links.keySet(), blob.incarnation);
  }

  /** Ends a commit: the writer is closed whatever the outcome. */
  private Info commit(MemoryWriter writer, long size, Digest expected, Map<String, String> labels,
      boolean takeReference) {
    Ingest ingest = writer.ingest;
    if (writer.closed) {
      throw new FailedPreconditionException(
          "cannot commit ref \"" + ingest.ref + "\": the writer is closed");
    }
    writer.release();
    Labels.validate(labels);
    Checks.commitSize(size, ingest.ref);
    if (size > 0 && size != ingest.length) {
      throw new FailedPreconditionException("unexpected commit size " + ingest.length
          + " of ref \"" + ingest.ref + "\", expected " + size);
    }
    Digest actual = actualDigest(ingest, expected);
    if (expected != null && !expected.equals(actual)) {
      throw new FailedPreconditionException("unexpected commit digest " + actual + " of ref \""
          + ingest.ref + "\", expected " + expected);
    }
    writer.committed = actual;
    Blob existing = blobs.get(actual);
    if (existing != null) {
      ingests.remove(ingest.ref);
      if (!takeReference) {
        throw new AlreadyExistsException("content " + actual + " already exists");
      }
      existing.refCount++;
      return infoOf(actual, existing);
    }
    Map<String, String> kept = new TreeMap<>(labels == null ? Map.of() : labels);
    kept.values().removeIf(String::isEmpty);
    Blob blob = new Blob(Arrays.copyOf(ingest.buffer, ingest.length), now(), Map.copyOf(kept),
        takeReference ? 1 : 0, ++incarnations);
    blobs.put(actual, blob);
    ingests.remove(ingest.ref);
    return infoOf(actual, blob);
  }

  private static Digest actualDigest(Ingest ingest, Digest expected) {
    if (expected != null && expected.algorithm() != ingest.algorithm()) {
      return Digest.fromHasher(expected.algorithm(),
          expected.algorithm().newHasher().digest(Arrays.copyOf(ingest.buffer, ingest.length)));
    }
    try {
      return Digest.fromHasher(ingest.algorithm(), ((MessageDigest) ingest.hasher.clone()).digest());
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("JDK digests are cloneable", e);
    }
  }

  /** A writer on one ingest; it holds the ref's lock until closed or committed. */
  private final class MemoryWriter implements Writer {
    final Ingest ingest;
    boolean closed;
    Digest committed;
    Status lastStatus;

    MemoryWriter(Ingest ingest) {
      this.ingest = ingest;
      this.lastStatus = ingest.status();
    }

    @Override
    public int write(java.nio.ByteBuffer src) {
      synchronized (MemoryStore.this) {
        checkOpen();
        int count = src.remaining();
        byte[] bytes;
        int offset;
        if (src.hasArray()) {
          bytes = src.array();
          offset = src.arrayOffset() + src.position();
        } else {
          bytes = new byte[count];
          src.duplicate().get(bytes);
          offset = 0;
        }
        ingest.append(bytes, offset, count);
        src.position(src.position() + count);
        ingest.updatedAt = now();
        lastStatus = ingest.status();
        return count;
      }
    }

    @Override
    public Digest digest() {
      synchronized (MemoryStore.this) {
        if (committed != null) {
          return committed;
        }
        return actualDigest(ingest, null);
      }
    }

    @Override
    public void commit(long size, Digest expected, Map<String, String> labels) {
      synchronized (MemoryStore.this) {
        MemoryStore.this.commit(this, size, expected, labels, false);
      }
    }

    @Override
    public Info commitAndRef(long size, Digest expected, Map<String, String> labels) {
      synchronized (MemoryStore.this) {
        return MemoryStore.this.commit(this, size, expected, labels, true);
      }
    }

    @Override
    public Status status() {
      synchronized (MemoryStore.this) {
        return closed ? lastStatus : ingest.status();
      }
    }

    @Override
    public void truncate(long size) {
      synchronized (MemoryStore.this) {
        checkOpen();
        if (size < 0 || size > ingest.length) {
          throw new InvalidArgumentException("cannot truncate ref \"" + ingest.ref + "\" to "
              + size + " bytes: it holds " + ingest.length);
        }
        byte[] kept = Arrays.copyOf(ingest.buffer, (int) size);
        ingest.reset();
        ingest.append(kept, 0, kept.length);
        ingest.updatedAt = now();
        lastStatus = ingest.status();
      }
    }

    @Override
    public void close() {
      synchronized (MemoryStore.this) {
        release();
      }
    }

    void release() {
      if (!closed) {
        closed = true;
        lastStatus = ingest.status();
        if (ingest.holder == this) {
          ingest.holder = null;
        }
      }
    }

    private void checkOpen() {
      if (closed) {
        throw new FailedPreconditionException("writer of ref \"" + ingest.ref + "\" is closed");
      }
    }
  }

  /** Positional reads over an immutable byte array. */
  private static final class MemoryReader implements ReaderAt {
    private final Digest digest;
    private final byte[] data;
    private volatile boolean closed;

    MemoryReader(Digest digest, byte[] data) {
      this.digest = digest;
      this.data = data;
    }

    @Override
    public int read(java.nio.ByteBuffer dst, long position) {
      if (closed) {
        throw new FailedPreconditionException("reader of " + digest + " is closed");
      }
      if (position < 0) {
        throw new InvalidArgumentException("invalid read position " + position + " in " + digest);
      }
      if (position >= data.length) {
        return dst.hasRemaining() ? -1 : 0;
      }
      int count = (int) Math.min(dst.remaining(), data.length - position);
      dst.put(data, (int) position, count);
      return count;
    }

    @Override
    public long size() {
      return data.length;
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
