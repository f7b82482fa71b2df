package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A record's conditional write is sent once by the SDK, whichever client carries it (PROTO-3): the
 * store owns every retry, reading the record before the next attempt. On clients the store built
 * the write goes through their single-attempt twin; on a client the caller built, with a
 * per-request plugin that turns its retries off. An answer lost after the server applied the
 * create-only write is then found by reading the record back (its operation id is this call's),
 * not by a second PutObject that the SDK would have sent and S3 refused.
 */
class RecordWriteOnceIT {
  private final ProxiedBucket fixture = new ProxiedBucket();
  private final String bucket = fixture.bucket;
  private final ObjectKeys keys = fixture.keys;
  private final FaultProxy proxy = fixture.proxy;

  @AfterEach
  void tearDown() throws Exception {
    fixture.close();
  }

  @ParameterizedTest(name = "through {0} clients")
  @ValueSource(booleans = {true, false})
  void aCreationWhoseAnswerWasLostIsSentOnceAndFoundByReadingTheRecord(boolean storeBuilt) {
    ContentStore host = fixture.host(storeBuilt, config -> config);
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
}
