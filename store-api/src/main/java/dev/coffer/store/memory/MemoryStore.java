package dev.coffer.store.memory;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Filter;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * The in-memory store: the facade over the blob table and its references ({@link MemoryBlobs}),
 * the ingests and their writers ({@link MemoryIngests}), and gc and fsck
 * ({@link MemoryMaintenance}). One monitor, this store's, guards all state: operations are short,
 * and a single lock makes every step of a cascade atomic, which is the behaviour the S3 store
 * reaches with compare-and-swap.
 */
final class MemoryStore implements ContentStore {

  private final MemoryBlobs blobs;
  private final MemoryIngests ingests;
  private final MemoryMaintenance maintenance;

  MemoryStore(Clock clock) {
    this.blobs = new MemoryBlobs(clock);
    this.ingests = new MemoryIngests(this, blobs);
    this.maintenance = new MemoryMaintenance(this, this, blobs, ingests);
  }

  // ---- Manager

  @Override
  public synchronized Info info(Digest digest) {
    MemoryBlob blob = blobs.live(digest);
    blobs.used(blob);
    return blob.info(digest);
  }

  @Override
  public synchronized Info update(Info info, String... fieldpaths) {
    return blobs.update(info, fieldpaths);
  }

  @Override
  public void walk(Consumer<? super Info> fn, String... filters) {
    Filter filter = Filter.parse(filters);
    List<Info> snapshot;
    synchronized (this) {
      snapshot = blobs.snapshot();
    }
    for (Info info : snapshot) {
      if (filter.matches(info)) {
        fn.accept(info);
      }
    }
  }

  @Override
  public synchronized void delete(Digest digest) {
    blobs.live(digest);
    blobs.remove(digest);
  }

  @Override
  public synchronized void deref(Digest digest, long incarnation) {
    blobs.deref(digest, incarnation);
  }

  // ---- Provider

  @Override
  public synchronized ReaderAt readerAt(Descriptor descriptor) {
    Digest digest = descriptor.requireDigest();
    MemoryBlob blob = blobs.live(digest);
    blobs.used(blob);
    return new MemoryReader(digest, blob.data);
  }

  // ---- IngestManager

  @Override
  public synchronized Status status(String ref) {
    return ingests.status(ref);
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    Filter filter = Filter.parse(filters);
    List<Status> all;
    synchronized (this) {
      all = ingests.statuses();
    }
    return all.stream().filter(filter::matches).toList();
  }

  @Override
  public synchronized void abort(String ref) {
    ingests.abort(ref);
  }

  // ---- Ingester

  @Override
  public synchronized Writer writer(String ref, Descriptor descriptor) {
    return ingests.writer(ref, descriptor);
  }

  // ---- ReferenceCounter

  @Override
  public synchronized Info ref(Digest digest) {
    return blobs.ref(digest);
  }

  @Override
  public synchronized void deref(Digest digest) {
    blobs.deref(digest);
  }

  @Override
  public synchronized void link(Digest to, Digest from) {
    blobs.link(to, from);
  }

  @Override
  public synchronized void linkAll(Collection<Digest> to, Digest from) {
    for (Digest target : to) {
      blobs.link(target, from);
    }
  }

  @Override
  public synchronized void linkNew(Collection<Digest> to, Digest from) {
    blobs.linkNew(to, from);
  }

  @Override
  public synchronized void unlink(Digest to, Digest from) {
    blobs.unlink(to, from);
  }

  // ---- Maintenance

  @Override
  public GcReport gc(GcOptions options) {
    return maintenance.gc(options);
  }

  /** Verification reads every blob through this store; a corrupt blob is not repaired. */
  @Override
  public FsckReport fsck(FsckOptions options) {
    return maintenance.fsck(options);
  }

  @Override
  public FsckReport fsck(boolean repair) {
    return maintenance.fsck(repair);
  }

  @Override
  public void close() {
    // Nothing to release: the state is garbage-collected with the instance.
  }
}
