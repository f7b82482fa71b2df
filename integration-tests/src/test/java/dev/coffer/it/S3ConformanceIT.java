package dev.coffer.it;

/**
 * The whole conformance suite against the S3 store on the selected {@link S3Endpoint} (S3Mock by
 * default), one bucket, a prefix per test.
 *
 * <p>S3Mock 5.2.0 evaluates If-Match and If-None-Match and then writes, without atomicity: 4
 * threads making 100 compare-and-swap increments of one object that all "succeeded" left it at
 * 91, and 8 concurrent create-only PutObjects of one key all succeeded. The suite's concurrency
 * cases (concurrent commits of one content, concurrent refs and derefs, concurrent label updates)
 * race conditional writes on one record, which S3 serialises; on S3Mock they pass only because
 * the endpoint puts a {@link FaultProxy} in front of it that makes the writes on one key take
 * turns ({@link S3Endpoint#endpoint()}, proven by {@code FaultProxyIT}).
 */
class S3ConformanceIT extends S3StoreSuite {

  @Override
  protected S3Endpoint endpoint() {
    return S3Endpoint.selected();
  }
}
