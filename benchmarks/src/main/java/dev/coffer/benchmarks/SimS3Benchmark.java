package dev.coffer.benchmarks;

import dev.coffer.s3sim.SimRequest;
import dev.coffer.s3sim.SimResponse;
import dev.coffer.s3sim.SimS3;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Simple requests per second through the real {@code S3Client} on the simulated S3 (one thread,
 * no faults, checksums only where required as the store sends them): HeadObject, GetObject and
 * PutObject of a 1 KiB object, and HeadObject straight into the REST layer, which shows how much of
 * a request is the SDK's own work.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
public class SimS3Benchmark {
  private static final String BUCKET = "bench";
  private final byte[] kib = new byte[1024];
  private SimS3 sim;
  private S3Client s3;
  private SimRequest rawHead;

  @Setup(Level.Trial)
  public void start() {
    sim = SimS3.builder().logCapacity(0).build();
    sim.createBucket(BUCKET);
    s3 = S3Client.builder()
        .httpClient(sim.httpClient("bench"))
        .endpointOverride(SimS3.ENDPOINT).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create("sim", "sim")))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .build();
    s3.putObject(b -> b.bucket(BUCKET).key("object"), RequestBody.fromBytes(kib));
    rawHead = SimRequest.builder("HEAD", "/" + BUCKET + "/object").build();
  }

  @TearDown(Level.Trial)
  public void stop() {
    s3.close();
    sim.close();
  }

  @Benchmark
  public String headObject() {
    return s3.headObject(b -> b.bucket(BUCKET).key("object")).eTag();
  }

  @Benchmark
  public byte[] getObject() {
    return s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("object")).asByteArrayUnsafe();
  }

  @Benchmark
  public String putObject() {
    return s3.putObject(b -> b.bucket(BUCKET).key("object"), RequestBody.fromBytes(kib)).eTag();
  }

  @Benchmark
  public SimResponse serverHeadObject() {
    return sim.server().handle(rawHead);
  }
}
