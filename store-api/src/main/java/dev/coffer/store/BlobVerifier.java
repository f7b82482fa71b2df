package dev.coffer.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;

/**
 * Reads and hashes the live blobs of a store (or a sample), a bounded number at once: the content
 * check of {@code fsck --verify} (INT-3 of docs/architecture.md). Each blob is read from byte 0 to
 * its end through the store's own reader and hashed here, whatever the reader verifies itself.
 */
public final class BlobVerifier {
  private static final int BUFFER = 1 << 20;

  private BlobVerifier() {}

  /**
   * Verifies the blobs {@code options} samples.
   *
   * @param repair given a corrupt blob's digest when {@code options.repair()}; returns whether it
   *     repaired it
   * @return a {@link FsckReport.Kind#CORRUPT_BLOB} finding for every corrupt blob
   */
  public static List<FsckReport.Finding> verify(ContentStore store, FsckOptions options,
      Predicate<Digest> repair) {
    List<Info> chosen = new ArrayList<>();
    store.walk(info -> {
      if (options.samples(info.digest())) {
        chosen.add(info);
      }
    });
    options.progress().started(chosen.size(),
        chosen.stream().mapToLong(Info::size).sum());
    ExecutorService pool = Executors.newFixedThreadPool(options.parallelism(), r -> {
      Thread t = new Thread(r, "coffer-fsck-verify");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<String>> results = new ArrayList<>();
      for (Info info : chosen) {
        results.add(pool.submit(() -> problem(store, info, options.progress())));
      }
      List<FsckReport.Finding> findings = new ArrayList<>();
      for (int i = 0; i < chosen.size(); i++) {
        String problem = join(results.get(i));
        if (problem != null) {
          Digest digest = chosen.get(i).digest();
          boolean repaired = options.repair() && repair.test(digest);
          findings.add(new FsckReport.Finding(FsckReport.Kind.CORRUPT_BLOB, digest.toString(),
              problem + (repaired ? "; its bytes were removed: the next commit of the true"
                  + " content restores it" : ""), repaired));
        }
      }
      return findings;
    } finally {
      pool.shutdownNow();
    }
  }

  /** What is wrong with the blob's bytes, or null if nothing (or it was deleted meanwhile). */
  private static String problem(ContentStore store, Info info, FsckOptions.Progress progress) {
    Digest digest = info.digest();
    MessageDigest hasher = digest.algorithm().newHasher();
    long read = 0;
    try (ReaderAt reader = store.readerAt(Descriptor.of(digest, info.size()));
        InputStream in = reader.stream(0)) {
      byte[] buffer = new byte[BUFFER];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        hasher.update(buffer, 0, n);
        read += n;
        quietly(progress, n);
      }
    } catch (NotFoundException e) {
      return null; // deleted meanwhile; a missing object is RECORD_WITHOUT_BLOB
    } catch (DataLossException e) {
      quietly(progress, Math.max(0, info.size() - read)); // the rest counts as checked
      return e.getMessage();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + digest, e);
    }
    if (read != info.size()) {
      return DataLossException.lengthMismatch(digest, info.size(), read).getMessage();
    }
    Digest actual = Digest.fromHasher(digest.algorithm(), hasher.digest());
    return actual.equals(digest) ? null
        : DataLossException.digestMismatch(digest, actual).getMessage();
  }

  private static void quietly(FsckOptions.Progress progress, long bytes) {
    try {
      progress.read(bytes);
    } catch (RuntimeException e) {
      // A listener's failure must not fail the check.
    }
  }

  private static String join(Future<String> result) {
    try {
      return result.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AbortedException("interrupted while verifying blobs", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw new UnknownException("verifying blobs failed", e.getCause());
    }
  }
}
