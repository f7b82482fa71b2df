package dev.coffer.benchmarks;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachedContentStore;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/** A cache over an in-memory store, in a temporary directory, holding one blob read once. */
final class CacheFixture implements AutoCloseable {
  final Path directory;
  final CachedContentStore cache;
  final Digest digest;
  final int size;

  CacheFixture(int size, CacheConfig.Builder config) throws IOException {
    this.size = size;
    this.directory = Files.createTempDirectory("coffer-benchmark-");
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    this.digest = Digest.of(bytes);
    ContentStore backing = MemoryStores.open();
    Content.writeBlob(backing, "benchmark", new ByteArrayInputStream(bytes),
        Descriptor.of(digest, size), Map.of());
    this.cache = CachingStores.builder(backing)
        .config(config.directory(directory.resolve("cache")).build())
        .build();
    // Warm: the first read fills the tiers; the benchmarks measure hot reads.
    if (!Digest.of(Content.readBlob(cache, Descriptor.of(digest))).equals(digest)) {
      throw new IllegalStateException("the cache returned other bytes than " + digest);
    }
  }

  /** The disk tier's file of the blob (the tier's layout: blobs/algorithm/hex). */
  Path entry() {
    Path entry = directory.resolve("cache").resolve("blobs").resolve(digest.algorithm().label())
        .resolve(digest.hex());
    if (!Files.isRegularFile(entry)) {
      throw new IllegalStateException("no disk entry at " + entry);
    }
    return entry;
  }

  @Override
  public void close() throws IOException {
    cache.close();
    try (Stream<Path> files = Files.walk(directory)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }
}
