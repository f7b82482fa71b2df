package dev.coffer.it;

import dev.coffer.store.ContentStore;
import dev.coffer.store.cache.CacheBehaviourSuite;
import dev.coffer.store.s3.S3Stores;

/**
 * The cache's behaviour (tiers, single flight, bounds, restart, corruption, invalidation) over the
 * S3 store on S3Mock, a fresh prefix per test.
 */
class S3CacheBehaviourIT extends CacheBehaviourSuite {
  private static String bucket;

  private static synchronized String bucket() {
    if (bucket == null) {
      bucket = S3Mock.get().newBucket();
    }
    return bucket;
  }

  @Override
  protected ContentStore createBacking() {
    return S3Stores.open(S3Mock.get().config(bucket(), S3Mock.newPrefix()).build());
  }
}
