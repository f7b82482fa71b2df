package dev.coffer.store.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.InvalidArgumentException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CacheConfigTest {

  @Test
  void defaultsAreTheDeclaredDefaults() {
    CacheConfig config = CacheConfig.defaults();
    assertThat(config.memoryMaxBytes()).isEqualTo(CacheConfig.MEMORY_MAX_BYTES_DEFAULT);
    assertThat(config.memoryMaxBlobBytes()).isEqualTo(CacheConfig.MEMORY_MAX_BLOB_BYTES_DEFAULT);
    assertThat(config.directory()).isNull();
    assertThat(config.hasDiskTier()).isFalse();
    assertThat(config.diskMaxBytes()).isEqualTo(CacheConfig.DISK_MAX_BYTES_DEFAULT);
    assertThat(config.infoTtl()).isEqualTo(CacheConfig.INFO_TTL_DEFAULT);
    assertThat(config.cacheOnCommit()).isTrue();
    assertThat(config.verifyOnOpen()).isFalse();
    assertThat(config.degradedRetry()).isEqualTo(CacheConfig.DEGRADED_RETRY_DEFAULT);
    assertThat(config.fillThreads()).isEqualTo(CacheConfig.FILL_THREADS_DEFAULT);
  }

  @Test
  void toBuilderKeepsEveryValue() {
    CacheConfig config = CacheConfig.builder()
        .memoryMaxBytes(1)
        .memoryMaxBlobBytes(2)
        .directory(Path.of("relative/dir"))
        .diskMaxBytes(3)
        .infoTtl(Duration.ofMillis(4))
        .cacheOnCommit(false)
        .verifyOnOpen(true)
        .degradedRetry(Duration.ofSeconds(5))
        .fillThreads(6)
        .build();
    assertThat(config.toBuilder().build()).isEqualTo(config);
    assertThat(config.directory()).isAbsolute();
    assertThat(config.toBuilder().infoTtl(Duration.ZERO).build().infoTtl()).isZero();
  }

  @Test
  void valuesOutOfBoundsAreRefusedNamingKeyAndValue() {
    CacheConfig.Builder builder = CacheConfig.builder();
    assertThatThrownBy(() -> builder.memoryMaxBytes(-1))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("memoryMaxBytes -1");
    assertThatThrownBy(() -> builder.memoryMaxBlobBytes(CacheConfig.MEMORY_MAX_BLOB_BYTES_MAX + 1))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("memoryMaxBlobBytes");
    assertThatThrownBy(() -> builder.diskMaxBytes(-5))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("diskMaxBytes -5");
    assertThatThrownBy(() -> builder.infoTtl(Duration.ofHours(2)))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("infoTtl PT2H");
    // PROTO-8: an hour would outlast the S3 store's deletion grace (15 minutes by default).
    assertThatThrownBy(() -> builder.infoTtl(Duration.ofHours(1)))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("infoTtl PT1H");
    assertThat(builder.infoTtl(Duration.ofMinutes(1)).build().infoTtl())
        .isEqualTo(Duration.ofMinutes(1));
    assertThatThrownBy(() -> builder.infoTtl(Duration.ofSeconds(-1)))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("infoTtl");
    assertThatThrownBy(() -> builder.degradedRetry(null))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("degradedRetry null");
    assertThatThrownBy(() -> builder.fillThreads(0))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("fillThreads 0");
    assertThatThrownBy(() -> new CacheConfig(0, 0, null, 0, Duration.ZERO, true, false, null, 1))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("degradedRetry");
  }

  @Test
  void builderSettingsAreSetOnce() {
    CachingStores.Builder builder = CachingStores.builder(CountingStore.over(
        dev.coffer.store.memory.MemoryStores.open())).config(CacheConfig.defaults());
    assertThatThrownBy(() -> builder.config(CacheConfig.defaults()))
        .isInstanceOf(IllegalStateException.class);
  }
}
