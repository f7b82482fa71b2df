package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnknownException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The index records of one store: reads, compare-and-swap changes and create-only creations of
 * them, each attempt stamped with an operation id (PROTO-3), fresh incarnations (PROTO-1), and the
 * mirror of a record in its blob object's tags. Thread-safe: its one state of its own is the last
 * version of each record it wrote or read in a change ({@link KnownRecords}), a hint that a
 * change may start from instead of a read, which a host that dies loses.
 */
final class IndexRecords {
  private static final Logger LOG = LoggerFactory.getLogger(IndexRecords.class);
  /**
   * How long a compare-and-swap of a record keeps trying (PROTO-3): well below {@link
   * IndexRecord#OP_RETENTION}, so its operation ids are still in the record when it last reads it,
   * even with hosts' clocks apart by half the default purge timeout.
   */
  static final Duration CAS_DEADLINE = Duration.ofMinutes(5);

  private final S3StoreConfig config;
  private final S3Objects objects;
  private final Keys keys;
  private final StoreRuntime runtime;
  private final Supplier<StoreMetrics> metrics;
  /** The last version of each record written or read here in a change, to start the next from. */
  private final KnownRecords known = new KnownRecords();

  IndexRecords(S3StoreConfig config, S3Objects objects, Keys keys, StoreRuntime runtime,
      Supplier<StoreMetrics> metrics) {
    this.config = config;
    this.objects = objects;
    this.keys = keys;
    this.runtime = runtime;
    this.metrics = metrics;
  }

  private long now() {
    return Times.now(config.clock());
  }

  /**
   * The record of {@code digest}, or null. A record that cannot be parsed is read again, as one
   * that is changing, up to {@code casAttempts} times: S3 serves an object whole, but S3Mock can
   * serve another host's record while it is still being written, cut short (CascadeIT met one in
   * a clean build). One still unreadable then is reported (UnknownException) as before.
   */
  IndexRecord record(Digest digest) {
    String key = keys.index(digest);
    Backoff backoff = null;
    for (int attempt = 0; ; attempt++) {
      S3Objects.Fetched fetched = objects.get(key);
      if (fetched == null) {
        return null;
      }
      try {
        return Json.read(fetched.bytes(), IndexRecord.class, digest.toString());
      } catch (UnknownException unreadable) {
        if (attempt >= config.casAttempts()) {
          throw unreadable;
        }
        backoff = backoff == null ? backoff() : backoff;
        backoff.pause(attempt);
      }
    }
  }

  /**
   * The records of {@code digests}, read many at once through {@code reads}; a digest without a
   * record maps to null.
   */
  Map<Digest, IndexRecord> records(Collection<Digest> digests, ParallelReads reads) {
    Map<String, Digest> byKey = new HashMap<>();
    digests.forEach(d -> byKey.put(keys.index(d), d));
    Map<Digest, IndexRecord> found = new HashMap<>();
    reads.forEachBytes(List.copyOf(byKey.keySet()), (key, bytes) -> found.put(byKey.get(key),
        bytes == null ? null : Json.read(bytes, IndexRecord.class, key)));
    return found;
  }

  IndexRecord liveRecord(Digest digest) {
    IndexRecord record = record(digest);
    requireLive(digest, record);
    return record;
  }

