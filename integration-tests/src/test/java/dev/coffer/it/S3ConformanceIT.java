package dev.coffer.it;

import dev.coffer.store.s3.S3StoreConfig;
import org.junit.jupiter.api.Disabled;

/** The whole conformance suite against the S3 store on S3Mock, one bucket, a prefix per test. */
class S3ConformanceIT extends S3StoreSuite {
  private static String bucket;

  private static synchronized String bucket() {
    if (bucket == null) {
      bucket = S3Mock.get().newBucket();
    }
    return bucket;
  }

  @Override
  protected S3StoreConfig.Builder configFor(String prefix) {
    return S3Mock.get().config(bucket(), prefix);
  }

  /*
   * S3Mock 5.2.0 evaluates If-Match and If-None-Match and then writes, without atomicity: measured
   * here, 4 threads making 100 compare-and-swap increments of one object that all "succeeded" left
   * it at 91, 8 concurrent create-only PutObjects of one key all succeeded, and a concurrent GET
   * can return a half-written object. The three cases below race conditional writes on one record
   * (create-only for concurrent commits, compare-and-swap for counts and labels), which S3 itself
   * serialises; on S3Mock they lose updates or let two creators win whatever the client does
   * (each has failed here at least once). They run against LocalStack (LocalStackConformanceIT)
   * where Docker exists, and are reported as skipped here rather than passed.
   */

  @Override
  @Disabled("S3Mock applies conditional writes non-atomically; run by LocalStackConformanceIT")
  public void concurrentCommitsOfSameContentOneWins() {
  }

  @Override
  @Disabled("S3Mock applies conditional writes non-atomically; run by LocalStackConformanceIT")
  public void concurrentRefsAndDerefsKeepTheCount() {
  }

  @Override
  @Disabled("S3Mock applies conditional writes non-atomically; run by LocalStackConformanceIT")
  public void concurrentLabelUpdatesAreNotLost() {
  }
}
