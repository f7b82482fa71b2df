package dev.coffer.it;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A host for {@link CrashPointsIT} that stops at one chosen S3 request ({@link CrashTrigger}) and
 * waits there to be killed. Prints {@code READY} once set up, {@code CRASH-POINT ...} at the
 * point, and {@code DONE} if its work ended without reaching it.
 *
 * <p>Arguments: endpoint, bucket, prefix, trigger spec, mode, then per mode:
 * <ul>
 *   <li>{@code commit ref size seed threshold leaseMillis}: writes the blob and commits it;
 *   <li>{@code pause ref size seed threshold leaseMillis}: writes the blob, closes the writer, reopens the ref
 *       and commits; the trigger {@code Closed:main:1:AFTER} stops it right after the close;
 *   <li>{@code deref digest}: dereferences the head of a chain of links (a cascade).
 * </ul>
 */
public final class CrashPointHost {
  static final int PART_SIZE = 5 << 20;
  static final Duration LEASE = Duration.ofSeconds(2);
  static final Map<String, String> LABELS = Map.of("crash", "point");
  /** The trigger that the main thread fires itself, right after closing the writer. */
  static final String AFTER_CLOSE = "Closed:main:1:AFTER";

  private CrashPointHost() {}

  public static void main(String[] args) throws Exception {
    URI endpoint = URI.create(args[0]);
    String bucket = args[1];
    String prefix = args[2];
    CrashTrigger trigger = new CrashTrigger(prefix, args[3]);
    String mode = args[4];
    StaticCredentialsProvider credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create("coffer", "coffer"));
    long threshold = mode.equals("deref") ? S3StoreConfig.MULTIPART_COPY_THRESHOLD_MAX
        : Long.parseLong(args[8]);
    Duration lease = mode.equals("deref") ? LEASE : Duration.ofMillis(Long.parseLong(args[9]));
    S3StoreConfig config = S3StoreConfig.builder().bucket(bucket).prefix(prefix)
        .endpoint(endpoint).pathStyle(true).credentials(credentials).partSize(PART_SIZE)
        .copyPartSize(PART_SIZE).multipartCopyThreshold(threshold).leaseDuration(lease)
        .deletionGrace(Duration.ZERO).build();
    try (S3Client client = clients(S3Client.builder(), endpoint, credentials, trigger).build();
        S3AsyncClient bulk = clients(S3AsyncClient.builder(), endpoint, credentials, trigger)
            .build();
        ContentStore store = S3Stores.builder().config(config).client(client)
            .bulkClient(bulk).build()) {
      if (mode.equals("deref")) {
        Digest head = Digest.parse(args[5]);
        store.info(head); // the clients are warm before counting starts
        ready(trigger);
        store.deref(head);
      } else {
        String ref = args[5];
        byte[] bytes = S3StoreIT.random(Integer.parseInt(args[6]), Long.parseLong(args[7]));
        Digest digest = Digest.of(bytes);
        store.listStatuses();
        ready(trigger);
        Writer writer = store.writer(ref, Descriptor.UNKNOWN);
        writer.write(bytes);
        if (mode.equals("pause")) {
          writer.close();
          if (args[3].equals(AFTER_CLOSE)) {
            trigger.fire();
          }
          writer = store.writer(ref, Descriptor.UNKNOWN);
        }
        writer.commit(bytes.length, digest, LABELS);
      }
      System.out.println("DONE");
      System.out.flush();
    }
  }

  private static void ready(CrashTrigger trigger) {
    trigger.arm();
    System.out.println("READY");
    System.out.flush();
  }

  private static <B extends S3BaseClientBuilder<B, ?>> B clients(B builder, URI endpoint,
      StaticCredentialsProvider credentials, CrashTrigger trigger) {
    return builder.endpointOverride(endpoint).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(credentials)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> List.of(trigger).forEach(o::addExecutionInterceptor));
  }
}
