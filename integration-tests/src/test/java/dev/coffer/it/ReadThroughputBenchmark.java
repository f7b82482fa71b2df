package dev.coffer.it;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.DigestAlgorithm;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Writer;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachedContentStore;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Cold sequential read throughput against S3Mock, not part of the build's tests: the store's
 * ReaderAt (a fresh store over pre-built clients, {@code readerAt}, then positional reads into one
 * 1 MiB heap buffer to the end) beside a raw SDK GET of the same object on the sync client,
 * drained through its InputStream with a 1 MiB array. Runs alternate; each figure is the median
 * of the runs, and the ratio is the library's throughput over the raw GET's.
 *
 * <p>Also: the raw GET hashed with SHA-256 as it is read (what verifying a whole read costs, INT-2
 * of docs/architecture.md), and hot reads from the cache's disk tier as served and with
 * {@code verifyOnOpen}, each a separate cache filled before the runs.
 *
 * <p>Arguments: size in MiB (default 256), runs (default 5).
 */
public final class ReadThroughputBenchmark {
  private static final int MIB = 1 << 20;

  private ReadThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    int sizeMib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    long size = (long) sizeMib * MIB;
    S3Mock s3 = S3Mock.get();
    String bucket = s3.newBucket();
    String prefix = S3Mock.newPrefix();
    S3Client control = s3.client();
    S3AsyncClient bulk = s3.asyncClient();
    S3StoreConfig config = s3.config(bucket, prefix).build();
    Digest digest = store(config, control, bulk, size);
    String key = prefix + "blobs/" + digest.algorithm().label() + "/" + digest.hex();

    Map<String, Supplier<Long>> cases = new LinkedHashMap<>();
    cases.put("library readerAt", () -> library(config, control, bulk, digest, size));
    cases.put("raw SDK GET", () -> raw(control, bucket, key, size, false));
    // INT-2's cost: the same GET hashed as it is read, as the library's sequential read now does.
    cases.put("raw SDK GET + SHA-256", () -> raw(control, bucket, key, size, true));
    // Hot reads from the disk tier, as served (verified once, at install) and with every open
    // re-hashing the entry (verifyOnOpen), each cache filled once before the runs.
    ContentStore backing = open(config, control, bulk);
    for (boolean verify : new boolean[] {false, true}) {
      CachedContentStore cache = CachingStores.builder(backing).config(CacheConfig.builder()
          .directory(Files.createTempDirectory("coffer-read-bench")).memoryMaxBlobBytes(0)
          .memoryMaxBytes(0).diskMaxBytes(size * 2).verifyOnOpen(verify).build()).build();
      read(cache, digest, size);
      cases.put(verify ? "hot, verifyOnOpen" : "hot (disk tier)", () -> read(cache, digest, size));
    }

    System.out.printf("load before: %s%n", load());
    Map<String, List<Long>> nanos = new LinkedHashMap<>();
    cases.keySet().forEach(k -> nanos.put(k, new ArrayList<>()));
    for (int run = 0; run < runs; run++) {
      for (Map.Entry<String, Supplier<Long>> c : cases.entrySet()) {
        long took = c.getValue().get();
        nanos.get(c.getKey()).add(took);
        System.out.printf("run %d %-20s %6.2f s %7.1f MiB/s%n", run + 1, c.getKey(), took / 1e9,
            sizeMib / (took / 1e9));
      }
    }
    System.out.printf("load after: %s%n", load());
    long raw = median(nanos.get("raw SDK GET"));
    System.out.printf("%n%d MiB, median of %d:%n", sizeMib, runs);
    for (Map.Entry<String, List<Long>> e : nanos.entrySet()) {
      long median = median(e.getValue());
      System.out.printf("%-20s %6.2f s %7.1f MiB/s  ratio %.2f%n", e.getKey(), median / 1e9,
          sizeMib / (median / 1e9), (double) raw / median);
    }
    control.close();
    bulk.close();
    System.exit(0);
  }

  private static Digest store(S3StoreConfig config, S3Client control, S3AsyncClient bulk,
      long size) {
    Random random = new Random(1);
    byte[] chunk = new byte[MIB];
    try (ContentStore store = open(config, control, bulk);
        Writer writer = store.writer("read-bench", Descriptor.UNKNOWN)) {
      for (long at = 0; at < size; at += MIB) {
        random.nextBytes(chunk);
        writer.write(ByteBuffer.wrap(chunk, 0, (int) Math.min(MIB, size - at)));
      }
      Digest digest = writer.digest();
      writer.commit(size, digest, null);
      return digest;
    }
  }

  private static ContentStore open(S3StoreConfig config, S3Client control, S3AsyncClient bulk) {
    return S3Stores.builder().config(config).client(control).bulkClient(bulk).build();
  }

  private static long read(ContentStore store, Digest digest, long size) {
    long start = System.nanoTime();
    long position = 0;
    try (ReaderAt reader = store.readerAt(digest)) {
      ByteBuffer buffer = ByteBuffer.allocate(MIB);
      int n;
      while ((n = reader.read(buffer, position)) > 0) {
        position += n;
        buffer.clear();
      }
    }
    long took = System.nanoTime() - start;
    expect(size, position);
    return took;
  }

  private static long library(S3StoreConfig config, S3Client control, S3AsyncClient bulk,
      Digest digest, long size) {
    long start = System.nanoTime();
    long position = 0;
    try (ContentStore store = open(config, control, bulk);
        ReaderAt reader = store.readerAt(digest)) {
      ByteBuffer buffer = ByteBuffer.allocate(MIB);
      int n;
      while ((n = reader.read(buffer, position)) > 0) {
        position += n;
        buffer.clear();
      }
    }
    long took = System.nanoTime() - start;
    expect(size, position);
    return took;
  }

  private static long raw(S3Client control, String bucket, String key, long size,
      boolean hash) {
    long start = System.nanoTime();
    long total = 0;
    MessageDigest hasher = hash ? DigestAlgorithm.SHA256.newHasher() : null;
    try (InputStream in = control.getObject(b -> b.bucket(bucket).key(key))) {
      byte[] buffer = new byte[MIB];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        total += n;
        if (hasher != null) {
          hasher.update(buffer, 0, n);
        }
      }
      if (hasher != null) {
        hasher.digest();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long took = System.nanoTime() - start;
    expect(size, total);
    return took;
  }

  private static void expect(long size, long read) {
    if (size != read) {
      throw new IllegalStateException("read " + read + " bytes of " + size);
    }
  }

  private static long median(List<Long> values) {
    long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
    return sorted[sorted.length / 2];
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
