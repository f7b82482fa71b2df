package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;

/**
 * A commit that outlasts the writer's lease (here its server-side copy is held up for twice the
 * lease) keeps the ref: the lease is renewed until the commit ends, so gc and another host's
 * writer leave the ingest alone, and the commit completes. Found by {@link BuildFarmIT} with
 * faults, where gc removed an ingest mid-commit and the commit failed with NotFound.
 */
class LeaseDuringCommitIT {
  private static final int MIB = 1 << 20;

  @Test
  void theLeaseIsRenewedWhileACommitCopiesTheBlob() {
    S3Endpoint endpoint = S3Endpoint.selected();
    Duration lease = Duration.ofSeconds(1);
    S3StoreConfig config = endpoint.config(endpoint.newBucket(), endpoint.newPrefix())
        .partSize(5 * MIB).leaseDuration(lease).build();
    AtomicReference<Object> meanwhile = new AtomicReference<>();
    try (ContentStore other = S3Stores.open(config);
        S3Client control = endpoint.clientWithHook(request -> {
          if (request instanceof CopyObjectRequest && meanwhile.get() == null) {
            meanwhile.set(whileCopying(other, lease));
          }
        });
        ContentStore host = S3Stores.builder().config(config).client(control).build()) {
      byte[] bytes = new byte[6 * MIB];
      new Random(3).nextBytes(bytes);
      try (Writer writer = host.writer("slow-commit", Descriptor.UNKNOWN)) {
        writer.write(bytes);
        writer.commit(bytes.length, Digest.of(bytes), null);
      }
      assertThat(meanwhile.get()).as("another host's writer on the ref during the commit")
          .isInstanceOf(UnavailableException.class);
      RefCountHosts.assertReadable(other, Digest.of(bytes), bytes);
    }
  }

  /** Waits out twice the lease, runs gc and tries the ref from another host. */
  private static Object whileCopying(ContentStore other, Duration lease) {
    try {
      Thread.sleep(2 * lease.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
    other.gc(new GcOptions(Duration.ZERO, false));
    try (Writer taken = other.writer("slow-commit", Descriptor.UNKNOWN)) {
      return "the ref was free at offset " + taken.status().offset();
    } catch (UnavailableException expected) {
      return expected;
    }
  }
}
