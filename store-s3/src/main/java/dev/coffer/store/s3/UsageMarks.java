package dev.coffer.store.s3;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's record of blob uses (RET-1): reads, infos and commits of existing content report a
 * use with the record they have just read; a use is written to the index record only when that
 * record shows no use within the touch interval and this host has not marked the blob within it,
 * and then later, in the background, by one compare-and-swap that gives up as soon as the record
 * shows a use within the interval (another host's mark landed first). So a blob costs at most one
 * record write per touch interval across a farm, plus a refused write and a read for each host
 * racing it. A mark that finds the blob expired brings it back (RET-3): the use came before the
 * expiry's purge.
 *
 * <p>Thread-safe. {@link #close} writes what is pending.
 */
final class UsageMarks implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UsageMarks.class);
  /** How long a use waits to be written with others; far below any deletion grace worth having. */
  static final Duration FLUSH_DELAY = Duration.ofSeconds(5);
  /** How many blobs this host remembers having marked; beyond, a blob may be marked again. */
  private static final int REMEMBERED = 100_000;

  private final S3Store store;
  /** Uses not yet written: digest to the time of the use, ns since the epoch. */
  private final Map<Digest, Long> pending = new ConcurrentHashMap<>();
  /** When this host last decided to mark each blob, ns since the epoch. */
  private final Cache<Digest, Long> marked =
      Caffeine.newBuilder().maximumSize(REMEMBERED).build();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  UsageMarks(S3Store store) {
    this.store = store;
  }

  private long interval() {
    return store.config.touchInterval().toNanos();
  }

  /**
   * Reports a use of {@code digest} now, whose record the caller has just read as {@code seen}.
   * Never blocks on S3 and never throws.
   */
  void used(Digest digest, IndexRecord seen) {
    long now = store.now();
    if (seen != null && seen.lastUsed() > now - interval()) {
      return; // the record shows a use within the interval: nothing to write
    }
    Long last = marked.getIfPresent(digest);
    if (last != null && last > now - interval()) {
      return; // this host marked it within the interval already
    }
    marked.put(digest, now);
    pending.merge(digest, now, Math::max);
    if (scheduled.compareAndSet(false, true)) {
      try {
        store.leases.schedule(() -> store.workers.execute(this::flushScheduled),
            FLUSH_DELAY.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        scheduled.set(false); // closing: close() flushes
      }
    }
  }

  private void flushScheduled() {
    scheduled.set(false);
    flush();
  }

  /**
   * Writes the pending uses, one compare-and-swap per blob, skipping records that show a use
   * within the interval; failures are logged and the use dropped (the next use marks again).
   *
   * @return how many records were written
   */
  int flush() {
    List<Digest> digests = new ArrayList<>(pending.keySet());
    int written = 0;
    for (Digest digest : digests) {
      Long at = pending.remove(digest);
      if (at == null) {
        continue;
      }
      try {
        if (write(digest, at)) {
          written++;
        }
      } catch (NotFoundException e) {
        LOG.debug("use of {} not recorded: {}", digest, e.getMessage());
      } catch (StoreException e) {
        marked.invalidate(digest);
        LOG.debug("use of {} not recorded", digest, e);
      }
    }
    return written;
  }

  private boolean write(Digest digest, long at) {
    AtomicBoolean wrote = new AtomicBoolean();
    store.records().casIndex(digest, record -> {
      wrote.set(false);
      if (record == null) {
        throw new NotFoundException("content " + digest + " not found");
      }
      if (record.isExpired()) {
        wrote.set(true);
        return record.resurrected(at, store.records().newIncarnation(), 0);
      }
      if (!record.isLive() || record.lastUsed() > at - interval()) {
        return null;
      }
      wrote.set(true);
      return record.usedAt(at);
    });
    return wrote.get();
  }

  /**
   * The record of {@code digest} for a use that needs it live: read, and if gc expired it (still
   * {@code deleting}, within its grace), brought back by compare-and-swap before the caller uses
   * it (RET-3).
   *
   * @throws NotFoundException if there is no live or expired record
   */
  IndexRecord usable(Digest digest) {
    IndexRecord record = store.records().record(digest);
    if (record == null || !record.isExpired()) {
      return record;
    }
    long now = store.now();
    return store.records().casIndex(digest, r -> {
      if (r != null && r.isExpired()) {
        return r.resurrected(now, store.records().newIncarnation(), 0);
      }
      return null;
    });
  }

  @Override
  public void close() {
    flush();
  }
}
