package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.SimS3;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.async.AsyncExecuteRequest;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * What the clients a store builds from its configuration put on the wire for the bodies they
 * send (INT-6 of docs/architecture.md), recorded at the HTTP client under them: over {@code
 * http://}, every PutObject and UploadPart goes as {@code UNSIGNED-PAYLOAD} with its checksum
 * header, unless the configuration asks for signed bodies or leaves writes without checksums
 * ({@code WHEN_REQUIRED}); over {@code https://} nothing differs from the SDK's own. On the
 * simulated S3, which stores what it is sent whatever the scheme; UnsignedPayloadIT runs the same
 * against a server that checks signatures and checksums.
 */
class UnsignedPayloadsTest {
  private static final int MIB = 1 << 20;
  private static final String HOST = "h";

  private final SimS3 sim = SimS3.create();
  private final List<SdkHttpRequest> sent = new CopyOnWriteArrayList<>();
  private int stores;

  UnsignedPayloadsTest() {
    sim.createBucket(SimStores.BUCKET);
  }

  @AfterEach
  void tearDown() {
    sim.close();
  }

  @Test
  void overHttpBodiesGoUnsignedWithTheirChecksums() throws Exception {
    Map<String, String> modes = writeSmallAndMultipart(config("http"));

    assertThat(modes).containsOnly(
        Map.entry("PUT blob", "UNSIGNED-PAYLOAD x-amz-checksum-sha256"),
        Map.entry("PUT part", "UNSIGNED-PAYLOAD x-amz-checksum-crc32c"),
        Map.entry("PUT record", "UNSIGNED-PAYLOAD x-amz-checksum-crc32c"));
  }

  @Test
  void signPayloadsKeepsTheSdksSignedChunksOverHttp() throws Exception {
    Map<String, String> modes = writeSmallAndMultipart(config("http").signPayloads(true));

    assertThat(modes.get("PUT blob"))
        .isEqualTo("STREAMING-AWS4-HMAC-SHA256-PAYLOAD x-amz-checksum-sha256");
    assertThat(modes.get("PUT record"))
        .isEqualTo("STREAMING-AWS4-HMAC-SHA256-PAYLOAD x-amz-checksum-crc32c");
  }

  @Test
  void writesWithoutChecksumsKeepSignedBodies() throws Exception {
    Map<String, String> modes = writeSmallAndMultipart(
        config("http").checksumMode(S3StoreConfig.ChecksumMode.WHEN_REQUIRED));

    assertThat(modes.get("PUT blob")).isEqualTo("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    assertThat(modes.get("PUT record")).isEqualTo("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  }

  @Test
  void overHttpsNothingChanges() throws Exception {
    Map<String, String> unsigned = writeSmallAndMultipart(config("https"));
    sent.clear();
    Map<String, String> signed = writeSmallAndMultipart(config("https").signPayloads(true));

    assertThat(unsigned).isEqualTo(signed).containsOnly(
        Map.entry("PUT blob", "UNSIGNED-PAYLOAD x-amz-checksum-sha256"),
        Map.entry("PUT part", "UNSIGNED-PAYLOAD x-amz-checksum-crc32c"),
        Map.entry("PUT record", "UNSIGNED-PAYLOAD x-amz-checksum-crc32c"));
  }

  private static S3StoreConfig.Builder config(String scheme) {
    return S3StoreConfig.builder().bucket(SimStores.BUCKET).partSize(5 * MIB)
        .endpoint(URI.create(scheme + "://" + SimS3.ENDPOINT.getHost())).pathStyle(true)
        .credentials(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")));
  }

  /**
   * Writes a small blob and a multipart one through a store on clients built as the store builds
   * its own, reads both back, and returns the payload mode and checksum header of each kind of
   * write sent ({@code "PUT blob"}, {@code "PUT part"}, {@code "PUT record"}), which must agree
   * across every request of that kind.
   */
  private Map<String, String> writeSmallAndMultipart(S3StoreConfig.Builder builder)
      throws Exception {
    S3StoreConfig config = builder.prefix("p" + stores++ + "/").build();
    S3Client control = S3Stores.common(S3Client.builder(), config, null)
        .httpClient(recording(sim.httpClient(HOST))).build();
    S3AsyncClient bulk = S3Stores.common(S3AsyncClient.builder(), config, null)
        .httpClient(recording(sim.asyncHttpClient(HOST))).build();
    try (control; bulk; ContentStore store = S3Stores.builder().config(config).client(control)
        .bulkClient(bulk).build()) {
      for (int size : new int[] {1000, 12 * MIB + 3}) {
        byte[] content = new byte[size];
        new Random(size).nextBytes(content);
        Descriptor descriptor = Descriptor.of(Digest.of(content), size);
        Content.writeBlob(store, "r" + size, new ByteArrayInputStream(content), descriptor,
            null);
        assertThat(Content.readBlob(store, descriptor)).isEqualTo(content);
      }
    }
    Map<String, String> modes = new TreeMap<>();
    for (SdkHttpRequest r : sent) {
      if (r.method().name().equals("PUT") && !r.rawQueryParameters().containsKey("tagging")
          && r.firstMatchingHeader("x-amz-copy-source").isEmpty()) {
        String path = r.encodedPath();
        String kind = r.rawQueryParameters().containsKey("partNumber") ? "part"
            : path.contains("/blobs/") ? "blob" : "record";
        String checksum = r.headers().keySet().stream()
            .filter(h -> h.toLowerCase().startsWith("x-amz-checksum-"))
            .map(String::toLowerCase).findFirst().map(h -> " " + h).orElse("");
        String mode = r.firstMatchingHeader("x-amz-content-sha256").orElse("none") + checksum;
        String before = modes.putIfAbsent("PUT " + kind, mode);
        assertThat(before).as("every PUT %s alike: %s", kind, r).isIn(null, mode);
      }
    }
    return modes;
  }

  private SdkHttpClient recording(SdkHttpClient delegate) {
    return new SdkHttpClient() {
      @Override
      public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
        sent.add(request.httpRequest());
        return delegate.prepareRequest(request);
      }

      @Override
      public void close() {
        delegate.close();
      }
    };
  }

  private SdkAsyncHttpClient recording(SdkAsyncHttpClient delegate) {
    return new SdkAsyncHttpClient() {
      @Override
      public CompletableFuture<Void> execute(AsyncExecuteRequest request) {
        sent.add(request.request());
        return delegate.execute(request);
      }

      @Override
      public void close() {
        delegate.close();
      }
    };
  }
}
