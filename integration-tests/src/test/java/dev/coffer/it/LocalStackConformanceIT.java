package dev.coffer.it;

import org.junit.jupiter.api.BeforeAll;

/**
 * The whole conformance suite against the S3 store on LocalStack
 * ({@value S3Endpoint#LOCALSTACK_IMAGE}), whatever endpoint the run selected. Needs a Docker
 * engine; every case is skipped without one.
 */
class LocalStackConformanceIT extends S3StoreSuite {

  @BeforeAll
  static void startLocalStack() {
    S3Endpoint.localStack();
  }

  @Override
  protected S3Endpoint endpoint() {
    return S3Endpoint.localStack();
  }
}
