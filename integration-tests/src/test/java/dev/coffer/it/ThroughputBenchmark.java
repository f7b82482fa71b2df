package dev.coffer.it;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Single-writer throughput against S3Mock, not part of the build's tests: the store's Writer
 * (write in 1 MiB calls, then close, which completes the upload as raw multipart does; or then
 * commit, which adds the server-side copy to the digest key and the records) beside a raw SDK
 * multipart upload of the same bytes with the same part size and concurrency, on the CRT
 * client, the Netty-based async client and the sync client. Runs alternate; each figure is the
 * median of the runs, in MiB/s.
 *
 * <p>Arguments: size in MiB (default 256), runs (default 3), part size in MiB (default 16),
 * concurrency (default 4).
 */
public final class ThroughputBenchmark {
  private static final int MIB = 1 << 20;

  private ThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    int sizeMib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int partMib = args.length > 2 ? Integer.parseInt(args[2]) : 16;
    int concurrency = args.length > 3 ? Integer.parseInt(args[3]) : 4;
    byte[] bytes = new byte[sizeMib * MIB];
    new Random(1).nextBytes(bytes);
    S3Mock s3 = S3Mock.get();
    String bucket = s3.newBucket();
    StaticCredentialsProvider credentials =
        StaticCredentialsProvider.create(AwsBasicCredentials.create("coffer", "coffer"));
    S3AsyncClient crt = S3AsyncClient.crtBuilder().endpointOverride(s3.endpoint())
        .forcePathStyle(true).region(Region.US_EAST_1).credentialsProvider(credentials)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .maxConcurrency(64).build();
    S3AsyncClient netty = s3.asyncClient();
    S3Client sync = s3.client();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);

    Map<String, Supplier<Long>> cases = new LinkedHashMap<>();
    for (S3StoreConfig.Transfer transfer : S3StoreConfig.Transfer.values()) {
      cases.put("writer+close " + transfer, () -> writer(s3, bucket, bytes, partMib, concurrency,
          transfer, S3StoreConfig.ChecksumMode.SHA256, false));
    }
    cases.put("writer+close JAVA_ASYNC no-sum", () -> writer(s3, bucket, bytes, partMib,
        concurrency, S3StoreConfig.Transfer.JAVA_ASYNC, S3StoreConfig.ChecksumMode.WHEN_REQUIRED,
        false));
    cases.put("writer+close JAVA_ASYNC crc32c", () -> writer(s3, bucket, bytes, partMib,
        concurrency, S3StoreConfig.Transfer.JAVA_ASYNC, S3StoreConfig.ChecksumMode.CRC32C, false));
    cases.put("writer+commit JAVA_ASYNC", () -> writer(s3, bucket, bytes, partMib, concurrency,
        S3StoreConfig.Transfer.JAVA_ASYNC, S3StoreConfig.ChecksumMode.CRC32C, true));
    cases.put("raw multipart CRT", () -> rawAsync(crt, bucket, bytes, partMib, concurrency));
    cases.put("raw multipart JAVA_ASYNC",
        () -> rawAsync(netty, bucket, bytes, partMib, concurrency));

    cases.put("raw multipart JAVA_SYNC",
        () -> rawSync(sync, pool, bucket, bytes, partMib, concurrency));

    Map<String, List<Long>> nanos = new LinkedHashMap<>();
    cases.keySet().forEach(k -> nanos.put(k, new ArrayList<>()));
    for (int run = 0; run < runs; run++) {
      for (Map.Entry<String, Supplier<Long>> c : cases.entrySet()) {
        long took = c.getValue().get();
        nanos.get(c.getKey()).add(took);
        System.out.printf("run %d %-26s %7.1f MiB/s%n", run + 1, c.getKey(),
            sizeMib / (took / 1e9));
      }
    }
    System.out.printf("%n%d MiB, parts %d MiB x %d in flight, median of %d:%n", sizeMib,
        partMib, concurrency, runs);
    for (Map.Entry<String, List<Long>> e : nanos.entrySet()) {
      long[] sorted = e.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
      System.out.printf("%-26s %7.1f MiB/s%n", e.getKey(),
          sizeMib / (sorted[sorted.length / 2] / 1e9));
    }
    pool.shutdown();
    crt.close();
    netty.close();
    sync.close();
    System.exit(0);
  }

  private static long writer(S3Mock s3, String bucket, byte[] bytes, int partMib,
      int concurrency, S3StoreConfig.Transfer transfer, S3StoreConfig.ChecksumMode checksums,
      boolean commit) {
    S3StoreConfig config = s3.config(bucket, S3Mock.newPrefix()).partSize((long) partMib * MIB)
        .uploadConcurrency(concurrency).transfer(transfer).checksumMode(checksums).build();
    try (ContentStore store = S3Stores.open(config)) {
      long start = System.nanoTime();
      Digest digest;
      try (Writer writer = store.writer("bench", Descriptor.UNKNOWN)) {
        for (int at = 0; at < bytes.length; at += MIB) {
          writer.write(ByteBuffer.wrap(bytes, at, Math.min(MIB, bytes.length - at)));
        }
        digest = writer.digest();
        if (commit) {
          writer.commit(bytes.length, digest, null);
        }
      }
      long took = System.nanoTime() - start;
      if (commit) {
        store.delete(digest);
      } else {
        store.abort("bench");
      }
      return took;
    }
  }

  private static long rawAsync(S3AsyncClient client, String bucket, byte[] bytes, int partMib,
      int concurrency) {
    String key = "raw-" + System.nanoTime();
    long start = System.nanoTime();
    String id = client.createMultipartUpload(b -> b.bucket(bucket).key(key)).join().uploadId();
    Semaphore inFlight = new Semaphore(concurrency);
    List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
    int part = (int) ((long) partMib * MIB);
    for (int at = 0, n = 1; at < bytes.length; at += part, n++) {
      inFlight.acquireUninterruptibly();
      int number = n;
      int length = Math.min(part, bytes.length - at);
      parts.add(client.uploadPart(b -> b.bucket(bucket).key(key).uploadId(id).partNumber(number)
              .contentLength((long) length),
              AsyncRequestBody.fromByteBufferUnsafe(ByteBuffer.wrap(bytes, at, length)))
          .thenApply(r -> CompletedPart.builder().partNumber(number).eTag(r.eTag()).build())
          .whenComplete((r, e) -> inFlight.release()));
    }
    List<CompletedPart> done = parts.stream().map(CompletableFuture::join).toList();
    client.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(id)
        .multipartUpload(m -> m.parts(done))).join();
    long took = System.nanoTime() - start;
    client.deleteObject(b -> b.bucket(bucket).key(key)).join();
    return took;
  }

  private static long rawSync(S3Client client, ExecutorService pool, String bucket, byte[] bytes,
      int partMib, int concurrency) {
    String key = "raw-" + System.nanoTime();
    long start = System.nanoTime();
    String id = client.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId();
    Semaphore inFlight = new Semaphore(concurrency);
    List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
    int part = (int) ((long) partMib * MIB);
    for (int at = 0, n = 1; at < bytes.length; at += part, n++) {
      inFlight.acquireUninterruptibly();
      int number = n;
      int from = at;
      int length = Math.min(part, bytes.length - at);
      parts.add(CompletableFuture.supplyAsync(() -> {
        try {
          String etag = client.uploadPart(b -> b.bucket(bucket).key(key).uploadId(id)
              .partNumber(number).contentLength((long) length),
              RequestBody.fromByteBuffer(ByteBuffer.wrap(bytes, from, length))).eTag();
          return CompletedPart.builder().partNumber(number).eTag(etag).build();
        } finally {
          inFlight.release();
        }
      }, pool));
    }
    List<CompletedPart> done = parts.stream().map(CompletableFuture::join).toList();
    client.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(id)
        .multipartUpload(m -> m.parts(done)));
    long took = System.nanoTime() - start;
    client.deleteObject(b -> b.bucket(bucket).key(key));
    return took;
  }
}
