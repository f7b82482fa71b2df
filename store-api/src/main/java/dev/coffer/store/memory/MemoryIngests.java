package dev.coffer.store.memory;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.spi.Checks;
import dev.coffer.store.spi.Labels;
import dev.coffer.store.spi.Refs;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ingests by ref, their writers and commits into the blob table. Not thread-safe: every
 * method is called with the store's monitor, {@code lock}, held; writers take it themselves.
 */
final class MemoryIngests {
  private final Object lock;
  private final MemoryBlobs blobs;
  private final Map<String, MemoryIngest> ingests = new HashMap<>();

  MemoryIngests(Object lock, MemoryBlobs blobs) {
    this.lock = lock;
    this.blobs = blobs;
  }

  /** The live ingests, for gc, which walks and removes them with the monitor held. */
  Collection<MemoryIngest> all() {
    return ingests.values();
  }

  Status status(String ref) {
    Refs.validate(ref);
    MemoryIngest ingest = ingests.get(ref);
    if (ingest == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    return ingest.status();
  }

  List<Status> statuses() {
    return ingests.values().stream().map(MemoryIngest::status).toList();
  }

  void abort(String ref) {
    Refs.validate(ref);
    MemoryIngest ingest = ingests.get(ref);
    if (ingest == null) {
      throw new NotFoundException("no ingest with ref \"" + ref + "\"");
    }
    if (ingest.holder != null) {
      throw new UnavailableException("ref \"" + ref + "\" is locked by an open writer");
    }
    ingests.remove(ref);
  }

  Writer writer(String ref, Descriptor descriptor) {
    Refs.validate(ref);
    if (descriptor.digest() != null && blobs.get(descriptor.digest()) != null) {
      throw new AlreadyExistsException("content " + descriptor.digest() + " already exists");
    }
    MemoryIngest ingest = ingests.get(ref);
    if (ingest == null) {
      ingest = new MemoryIngest(ref, descriptor.size(), descriptor.digest(), blobs.now());
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
    MemoryWriter writer = new MemoryWriter(lock, this, ingest);
    ingest.holder = writer;
    return writer;
  }

  Instant now() {
    return blobs.now();
  }

  /** Ends a commit: the writer is closed whatever the outcome. */
  Info commit(MemoryWriter writer, long size, Digest expected, Map<String, String> labels,
      boolean takeReference) {
    MemoryIngest ingest = writer.ingest;
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
    Digest actual = ingest.actualDigest(expected);
    if (expected != null && !expected.equals(actual)) {
      throw new FailedPreconditionException("unexpected commit digest " + actual + " of ref \""
          + ingest.ref + "\", expected " + expected);
    }
    writer.committed = actual;
    MemoryBlob existing = blobs.get(actual);
    if (existing != null) {
      ingests.remove(ingest.ref);
      blobs.used(existing);
      if (!takeReference) {
        throw new AlreadyExistsException("content " + actual + " already exists");
      }
      existing.refCount++;
      return existing.info(actual);
    }
    Map<String, String> kept = new TreeMap<>(labels == null ? Map.of() : labels);
    kept.values().removeIf(String::isEmpty);
    MemoryBlob blob = blobs.add(actual, Arrays.copyOf(ingest.buffer, ingest.length),
        Map.copyOf(kept), takeReference ? 1 : 0);
    ingests.remove(ingest.ref);
    return blob.info(actual);
  }
}
