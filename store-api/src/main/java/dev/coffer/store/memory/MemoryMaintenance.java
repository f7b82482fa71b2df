package dev.coffer.store.memory;

import dev.coffer.store.BlobVerifier;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.InvalidArgumentException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Retention, gc and fsck of the in-memory store: stale ingests, blobs expired by use or size, and
 * dangling links. Each step takes the store's monitor, {@code lock}, itself.
 */
final class MemoryMaintenance {
  private final Object lock;
  private final ContentStore store;
  private final MemoryBlobs blobs;
  private final MemoryIngests ingests;

  MemoryMaintenance(Object lock, ContentStore store, MemoryBlobs blobs, MemoryIngests ingests) {
    this.lock = lock;
    this.store = store;
    this.blobs = blobs;
    this.ingests = ingests;
  }

  GcReport gc(GcOptions options) {
    long started = System.nanoTime();
    long removed = 0;
    long bytes = 0;
    List<GcReport.Skip> skipped = new ArrayList<>();
    synchronized (lock) {
      Instant cutoff = blobs.now().minus(options.ingestAge());
      for (var it = ingests.all().iterator(); it.hasNext(); ) {
        MemoryIngest ingest = it.next();
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
    List<Digest> expired = new ArrayList<>();
    long expiredBytes = 0;
    if (options.unusedFor() != null
        && options.unusedFor().compareTo(MemoryBlobs.TOUCH_INTERVAL) < 0) {
      throw new InvalidArgumentException("unused-for " + options.unusedFor()
          + " is below the touch interval " + MemoryBlobs.TOUCH_INTERVAL
          + ": a blob in use could look unused");
    }
    if (options.expires()) {
      synchronized (lock) {
        for (Digest digest : expirable(options)) {
          MemoryBlob blob = blobs.get(digest);
          expired.add(digest);
          expiredBytes += blob.data.length;
          if (!options.dryRun()) {
            blobs.remove(digest);
          }
        }
      }
    }
    // Blobs are removed at once when deleted, dereferenced to zero or expired: nothing waits for
    // a purge, and no use can race an expiry, which holds the store's monitor.
    return new GcReport(expired.size(), bytes + expiredBytes, removed, 0, skipped,
        Duration.ofNanos(System.nanoTime() - started), expired, expiredBytes);
  }

  /**
   * The blobs without a reference that {@code options} expire, least recently used first: those
   * unused for longer than {@code unusedFor}, then more until the rest fits {@code maxBytes}.
   */
  private List<Digest> expirable(GcOptions options) {
    Instant now = blobs.now();
    long total = 0;
    List<Map.Entry<Digest, MemoryBlob>> unreferenced = new ArrayList<>();
    for (Map.Entry<Digest, MemoryBlob> entry : blobs.table().entrySet()) {
      total += entry.getValue().data.length;
      if (entry.getValue().refCount == 0) {
        unreferenced.add(entry);
      }
    }
    unreferenced.sort(Map.Entry.comparingByValue(
        Comparator.comparing((MemoryBlob b) -> b.lastUsedAt)));
    List<Digest> chosen = new ArrayList<>();
    for (Map.Entry<Digest, MemoryBlob> entry : unreferenced) {
      boolean old = options.unusedFor() != null
          && entry.getValue().lastUsedAt.isBefore(now.minus(options.unusedFor()));
      boolean over = options.maxBytes() >= 0 && total > options.maxBytes();
      if (!old && !over) {
        break;
      }
      chosen.add(entry.getKey());
      total -= entry.getValue().data.length;
    }
    return chosen;
  }

  /** Verification reads every blob through the store; a corrupt blob is not repaired. */
  FsckReport fsck(FsckOptions options) {
    FsckReport base = fsck(options.repair());
    if (!options.verify()) {
      return base;
    }
    List<FsckReport.Finding> findings = new ArrayList<>(base.findings());
    findings.addAll(BlobVerifier.verify(store, options, digest -> false));
    return new FsckReport(base.blobsChecked(), findings);
  }

  FsckReport fsck(boolean repair) {
    synchronized (lock) {
      Map<Digest, MemoryBlob> table = blobs.table();
      List<FsckReport.Finding> findings = new ArrayList<>();
      for (Map.Entry<Digest, MemoryBlob> entry : table.entrySet()) {
        for (var it = entry.getValue().links.keySet().iterator(); it.hasNext(); ) {
          Digest target = it.next();
          if (!table.containsKey(target)) {
            if (repair) {
              it.remove();
            }
            findings.add(new FsckReport.Finding(FsckReport.Kind.DANGLING_LINK,
                entry.getKey().toString(), "links to " + target + ", which does not exist",
                repair));
          }
        }
      }
      return new FsckReport(table.size(), findings);
    }
  }
}
