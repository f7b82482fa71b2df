package dev.coffer.store.cache;

import java.time.Duration;

/**
 * An immutable snapshot of a caching store's counters, taken by {@link CachedContentStore#stats()}.
 * Counters only grow over the store's life ({@link CachedContentStore#clear()} does not reset
 * them); the sizes and the degraded flag are the state at the time of the snapshot.
 *
 * <p>A read is a {@code readerAt} call. A memory-tier hit or miss is counted only for a blob small
 * enough for the memory tier; a disk-tier hit or miss only for a blob that reached the disk tier.
 * Bytes served are counted by tier: memory, disk, and backing for bytes of a blob that was not
 * cached when its reader was opened (whether they came through a fill or straight through).
 *
 * @param memoryHits reads served from the memory tier
 * @param memoryMisses reads of a small blob not in the memory tier
 * @param diskHits reads served from a disk entry
 * @param diskMisses reads that found no valid disk entry
 * @param memoryBytesServed bytes returned from the memory tier
 * @param diskBytesServed bytes returned from disk entries
 * @param backingBytesServed bytes returned for reads that missed every tier
 * @param memoryEvictions blobs evicted from the memory tier for its bound
 * @param diskEvictions disk entries evicted (their files deleted) for the disk bound
 * @param corruptEntries disk entries found corrupt or truncated, then evicted
 * @param loads fetches from the backing store that filled the cache
 * @param loadFailures fetches that failed or did not match their digest
 * @param corruptLoads fetches whose bytes did not match their digest (counted in loadFailures
 *     too): their readers got DataLossException and nothing was cached
 * @param totalLoadTime the time spent in loads, successful or not
 * @param diskFailures disk operations that failed and made the disk tier degrade
 * @param memoryBytes bytes held by the memory tier now
 * @param diskBytes bytes held by the disk tier now
 * @param diskDegraded whether the configured disk tier is bypassed now: its directory could not be
 *     created or locked, or a disk operation failed within {@link CacheConfig#degradedRetry()};
 *     false when no disk tier is configured
 */
public record CacheStats(
    long memoryHits,
    long memoryMisses,
    long diskHits,
    long diskMisses,
    long memoryBytesServed,
    long diskBytesServed,
    long backingBytesServed,
    long memoryEvictions,
    long diskEvictions,
    long corruptEntries,
    long loads,
    long loadFailures,
    long corruptLoads,
    Duration totalLoadTime,
    long diskFailures,
    long memoryBytes,
    long diskBytes,
    boolean diskDegraded) {}
