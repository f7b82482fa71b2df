package dev.coffer.s3sim;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.StandardRetryStrategy;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/** The real SDK clients on a simulation, as the tests use them. */
final class Clients {
  private static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("sim", "sim"));

  private Clients() {}

  /** A synchronous client of {@code host}: the SDK's defaults (checksums, retries). */
  static S3Client sync(SimS3 sim, String host) {
    return S3Client.builder()
        .httpClient(sim.httpClient(host))
        .endpointOverride(SimS3.ENDPOINT)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .build();
  }

  /**
   * A synchronous client that sends checksums only where required and retries {@code attempts}
   * times without backoff, as a store configures its own.
   */
  static S3Client plain(SimS3 sim, String host, int attempts) {
    return S3Client.builder()
        .httpClient(sim.httpClient(host))
        .endpointOverride(SimS3.ENDPOINT)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(noBackoff(attempts)))
        .build();
  }

  /** An asynchronous client of {@code host}: the SDK's defaults. */
  static S3AsyncClient async(SimS3 sim, String host) {
    return S3AsyncClient.builder()
        .httpClient(sim.asyncHttpClient(host))
        .endpointOverride(SimS3.ENDPOINT)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .build();
  }

  /** An asynchronous client like {@link #plain}: checksums when required, no backoff. */
  static S3AsyncClient asyncPlain(SimS3 sim, String host, int attempts) {
    return S3AsyncClient.builder()
        .httpClient(sim.asyncHttpClient(host))
        .endpointOverride(SimS3.ENDPOINT)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o.retryStrategy(noBackoff(attempts)))
        .build();
  }

  /** The SDK's standard retry strategy, {@code attempts} attempts, no backoff sleeps. */
  static RetryStrategy noBackoff(int attempts) {
    return StandardRetryStrategy.builder()
        .maxAttempts(attempts)
        .backoffStrategy(BackoffStrategy.retryImmediately())
        .throttlingBackoffStrategy(BackoffStrategy.retryImmediately())
        .circuitBreakerEnabled(false)
        .build();
  }
}
