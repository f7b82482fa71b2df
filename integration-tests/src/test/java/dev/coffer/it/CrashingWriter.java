package dev.coffer.it;

import static org.awaitility.Awaitility.await;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * A writer process for {@link S3MultiHostIT}: opens a ref, writes {@code parts} full parts and a
 * tail, waits until S3 lists those parts, prints {@code READY} and then waits to be killed, its
 * writer still open.
 *
 * <p>Arguments: endpoint, bucket, prefix, ref, part size, parts, tail bytes, seed.
 */
public final class CrashingWriter {
  private CrashingWriter() {}

  public static void main(String[] args) throws Exception {
    URI endpoint = URI.create(args[0]);
    String bucket = args[1];
    String prefix = args[2];
    String ref = args[3];
    int partSize = Integer.parseInt(args[4]);
    int parts = Integer.parseInt(args[5]);
    int tail = Integer.parseInt(args[6]);
    long seed = Long.parseLong(args[7]);
    StaticCredentialsProvider credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create("coffer", "coffer"));
    S3StoreConfig config = S3StoreConfig.builder().bucket(bucket).prefix(prefix)
        .endpoint(endpoint).pathStyle(true).credentials(credentials).partSize(partSize)
        .leaseDuration(Duration.ofSeconds(2)).transfer(S3StoreConfig.Transfer.JAVA_ASYNC).build();
    byte[] bytes = S3StoreIT.random(partSize * parts + tail, seed);
    ContentStore store = S3Stores.open(config);
    Writer writer = store.writer(ref, Descriptor.UNKNOWN);
    writer.write(bytes);
    try (S3Client s3 = S3Client.builder().endpointOverride(endpoint).forcePathStyle(true)
        .region(software.amazon.awssdk.regions.Region.US_EAST_1).credentialsProvider(credentials)
        .build()) {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
          .until(() -> listedParts(s3, bucket, prefix), listed -> listed >= parts);
    }
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE); // until the test kills this host
  }

  private static int listedParts(S3Client s3, String bucket, String prefix) {
    int count = 0;
    for (MultipartUpload upload : s3.listMultipartUploads(b -> b.bucket(bucket).prefix(prefix))
        .uploads()) {
      count += s3.listParts(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()))
          .parts().size();
    }
    return count;
  }
}
