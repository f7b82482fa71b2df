package dev.coffer.store.cache;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A store over another that counts what a cache asks of it (opened readers, info calls, bytes read)
 * and can hold back reads or corrupt them, to observe single flight, reads during a fill and
 * verification. Closing it does not close the store underneath, so several caches can share one
 * backing store, as several hosts share one bucket. Reusable over any backing store.
 */
public final class CountingStore implements ContentStore {
  private final ContentStore store;
  private final AtomicInteger readerOpens = new AtomicInteger();
  private final AtomicInteger infoCalls = new AtomicInteger();
  private final AtomicLong bytesRead = new AtomicLong();
  private volatile CountDownLatch gate;
  private volatile long gateFrom;
  private volatile boolean corruptReads;

  private CountingStore(ContentStore store) {
    this.store = store;
  }

  /** A counting view of {@code store}. */
  public static CountingStore over(ContentStore store) {
    return new CountingStore(store);
  }

  /** The store underneath, for changes made as another host would (bypassing any cache). */
  public ContentStore underlying() {
    return store;
  }

  /** How many readers were opened. */
  public int readerOpens() {
    return readerOpens.get();
  }

  /** How many times {@code info} was called. */
  public int infoCalls() {
    return infoCalls.get();
  }

  /** How many bytes readers returned. */
  public long bytesRead() {
    return bytesRead.get();
  }

  /** From now on, reads at or beyond {@code position} wait until {@link #openGate()}. */
  public void closeGate(long position) {
    gateFrom = position;
    gate = new CountDownLatch(1);
  }

  /** Lets held reads go on. */
  public void openGate() {
    CountDownLatch latch = gate;
    gate = null;
    if (latch != null) {
      latch.countDown();
    }
  }

  /** Whether reads flip the first byte of every blob. */
  public void corruptReads(boolean corrupt) {
    corruptReads = corrupt;
  }

  @Override
  public ReaderAt readerAt(Descriptor descriptor) {
    readerOpens.incrementAndGet();
    ReaderAt reader = store.readerAt(descriptor);
    return new ReaderAt() {
      @Override
      public int read(ByteBuffer dst, long position) {
        CountDownLatch latch = gate;
        if (latch != null && position >= gateFrom) {
          try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
              throw new IllegalStateException("the gate stayed closed");
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
        int start = dst.position();
        int n = reader.read(dst, position);
        if (n > 0) {
          bytesRead.addAndGet(n);
          if (corruptReads && position == 0) {
            dst.put(start, (byte) ~dst.get(start));
          }
        }
        return n;
      }

      @Override
      public long size() {
        return reader.size();
      }

      @Override
      public void close() {
        reader.close();
      }
    };
  }

  @Override
  public Info info(Digest digest) {
    infoCalls.incrementAndGet();
    return store.info(digest);
  }

  @Override
  public Info update(Info info, String... fieldpaths) {
    return store.update(info, fieldpaths);
  }

  @Override
  public void walk(Consumer<? super Info> fn, String... filters) {
    store.walk(fn, filters);
  }

  @Override
  public void delete(Digest digest) {
    store.delete(digest);
  }

  @Override
  public Status status(String ref) {
    return store.status(ref);
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    return store.listStatuses(filters);
  }

  @Override
  public void abort(String ref) {
    store.abort(ref);
  }

  @Override
  public Writer writer(String ref, Descriptor descriptor) {
    return store.writer(ref, descriptor);
  }

  @Override
  public Info ref(Digest digest) {
    return store.ref(digest);
  }

  @Override
  public void deref(Digest digest) {
    store.deref(digest);
  }

  @Override
  public void deref(Digest digest, long incarnation) {
    store.deref(digest, incarnation);
  }

  @Override
  public void link(Digest to, Digest from) {
    store.link(to, from);
  }

  @Override
  public void linkNew(java.util.Collection<Digest> to, Digest from) {
    store.linkNew(to, from);
  }

  @Override
  public void unlink(Digest to, Digest from) {
    store.unlink(to, from);
  }

  @Override
  public GcReport gc(GcOptions options) {
    return store.gc(options);
  }

  @Override
  public FsckReport fsck(boolean repair) {
    return store.fsck(repair);
  }

  /** Does not close the store underneath, which other caches may share. */
  @Override
  public void close() {}
}
