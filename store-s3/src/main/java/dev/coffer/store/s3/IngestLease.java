package dev.coffer.store.s3;

import dev.coffer.store.Descriptor;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer's hold on a ref: its ingest record and the lease in it. Taken when the writer opens
 * (created, or taken over once the last owner's lease lapsed), renewed on the store's workers while
 * the writer is open or committing (PROTO-7), and lost for good once a renewal finds it lapsed or an
 * update finds the record changed by another writer. Every change of the record is a
 * compare-and-swap against the ETag this writer last wrote; a 412 answering this writer's own write
 * is recognised by the record's bytes (PROTO-6). Thread-safe: changes are serialised by one lock,
 * shared by the writer's thread and its renewals; reading the record and whether the lease is held
 * never waits for a change in flight, so a renewal stuck in a slow request holds up no write.
 */
final class IngestLease {
  private static final Logger LOG = LoggerFactory.getLogger(IngestLease.class);
  private final S3Store store;
  private final S3Objects objects;
  private final String ref;
  private final String owner;
  private final String stateKey;
  private final long leaseNanos;

  /** Serialises changes of the record; the fields below are written under it. */
  private final Object lock = new Object();
  private volatile IngestRecord record;
  private String etag;
  private volatile boolean lost;
  /** Whether a commit is in progress: the lease is renewed meanwhile though the writer is closed. */
  private boolean committing;
  /** Whether the writer is closed: renewals stop, unless a commit is in progress. */
  private volatile boolean closed;

  private ScheduledFuture<?> renewal;
  /** Whether a renewal of this lease is under way on the workers. */
  private final AtomicBoolean renewing = new AtomicBoolean();

  IngestLease(S3Store store, String ref, String owner) {
    this.store = store;
    this.objects = store.objects;
    this.ref = ref;
    this.owner = owner;
    this.stateKey = store.keys.ingestState(ref);
    this.leaseNanos = store.config.leaseDuration().toNanos();
  }

  /**
   * Takes the ref: creates its ingest record, or takes over one whose lease lapsed.
   *
   * @return true if a new ingest was started (offset 0), false if an existing one was taken over
   * @throws UnavailableException if another writer holds the lease, took the ingest meanwhile, or
   *     the record keeps changing for {@code casAttempts}
   */
  boolean take(Descriptor descriptor) {
    for (int attempt = 0; ; attempt++) {
      long now = store.now();
      IngestRecord fresh = IngestRecord.start(ref, descriptor.size(), descriptor.digest(), now,
          owner, now + leaseNanos);
      byte[] json = Json.write(fresh);
      String created = objects.putIfAbsent(stateKey, json, json.length, null, Map.of());
      if (created != null) {
        set(fresh, created);
        return true;
      }
      S3Objects.Fetched fetched = objects.get(stateKey);
      if (fetched != null && Arrays.equals(fetched.bytes(), json)) {
        // This writer's own creation, applied with its answer lost: the SDK's retry met it as
        // 412. The lease is this writer's (PROTO-6).
        set(fresh, fetched.etag());
        return true;
      }
      if (fetched == null) {
        if (attempt >= store.config.casAttempts()) {
          throw new UnavailableException("ref \"" + ref + "\" keeps changing; try again");
        }
        continue; // aborted or committed meanwhile: create it anew
      }
      IngestRecord found;
      try {
        found = Json.read(fetched.bytes(), IngestRecord.class, stateKey);
      } catch (UnknownException unreadable) {
        // S3 serves an object whole; S3Mock can serve another host's record while it is still
        // being written, cut short. Read it again, as a record that keeps changing; a record
        // still unreadable after casAttempts is reported as before.
        if (attempt >= store.config.casAttempts()) {
          throw unreadable;
        }
        continue;
      }
      takeOver(found, fetched.etag(), descriptor, now);
      return false;
    }
  }

  private void takeOver(IngestRecord found, String foundEtag, Descriptor descriptor, long now) {
    if (found.leasedAt(now)) {
      Instant until = Times.instant(found.leaseExpiry());
      throw new UnavailableException("ref \"" + ref + "\" is locked by another writer ("
          + found.leaseOwner() + ") whose lease lapses at " + until + " unless renewed", until);
    }
    IngestRecord taken = found.withLease(owner, now + leaseNanos);
    boolean unused = found.offset() == 0 && found.uploadId() == null;
    if (found.expected() == null && descriptor.digest() != null && unused) {
      taken = taken.withDescriptor(taken.total(), descriptor.digest().toString(),
          descriptor.digest().algorithm().label());
    }
    if (taken.total() == 0 && descriptor.size() > 0) {
      taken = taken.withDescriptor(descriptor.size(), taken.expected(), taken.algorithm());
    }
    String newEtag = objects.putIfMatch(stateKey, Json.write(taken), foundEtag);
    if (newEtag == null) {
      throw new UnavailableException("ref \"" + ref + "\" was taken by another writer");
    }
    set(taken, newEtag);
    store.metrics.lease("taken_over");
    LOG.info("took over ref \"{}\" at offset {}: the lease of {} had lapsed", ref,
        taken.offset(), found.leaseOwner());
  }

  private void set(IngestRecord taken, String takenEtag) {
    synchronized (lock) {
      record = taken;
      etag = takenEtag;
    }
  }

  /** The ingest record as this writer last wrote it; null before {@link #take}. */
  IngestRecord record() {
    return record;
  }

  /**
   * Changes the ingest record by compare-and-swap against the version this writer last wrote.
   *
   * @throws UnavailableException if the lease is lost, or is found lost by this write
   */
  void update(UnaryOperator<IngestRecord> change) {
    synchronized (lock) {
      if (lost) {
        throw new UnavailableException("the lease on ref \"" + ref + "\" was lost");
      }
      IngestRecord next = change.apply(record);
      byte[] json = Json.write(next);
      String written = objects.putIfMatch(stateKey, json, etag);
      if (written == null) {
        // A 412 may answer the SDK's retry of this very write, applied by S3 with its answer
        // lost: the record then holds exactly these bytes, this writer's lease included (PROTO-6).
        S3Objects.Fetched found = objects.get(stateKey);
        if (found != null && Arrays.equals(found.bytes(), json)) {
          written = found.etag();
        }
      }
      if (written == null) {
        lost = true;
        store.metrics.lease("lost");
        throw new UnavailableException("the lease on ref \"" + ref
            + "\" was lost: another writer took the ingest over");
      }
      record = next;
      etag = written;
    }
  }

  /** @throws UnavailableException if the lease is lost */
  void checkHeld() {
    if (lost) {
      throw new UnavailableException("the lease on ref \"" + ref + "\" was lost");
    }
  }

  /** Gives the lease up, keeping the ingest for the next writer. */
  void release() {
    update(r -> r.withLease(null, 0));
  }

  /**
   * Ends the ingest: deletes its record If-Match this writer's last ETag (PROTO-4). Nothing may
   * write the record afterwards.
   *
   * @return the record as this writer last wrote it, whose bytes are now this writer's to remove;
   *     null if another writer took the ingest over, whose bytes are then left to it
   */
  IngestRecord end() {
    IngestRecord last;
    String lastEtag;
    synchronized (lock) {
      last = record;
      lastEtag = etag;
      lost = true;
    }
    if (!objects.deleteIfMatch(stateKey, lastEtag) && objects.get(stateKey) != null) {
      LOG.warn("the ingest of ref \"{}\" was taken over by another writer while this one "
          + "committed (its lease lapsed); its bytes are left to that writer", ref);
      return null;
    }
    return last;
  }

  // ---- renewals

  /** Renews the lease every third of its duration until {@link #stopRenewals}. */
  void startRenewals() {
    long period = Math.max(1, leaseNanos / 3);
    renewal = store.leases.scheduleAtFixedRate(this::startRenewal, period, period,
        TimeUnit.NANOSECONDS);
  }

  void stopRenewals() {
    if (renewal != null) {
      renewal.cancel(false);
    }
  }

  /** The writer is closed: renewals stop, except while a commit is in progress. */
  void writerClosed() {
    closed = true;
  }

  /** A commit starts: the lease is renewed until {@link #commitEnded}, though the writer is closed. */
  void commitStarted() {
    synchronized (lock) {
      committing = true;
    }
  }

  void commitEnded() {
    synchronized (lock) {
      committing = false;
    }
  }

  /**
   * Hands this writer's renewal to the workers, unless the last one is still running: the lease
   * thread only schedules, so a renewal stuck in a slow request never holds back the other
   * writers' (PROTO-7).
   */
  private void startRenewal() {
    if (!renewing.compareAndSet(false, true)) {
      return;
    }
    try {
      store.workers.execute(() -> {
        try {
          renew();
        } finally {
          renewing.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      renewing.set(false); // the store is closing
    }
  }

  private void renew() {
    synchronized (lock) {
      if (lost || (closed && !committing)) {
        return;
      }
      try {
        update(r -> r.withLease(owner, store.now() + leaseNanos));
        store.metrics.lease("renewed");
      } catch (StoreException e) {
        store.metrics.lease("renewal_failed");
        LOG.warn("renewing the lease on ref \"{}\" failed (it lapses at {}): {}", ref,
            Times.instant(record.leaseExpiry()), e.getMessage());
        if (!lost && store.now() >= record.leaseExpiry()) {
          // Lapsed: another writer may take the ingest over now. This one stops writing it.
          lost = true;
        }
      }
    }
  }
}
