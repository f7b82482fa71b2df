package dev.coffer.s3server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.Storage;
import dev.coffer.store.AbortedException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.Info;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/**
 * What S3Mock got wrong (issue 18): eight hosts' stores (separate S3 clients, as separate
 * {@code coffer} processes have) ref and deref one blob at once through the server over HTTP, with
 * no serialising proxy in between. Every conditional write is applied atomically, so the count is
 * exact and every index record whole.
 */
class RefCountThroughServerTest {
  @TempDir
  Path dir;

  @Test
  void concurrentRefsAndDerefsFromSeparateStoresKeepAnExactCount() throws Exception {
    Credentials credentials = Credentials.random();
    int threads = 8;
    int refs = 12;
    int derefs = 7;
    try (EmbeddedS3Server server = EmbeddedS3Server.builder()
        .storage(Storage.onDisk(dir.resolve("data"))).credentials(credentials).bucket("coffer")
        .start()) {
      S3StoreConfig config = S3StoreConfig.builder().bucket("coffer").prefix("shared/")
          .region("us-east-1").pathStyle(true).endpoint(server.endpoint())
          .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create(
              credentials.accessKeyId(), credentials.secretAccessKey())))
          .build();
      List<ContentStore> stores = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        for (int t = 0; t < threads; t++) {
          stores.add(S3Stores.open(config));
        }
        Digest digest = stores.get(0).putAndRef("counted".getBytes(StandardCharsets.UTF_8), null,
            Map.of()).digest();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<?>> done = new ArrayList<>();
        for (ContentStore store : stores) {
          done.add(pool.submit(() -> {
            start.await();
            for (int i = 0; i < refs; i++) {
              retryAborted(() -> store.ref(digest));
              if (i < derefs) {
                retryAborted(() -> store.deref(digest));
              }
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(5, TimeUnit.MINUTES);
        }
        long expected = 1 + (long) threads * (refs - derefs);
        for (ContentStore store : stores) {
          Info info = store.info(digest);
          assertThat(info.refCount()).isEqualTo(expected);
        }
        FsckReport report = stores.get(0).fsck(false);
        assertThat(report.findings()).isEmpty();
        assertThat(report.blobsChecked()).isEqualTo(1);
      } finally {
        pool.shutdownNow();
        stores.forEach(ContentStore::close);
      }
    }
  }

  private static void retryAborted(Runnable call) {
    while (true) {
      try {
        call.run();
        return;
      } catch (AbortedException e) {
        // A lost race of conditional writes: the contract says try again.
      }
    }
  }
}
