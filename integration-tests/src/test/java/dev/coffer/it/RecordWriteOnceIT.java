package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A record's conditional write is sent once by the SDK, whichever client carries it (PROTO-3): the
 * store owns every retry, reading the record before the next attempt. On clients the store built
 * the write goes through their single-attempt twin; on a client the caller built, with a
 * per-request plugin that turns its retries off. An answer lost after the server applied the
 * create-only write is then found by reading the record back (its operation id is this call's),
 * not by a second PutObject that the SDK would have sent and S3 refused.
 */
class RecordWriteOnceIT {
  private final S3Mock s3 = S3Mock.get();
  private final String bucket = s3.newBucket();
  private final String prefix = S3Mock.newPrefix();
  private final ObjectKeys keys = new ObjectKeys(prefix);
  private final FaultProxy proxy = FaultProxy.builder(s3.endpoint()).serializeWrites(true)
      .start();
  private final List<AutoCloseable> resources = new ArrayList<>();

  @BeforeEach
  void setUp() {
    resources.add(proxy);
  }

  @AfterEach
  void tearDown() throws Exception {
    Collections.reverse(resources);
    for (AutoCloseable resource : resources) {
      resource.close();
    }
  }

  @ParameterizedTest(name = "through {0} clients")
  @ValueSource(booleans = {true, false})
  void aCreationWhoseAnswerWasLostIsSentOnceAndFoundByReadingTheRecord(boolean storeBuilt) {
    ContentStore host = host(storeBuilt);
    byte[] bytes = ("its record's creation lost its answer, store-built clients: " + storeBuilt)
        .getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.of(bytes);
    proxy.aim(HttpMethod.PUT, bucket, keys.index(digest), FaultProxy.Fault.RESPONSE_LOST, 1);

    assertThat(host.put(bytes, null, Map.of()).digest()).isEqualTo(digest);

    assertThat(proxy.requests(HttpMethod.PUT, bucket, keys.index(digest)))
        .as("PutObject requests of the index key").isEqualTo(1);
    assertThat(proxy.requests(HttpMethod.GET, bucket, keys.index(digest)))
        .as("the record read back after the lost answer").isEqualTo(1);
    assertThat(host.info(digest).refCount()).isZero();
    assertThat(Content.readBlob(host, Descriptor.of(digest))).isEqualTo(bytes);
    assertThat(host.fsck(false).findings()).isEmpty();
  }

  /** A store through the proxy, its S3 clients built by the store or by the caller. */
  private ContentStore host(boolean storeBuilt) {
    S3StoreConfig config = s3.config(bucket, prefix).endpoint(proxy.endpoint()).build();
    ContentStore store;
    if (storeBuilt) {
      store = S3Stores.open(config);
    } else {
      S3Client client = S3Client.builder().endpointOverride(proxy.endpoint())
          .forcePathStyle(true).region(Region.US_EAST_1)
          .credentialsProvider(config.credentials().orElseThrow()).build();
      resources.add(client);
      store = S3Stores.builder().config(config).client(client).build();
    }
    resources.add(store);
    return store;
  }
}
