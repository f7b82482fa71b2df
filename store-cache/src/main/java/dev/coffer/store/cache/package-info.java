/**
 * A read-through cache in front of any {@link dev.coffer.store.ContentStore}, so that a host of a
 * build farm fetches each blob from the shared bucket once.
 *
 * <p>Build one with {@link dev.coffer.store.cache.CachingStores#builder}, configured by an immutable
 * {@link dev.coffer.store.cache.CacheConfig}. The cache has three parts:
 *
 * <ul>
 *   <li>an info cache with a short time-to-live: every read starts from the blob's info, cached or
 *       refreshed, so a blob deleted by another host stops being served when its info expires, and
 *       a NotFound from the backing store evicts the blob from every tier;
 *   <li>a memory tier (Caffeine, weighed by bytes) for blobs up to
 *       {@link dev.coffer.store.cache.CacheConfig#memoryMaxBlobBytes()};
 *   <li>a disk tier: one file per blob named by its digest in a private directory, indexed in a
 *       Caffeine cache bounded by bytes whose eviction deletes the file; rebuilt from the directory
 *       at start. A fill is written to a staging file, verified against the digest, forced to disk
 *       and moved atomically under its name, so a crash never leaves a wrong file under a digest.
 * </ul>
 *
 * <p>Concurrent readers of a missing blob share one fetch; they read the part already fetched while
 * the rest arrives. Writes go to the backing store; a blob committed through the cache is copied
 * into the disk tier (or, small and without a disk tier, into memory).
 *
 * <p>An entry's size is checked at every open and its digest once per process (at fill, or at the
 * first open of an entry found at start), or at every open with
 * {@link dev.coffer.store.cache.CacheConfig#verifyOnOpen()}; a corrupt or truncated entry is
 * evicted and fetched again. A disk that fails (full, unwritable) is bypassed for a while with one
 * warning: reads never fail because of the cache.
 */
package dev.coffer.store.cache;
