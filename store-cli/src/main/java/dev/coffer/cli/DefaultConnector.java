package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CacheMetrics;
import dev.coffer.store.cache.CachedContentStore;
import dev.coffer.store.cache.CachingStores;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Clock;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** Opens the S3 store (through the cache unless disabled), on the embedded server if no bucket. */
final class DefaultConnector implements StoreConnector {

  @Override
  public ContentStore open(Settings settings, PrintStream notices) {
    return open(settings, notices, null);
  }

  @Override
  public ContentStore open(Settings settings, PrintStream notices, MeterRegistry registry) {
    Settings effective = settings;
    EmbeddedServer.Endpoint embedded = null;
    if (settings.embedded()) {
      try {
        embedded = new EmbeddedServer(settings.home()).ensureRunning(notices);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      effective = new Settings(EmbeddedServer.BUCKET, settings.prefix(), settings.region(),
          embedded.uri().toString(), true, null, settings.cacheDir(), settings.cacheEnabled(),
          settings.diskCacheBytes(), settings.memoryCacheBytes(), settings.home(),
          settings.deletionGrace(), settings.unusedFor(), settings.touchInterval(),
          settings.signPayloads());
    }
    return measured(openS3(effective, embedded, registry), registry);
  }

  /** The cache's meters bound to {@code registry} (the store measures its own requests). */
  private static ContentStore measured(ContentStore store, MeterRegistry registry) {
    if (registry != null && store instanceof CachedContentStore cached) {
      CacheMetrics.of(cached, Tags.empty()).bindTo(registry);
    }
    return store;
  }

  private static ContentStore openS3(Settings settings, EmbeddedServer.Endpoint embedded,
      MeterRegistry registry) {
    S3StoreConfig.Builder config = S3StoreConfig.builder()
        .bucket(settings.bucket())
        .prefix(settings.prefix())
        .region(settings.region())
        .pathStyle(settings.pathStyle())
        .signPayloads(settings.signPayloads());
    if (settings.endpoint() != null) {
      try {
        config.endpoint(URI.create(settings.endpoint()));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("invalid endpoint \"" + settings.endpoint() + "\": "
            + e.getMessage());
      }
    }
    if (settings.deletionGrace() != null) {
      try {
        config.deletionGrace(settings.deletionGrace());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("invalid deletion grace " + settings.deletionGrace() + ": "
            + e.getMessage());
      }
    }
    try {
      if (settings.unusedFor() != null) {
        config.unusedFor(settings.unusedFor());
      }
      if (settings.touchInterval() != null) {
        config.touchInterval(settings.touchInterval());
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid retention setting: " + e.getMessage());
    }
    if (embedded != null) {
      // The installation's own key: the embedded server accepts no other (SEC-8, SEC-10).
      config.credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(
          embedded.credentials().accessKeyId(), embedded.credentials().secretAccessKey())));
    } else if (settings.profile() != null) {
      config.credentials(ProfileCredentialsProvider.create(settings.profile()));
    }
    // A bucket this host found without object tagging is opened without tags (TaglessServers).
    TaglessServers tagless = settings.home() == null ? null
        : new TaglessServers(settings.home(), Clock.systemUTC());
    if (tagless != null && tagless.known(settings)) {
      config.objectTags(false);
    }
    S3Stores.Builder store = S3Stores.builder().config(config.build());
    if (tagless != null) {
      store.onNoObjectTags(() -> tagless.remember(settings));
    }
    if (registry != null) {
      store.meterRegistry(registry);
    }
    ContentStore s3 = store.build();
    if (!settings.cacheEnabled()) {
      return s3;
    }
    try {
      return CachingStores.builder(s3)
          .config(CacheConfig.builder()
              .directory(settings.cacheDir())
              .diskMaxBytes(settings.diskCacheBytes())
              .memoryMaxBytes(settings.memoryCacheBytes())
              .build())
          .build();
    } catch (FailedPreconditionException e) {
      // The cache refused a directory that is not private to this user.
      s3.close();
      throw new ConfigException(e.getMessage() + " (--cache-dir, COFFER_CACHE_DIR; or --no-cache)");
    }
  }
}