  static void requireLive(Digest digest, IndexRecord record) {
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
   * <p>The SDK does not retry a record write; an attempt S3 applied whose answer was lost is
   * recognised by its operation id ({@link IndexRecord#withOp}) and not applied again (PROTO-3).
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
    return casVersioned(digest, change, first).record();
  }

  /**
   * A record as written or read by a compare-and-swap, with its ETag when known (null when the
   * attempt that landed was recognised by its operation id, PROTO-3).
   */
  record Versioned(IndexRecord record, String etag) {
    /** As fetched, to start a later compare-and-swap from without reading; null if unknown. */
    S3Objects.Fetched fetched() {
      return etag == null ? null : new S3Objects.Fetched(Json.write(record), etag);
    }
  }

  /**
   * {@link #casIndex(Digest, UnaryOperator, S3Objects.Fetched)}, where {@code first} is the
   * version remembered here ({@link #known}) when {@code remembered}: an outcome that writes
   * nothing ({@code change} returns null or throws) is then never taken from it, as {@link
   * #casKnown} (PROTO-14).
   */
  IndexRecord casIndex(Digest digest, UnaryOperator<IndexRecord> change,
      S3Objects.Fetched first, boolean remembered) {
    return cas(digest, change, first, remembered && first != null).record();
  }

  /** {@link #casIndex(Digest, UnaryOperator, S3Objects.Fetched)}, with the record's ETag. */
  Versioned casVersioned(Digest digest, UnaryOperator<IndexRecord> change,
      S3Objects.Fetched first) {
    return cas(digest, change, first, false);
  }

  /**
   * {@link #casIndex(Digest, UnaryOperator)} starting from the version of the record this store
   * last wrote or saw ({@link #known}) instead of reading it, when there is one. If another host
   * changed the record since, the write is refused and the change goes on from a read, as it
   * would have without the remembered version: a stale one costs the refused request. An outcome
   * that writes nothing ({@code change} returns null or throws) is never taken from the remembered
   * version: the record is then read and {@code change} applied to what was read.
   */
  IndexRecord casKnown(Digest digest, UnaryOperator<IndexRecord> change) {
    S3Objects.Fetched remembered = known.get(digest);
    return cas(digest, change, remembered, remembered != null).record();
  }

  /**
   * The version of {@code digest}'s record this store last wrote, or read while changing it, or
   * null: a hint to start a compare-and-swap from, which may be stale ({@link KnownRecords}).
   */
  S3Objects.Fetched known(Digest digest) {
    return known.get(digest);
  }

  /** Forgets the version of {@code digest}'s record remembered here ({@link #known}). */
  void forget(Digest digest) {
    known.forget(digest);
  }

  /**
   * The compare-and-swap loop.
   *
   * @param first the record to start from without reading it, or null
   * @param remembered whether {@code first} is a remembered version rather than one just read:
   *     then an outcome without a write is made again on a fresh read
   */
  private Versioned cas(Digest digest, UnaryOperator<IndexRecord> change, S3Objects.Fetched first,
      boolean remembered) {
    String key = keys.index(digest);
    // Each attempt's record, by its operation id: the one found in a later read is what landed.
    Map<String, IndexRecord> attempts = new HashMap<>();
    // The conditions (the ETag written If-Match, "" for create-only) of attempts that may land.
    Set<String> mayLand = new HashSet<>();
    StoreException failure = null;
    long started = runtime.nanoTime().getAsLong();
    S3Objects.Fetched fetched = first;
    boolean unconfirmed = remembered;
    Backoff backoff = backoff();
    int attempt = 0;
    while (true) {
      if (attempt > 0 || fetched == null) {
        fetched = objects.get(key);
        known.put(digest, fetched);
      }
      IndexRecord current;
      try {
        current = fetched == null ? null : read(digest, fetched);
      } catch (UnknownException unreadable) {
        // Served cut short while another host writes it (S3Mock; S3 serves objects whole): read
        // it again as a changing record, and report it only once the attempts are spent.
        known.forget(digest);
        if (attempt >= config.casAttempts()) {
          throw unreadable;
        }
        backoff.pause(attempt);
        attempt++;
        fetched = null;
        continue;
      }
      IndexRecord landed = landed(current, attempts);
      if (landed != null) {
        metrics.get().cas("recovered");
        return new Versioned(landed, null);
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
          metrics.get().cas("unknown");
          throw unknown;
        }
        AbortedException aborted = new AbortedException("the record of " + digest
            + " changed concurrently " + attempt + " times; nothing was changed");
        if (failure != null) {
          aborted.addSuppressed(failure);
        }
        metrics.get().cas("aborted");
        throw aborted;
      }
      IndexRecord next;
      try {
        next = change.apply(current);
      } catch (RuntimeException refused) {
        if (unconfirmed) {
          unconfirmed = false; // a refusal of a remembered version: decided again on a read
          fetched = null;
          continue;
        }
        throw refused;
      }
      if (next == null) {
        if (unconfirmed) {
          unconfirmed = false;
          fetched = null;
          continue;
        }
        if (current == null) {
          throw new NotFoundException("content " + digest + " not found");
        }
        return new Versioned(current, fetched.etag());
      }
      unconfirmed = false;
      String op = newOp();
      next = next.withOp(op, now());
      attempts.put(op, next);
      String condition = fetched == null ? null : fetched.etag();
      byte[] json = Json.write(next);
      S3Objects.Attempt result = objects.writeRecordOnce(key, json, condition);
      if (result.written()) {
        known.put(digest, new S3Objects.Fetched(json, result.etag()), next);
        return new Versioned(next, result.etag());
      }
      if (result.failure() != null) {
        failure = result.failure();
      }
      if (result.mayLand()) {
        mayLand.add(condition == null ? "" : condition);
      }
      metrics.get().cas("retry");
      backoff.pause(attempt);
      attempt++;
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
    Backoff backoff = backoff();
    for (int attempt = 0; attempt < config.casAttempts(); attempt++) {
      S3Objects.Attempt result = objects.writeRecordOnce(key, json, null);
      if (result.written()) {
        known.put(digest, new S3Objects.Fetched(json, result.etag()));
        return new Creation(true, null);
      }
      S3Objects.Fetched found = objects.get(key);
      known.put(digest, found);
      if (found != null) {
        boolean ours = Json.read(found.bytes(), IndexRecord.class, key).ops().contains(op);
        return ours ? new Creation(true, null) : new Creation(false, found);
      }
      if (result.failure() != null) {
        failure = result.failure();
        backoff.pause(attempt);
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

  /** The record of {@code digest} with its ETag, or null. */
  S3Objects.Fetched fetch(Digest digest) {
    return objects.get(keys.index(digest));
  }

  /** The record {@code fetched} holds, or null. */
  IndexRecord parse(Digest digest, S3Objects.Fetched fetched) {
    return fetched == null ? null : read(digest, fetched);
  }

  /**
   * The record {@code fetched} holds: the parse kept with it if it is the version known here and
   * was parsed before ({@link KnownRecords#parsed}), else parsed now (and kept, if it is).
   */
  private IndexRecord read(Digest digest, S3Objects.Fetched fetched) {
    IndexRecord record = known.parsed(digest, fetched);
    if (record == null) {
      record = Json.read(fetched.bytes(), IndexRecord.class, digest.toString());
      known.parsedNow(digest, fetched, record);
    }
    return record;
  }

  /**
   * The records of {@code digests} with their ETags, read many at once through {@code reads}; a
   * digest without a record maps to null.
   */
  Map<Digest, S3Objects.Fetched> fetchAll(Collection<Digest> digests, ParallelReads reads) {
    Map<String, Digest> byKey = new HashMap<>();
    digests.forEach(d -> byKey.put(keys.index(d), d));
    Map<Digest, S3Objects.Fetched> found = new HashMap<>();
    reads.forEach(List.copyOf(byKey.keySet()), (key, fetched) -> found.put(byKey.get(key),
        fetched));
    return found;
  }

  /** A fresh id for one change of an index record, stamped with the time. */
  String newOp() {
    return IndexRecord.op(runtime.nextLong(), now());
  }

  /** The pauses of one retry loop over records. */
  Backoff backoff() {
    return new Backoff(runtime);
  }

  /** Sets the blob object's tags to mirror its record; best effort, the record is the truth. */
  void mirrorTags(Digest digest, IndexRecord record) {
    try {
      objects.putTags(keys.blob(digest), record.tags());
    } catch (StoreException e) {
      LOG.debug("could not mirror the tags of {}; fsck reconciles them", digest, e);
    }
  }
}
