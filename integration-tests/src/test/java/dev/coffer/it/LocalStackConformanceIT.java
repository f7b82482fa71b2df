package dev.coffer.it;

import dev.coffer.store.s3.S3StoreConfig;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

/**
 * The whole conformance suite against the S3 store on LocalStack, including the concurrent
 * compare-and-swap cases S3Mock cannot serve. Needs a Docker engine; skipped without one.
 */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackConformanceIT extends S3StoreSuite {

  @Container
  private static final LocalStackContainer LOCALSTACK =
      new LocalStackContainer(DockerImageName.parse("localstack/localstack:4.14.0"))
          .withServices(LocalStackContainer.Service.S3);

  private static String bucket;

  private static synchronized String bucket() {
    if (bucket == null) {
      bucket = "coffer-conformance";
      try (S3Client admin = S3Client.builder().endpointOverride(LOCALSTACK.getEndpoint())
          .region(Region.of(LOCALSTACK.getRegion())).forcePathStyle(true)
          .credentialsProvider(credentials()).build()) {
        admin.createBucket(b -> b.bucket(bucket));
      }
    }
    return bucket;
  }

  private static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(
        AwsBasicCredentials.create(LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey()));
  }

  @Override
  protected S3StoreConfig.Builder configFor(String prefix) {
    return S3StoreConfig.builder().bucket(bucket()).prefix(prefix)
        .endpoint(LOCALSTACK.getEndpoint()).pathStyle(true).region(LOCALSTACK.getRegion())
        .credentials(credentials());
  }
}
