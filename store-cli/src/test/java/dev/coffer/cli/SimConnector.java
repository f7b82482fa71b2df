package dev.coffer.cli;

import dev.coffer.s3sim.LoggedRequest;
import dev.coffer.s3sim.SimClock;
import dev.coffer.s3sim.SimS3;
import dev.coffer.store.ContentStore;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Opens S3 stores on one simulated S3 (no cache), measured as the default connector measures
 * them, each command on its own host of the simulation so that its requests can be told apart in
 * the simulation's log. Closes the clients with the stores.
 */
final class SimConnector implements StoreConnector, AutoCloseable {
  static final String BUCKET = "coffer";
  private static final StaticCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("sim", "sim"));

  /** The time of the simulated S3 and of the stores. */
  final SimClock clock = new SimClock();
  final SimS3 sim = SimS3.builder().clock(clock).build();
  private final List<AutoCloseable> clients = new ArrayList<>();
  private int opened;
  /** The host of the most recently opened store. */
  String host;
  /** The most recently opened store. */
  ContentStore store;
  /** The part size of the stores opened from now on: 5 MiB unless a test sets another. */
  int partSize = 5 << 20;

  SimConnector() {
    sim.createBucket(BUCKET);
  }

  @Override
  public ContentStore open(Settings settings, PrintStream notices) {
    return open(settings, notices, null);
  }

  /** A client builder on the simulation, its requests counted in {@code registry} unless null. */
  private static <B extends S3BaseClientBuilder<B, ?>> B common(B builder,
      MeterRegistry registry) {
    return builder.endpointOverride(SimS3.ENDPOINT).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(CREDENTIALS)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> {
          if (registry != null) {
            o.addExecutionInterceptor(S3Stores.requestMeter(registry));
          }
        });
  }

  @Override
  public synchronized ContentStore open(Settings settings, PrintStream notices,
      MeterRegistry registry) {
    host = "cli-" + ++opened;
    S3StoreConfig config = S3StoreConfig.builder().bucket(BUCKET).prefix(settings.prefix())
        .endpoint(SimS3.ENDPOINT).pathStyle(true).partSize(partSize).clock(clock).build();
    S3Client client = common(S3Client.builder().httpClient(sim.httpClient(host)), registry)
        .build();
    S3AsyncClient bulk = common(S3AsyncClient.builder().httpClient(sim.asyncHttpClient(host)),
        registry).build();
    clients.add(client);
    clients.add(bulk);
    S3Stores.Builder builder = S3Stores.builder().config(config).client(client)
        .bulkClient(bulk);
    if (registry != null) {
      builder.meterRegistry(registry);
    }
    store = builder.build();
    return store;
  }

  /** A client of the simulation on a host of its own, for a test to change objects behind the store. */
  synchronized S3Client inspector() {
    S3Client client = common(S3Client.builder().httpClient(sim.httpClient("inspector")), null)
        .build();
    clients.add(client);
    return client;
  }

  /** The requests the simulated endpoint logged from {@code host}, by "Operation status". */
  Map<String, Long> logged(String host) {
    Map<String, Long> logged = new TreeMap<>();
    for (LoggedRequest r : sim.log().entries()) {
      if (r.host().equals(host)) {
        logged.merge(r.operation().apiName() + " " + r.status(), 1L, Long::sum);
      }
    }
    return logged;
  }

  @Override
  public synchronized void close() throws Exception {
    for (AutoCloseable c : clients) {
      c.close();
    }
    sim.close();
  }
}
