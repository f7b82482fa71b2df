package dev.coffer.store.cache;

import dev.coffer.store.ContentStore;

/**
 * A {@link ContentStore} that caches the blobs and infos of a backing store in memory and on a
 * local disk; built by {@link CachingStores#builder}. Every operation keeps the backing store's
 * contract: reads never fail because of the cache (a corrupt, full or unwritable disk falls back to
 * the backing store), and a blob deleted through another instance stops being served once its
 * cached info expires ({@link CacheConfig#infoTtl()}).
 *
 * <p>Implementations are thread-safe.
 */
public interface CachedContentStore extends ContentStore {

  /**
   * A snapshot of the cache's counters and sizes. Exact: in the moments after the build, while
   * the disk tier still indexes the entries an earlier instance left (see {@link #statsNow()}),
   * waits for that to finish.
   */
  CacheStats stats();

  /**
   * A snapshot as {@link #stats()}, taken without waiting: its counters are exact, but while the
   * disk tier still indexes the entries an earlier instance left (in the background, from the
   * build on; milliseconds for thousands of entries, a second or more for a hundred thousand),
   * {@link CacheStats#diskBytes()} counts only the entries indexed so far. For a command that
   * compares counters and should not wait, such as a read's summary.
   */
  CacheStats statsNow();

  /**
   * Drops every cached blob and info, deleting the disk tier's files (first waiting for the disk
   * tier's index, as {@link #stats()} does). Reads in progress continue; the backing store is not
   * changed.
   */
  void clear();

  /**
   * Closes the cache and then the backing store; idempotent. Readers and writers opened through the
   * cache fail afterwards; a disk tier stays on disk for the next instance.
   */
  @Override
  void close();
}
