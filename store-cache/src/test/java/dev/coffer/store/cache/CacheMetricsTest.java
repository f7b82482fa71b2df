package dev.coffer.store.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.memory.MemoryStores;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheMetricsTest {

  @TempDir
  Path temp;

  @Test
  void metersFollowTheStats() {
    byte[] small = new byte[1000];
    byte[] large = new byte[300_000];
    new Random(1).nextBytes(small);
    new Random(2).nextBytes(large);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (CachedContentStore cache = CachingStores.builder(MemoryStores.open())
        .config(CacheConfig.builder().directory(temp.resolve("cache"))
            .memoryMaxBlobBytes(10_000).build())
        .executor(Runnable::run)
        .build()) {
      CacheMetrics.of(cache, Tags.of("cache", "test")).bindTo(registry);
      Digest smallDigest = write(cache, small);
      Digest largeDigest = write(cache, large);
      cache.clear();
      Content.readBlob(cache, Descriptor.of(smallDigest));
      Content.readBlob(cache, Descriptor.of(smallDigest));
      Content.readBlob(cache, Descriptor.of(largeDigest));
      Content.readBlob(cache, Descriptor.of(largeDigest));

      assertThat(count(registry, "coffer.cache.requests", "tier", "memory", "result", "hit"))
          .isEqualTo(1);
      assertThat(count(registry, "coffer.cache.requests", "tier", "memory", "result", "miss"))
          .isEqualTo(1);
      assertThat(count(registry, "coffer.cache.requests", "tier", "disk", "result", "hit"))
          .isEqualTo(1);
      assertThat(count(registry, "coffer.cache.requests", "tier", "disk", "result", "miss"))
          .isEqualTo(2);
      assertThat(count(registry, "coffer.cache.served", "tier", "memory")).isEqualTo(1000);
      assertThat(count(registry, "coffer.cache.served", "tier", "disk")).isEqualTo(300_000);
      assertThat(count(registry, "coffer.cache.served", "tier", "backing")).isEqualTo(301_000);
      assertThat(registry.get("coffer.cache.size").tags("cache", "test", "tier", "disk").gauge()
          .value()).isEqualTo(301_000);
      assertThat(registry.get("coffer.cache.disk.degraded").gauge().value()).isZero();
      FunctionTimer loads =
          registry.get("coffer.cache.loads").tags("cache", "test").functionTimer();
      assertThat(loads.count()).isEqualTo(2);
      // The timer converts through seconds as a double: equal to within a nanosecond.
      assertThat(loads.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS))
          .isCloseTo(cache.stats().totalLoadTime().toNanos(),
              org.assertj.core.data.Offset.offset(1.0));
    }
  }

  private static Digest write(CachedContentStore cache, byte[] bytes) {
    Digest digest = Digest.of(bytes);
    Content.writeBlob(cache, "metrics-" + bytes.length, new ByteArrayInputStream(bytes),
        Descriptor.of(digest, bytes.length), Map.of());
    return digest;
  }

  private static double count(SimpleMeterRegistry registry, String name, String... tags) {
    return registry.get(name).tags(tags).functionCounter().count();
  }
}
