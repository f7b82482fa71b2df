package dev.coffer.benchmarks;

import dev.coffer.s3server.Credentials;
import dev.coffer.s3server.EmbeddedS3Server;
import dev.coffer.s3sim.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * PutObject requests per second against the embedded S3 server on its disk storage (every object
 * written to a file, forced and renamed into place before the answer), from 16 threads at once, as
 * {@code coffer put -r --jobs 16} sends them: each PUT a new key with {@code size} bytes. Shows how
 * far concurrent PUTs overlap their durable writes. The storage is in a fresh temporary directory
 * ({@code java.io.tmpdir}), so the figure is that file system's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(16)
public class EmbeddedPutBenchmark {
  private static final String BUCKET = "bench";

  /** The size of each object. */
  @Param("65536")
  public int size;

  private final AtomicLong keys = new AtomicLong();
  private Path dir;
  private EmbeddedS3Server server;
  private S3Client s3;
  private byte[] content;

  @Setup(Level.Trial)
  public void start() throws IOException {
    dir = Files.createTempDirectory("coffer-benchmark-");
    Credentials credentials = Credentials.random();
    server = EmbeddedS3Server.builder().storage(Storage.onDisk(dir.resolve("data")))
        .credentials(credentials).bucket(BUCKET).start();
    s3 = S3Client.builder()
        .httpClient(ApacheHttpClient.builder().maxConnections(64).build())
        .endpointOverride(server.endpoint()).forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
            credentials.accessKeyId(), credentials.secretAccessKey())))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .build();
    content = new byte[size];
    new Random(1).nextBytes(content);
  }

  @TearDown(Level.Trial)
  public void stop() throws IOException {
    s3.close();
    server.close();
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  @Benchmark
  public String putObject() {
    String key = "objects/" + keys.incrementAndGet();
    return s3.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(content)).eTag();
  }
}
