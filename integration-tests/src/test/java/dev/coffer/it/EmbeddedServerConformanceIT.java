package dev.coffer.it;

/**
 * The whole conformance suite against the S3 store on the CLI's embedded server
 * ({@code s3-server}) over HTTP, signed requests, data on disk: what the CLI's default runs on. No
 * serialising proxy in front: the server applies conditional writes atomically (SEC-9).
 */
class EmbeddedServerConformanceIT extends S3StoreSuite {

  @Override
  protected S3Endpoint endpoint() {
    return S3Endpoint.embedded();
  }
}
