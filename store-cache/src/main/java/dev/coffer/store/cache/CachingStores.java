package dev.coffer.store.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.coffer.store.ContentStore;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * Builds read-through caches over content stores:
 *
 * <pre>{@code
 * CachedContentStore store = CachingStores.builder(s3Store)
 *     .config(CacheConfig.builder().directory(Path.of("/var/cache/coffer")).build())
 *     .build();
 * }</pre>
 */
public final class CachingStores {

  private CachingStores() {}

  /**
   * Runs the indexing of a disk tier on a daemon thread of its own: it may take seconds over a
   * large directory, and the common pool (one thread on a 2-core host) runs Caffeine's maintenance
   * and what else a process gives it.
   */
  private static void indexOnANewThread(Runnable task) {
    Thread thread = new Thread(task, "coffer-cache-index");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * A builder of a cache over {@code backing}; the cache owns the backing store and closes it.
   *
   * @throws NullPointerException if {@code backing} is null
   */
  public static Builder builder(ContentStore backing) {
    return new Builder(Objects.requireNonNull(backing, "backing"));
  }

  /** Builds one {@link CachedContentStore}. Not thread-safe; each setter may be called once. */
  public static final class Builder {
    private final ContentStore backing;
    private CacheConfig config;
    private Executor executor;
    private Executor fillExecutor;
    private Executor indexExecutor;
    private Ticker ticker;

    private Builder(ContentStore backing) {
      this.backing = backing;
    }

    /**
     * The configuration; {@link CacheConfig#defaults()} if not set.
     *
     * @throws IllegalStateException if already set
     */
    public Builder config(CacheConfig config) {
      if (this.config != null) {
        throw new IllegalStateException("config was already set");
      }
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * The executor for the caches' maintenance: eviction, and indexing the disk tier's entries
     * left by an earlier instance, which {@link #build()} starts and does not wait for. If not
     * set, eviction runs on {@link ForkJoinPool#commonPool()} and the indexing on a daemon thread
     * of its own. A same-thread executor ({@code Runnable::run}) makes eviction happen before a
     * write returns and the indexing before {@code build()} returns, which tests rely on.
     *
     * @throws IllegalStateException if already set
     */
    public Builder executor(Executor executor) {
      if (this.executor != null) {
        throw new IllegalStateException("executor was already set");
      }
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Runs the fills on {@code executor} instead of the cache's own fill threads; for tests, which
     * pass {@code Runnable::run} to make a fill end before its first reader opens it.
     */
    Builder fillExecutor(Executor executor) {
      if (this.fillExecutor != null) {
        throw new IllegalStateException("fill executor was already set");
      }
      this.fillExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Runs the disk tier's indexing of the entries found at start on {@code executor} instead;
     * for tests, which hold the task to look at the cache before and after it ran.
     */
    Builder indexExecutor(Executor executor) {
      if (this.indexExecutor != null) {
        throw new IllegalStateException("index executor was already set");
      }
      this.indexExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * The time source of info expiry and of open readers' rechecks; {@link Ticker#systemTicker()}
     * if not set.
     *
     * @throws IllegalStateException if already set
     */
    public Builder ticker(Ticker ticker) {
      if (this.ticker != null) {
        throw new IllegalStateException("ticker was already set");
      }
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Builds the cache. A disk tier that cannot be created or locked does not fail the build: the
     * cache starts degraded (see {@link CacheStats#diskDegraded()}) and logs one warning.
     */
    public CachedContentStore build() {
      Executor index = indexExecutor != null ? indexExecutor
          : executor != null ? executor : CachingStores::indexOnANewThread;
      return new CachingStore(backing, config == null ? CacheConfig.defaults() : config,
          executor == null ? ForkJoinPool.commonPool() : executor, fillExecutor, index,
          ticker == null ? Ticker.systemTicker() : ticker);
    }
  }
}
