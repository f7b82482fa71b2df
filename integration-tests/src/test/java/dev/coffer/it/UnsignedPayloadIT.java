package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnknownException;
import dev.coffer.store.s3.S3Stores;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Request bodies sent unsigned over plain HTTP (INT-6 of docs/architecture.md), against the CLI's
 * embedded server, which checks SigV4 signatures, {@code x-amz-content-sha256} and every
 * checksum sent: a store on the clients it builds writes and reads small and multipart blobs;
 * PutObject goes as {@code UNSIGNED-PAYLOAD} with the blob's SHA-256 as its checksum; and a body
 * changed after the store computed its checksum (as on a network that flips a bit) is refused
 * with nothing stored, the checksum and not the signature catching it.
 */
class UnsignedPayloadIT {
  private static final int MIB = 1 << 20;

  private final S3Endpoint server = S3Endpoint.embedded();
  private final String bucket = server.newBucket();

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  @Test
  void aStoreOnItsOwnClientsWritesAndReadsOverHttp() throws Exception {
    assertThat(server.server().getScheme()).isEqualTo("http");
    try (ContentStore store = S3Stores.open(
        server.config(bucket, server.newPrefix()).partSize(5 * MIB).build())) {
      for (int size : new int[] {1000, 12 * MIB + 3}) {
        byte[] content = random(size);
        Descriptor descriptor = Descriptor.of(Digest.of(content), size);
        Content.writeBlob(store, "r" + size, new ByteArrayInputStream(content), descriptor, null);
        assertThat(Content.readBlob(store, descriptor)).isEqualTo(content);
      }
    }
  }

  @Test
  void aBodyChangedOnItsWayIsRefusedByItsChecksum() throws Exception {
    List<SdkHttpRequest> sent = new CopyOnWriteArrayList<>();
    ExecutionInterceptor flipOneByte = new ExecutionInterceptor() {
      @Override
      public Optional<RequestBody> modifyHttpContent(Context.ModifyHttpRequest context,
          ExecutionAttributes attributes) {
        Optional<RequestBody> body = context.requestBody();
        if (!context.httpRequest().encodedPath().contains("/blobs/") || body.isEmpty()) {
          return body;
        }
        try (var in = body.get().contentStreamProvider().newStream()) {
          byte[] bytes = in.readAllBytes();
          bytes[bytes.length / 2] ^= 1;
          return Optional.of(RequestBody.fromByteBuffer(ByteBuffer.wrap(bytes)));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }

      @Override
      public void beforeTransmission(Context.BeforeTransmission context,
          ExecutionAttributes attributes) {
        sent.add(context.httpRequest());
      }
    };
    String prefix = server.newPrefix();
    byte[] content = random(1000);
    Descriptor descriptor = Descriptor.of(Digest.of(content), content.length);
    try (S3Client client = server.clientBuilder(server.endpoint())
            .putAuthScheme(S3Stores.unsignedPayloads())
            .overrideConfiguration(o -> o.addExecutionInterceptor(flipOneByte)).build();
        ContentStore store = S3Stores.builder().config(server.config(bucket, prefix).build())
            .client(client).build()) {
      assertThatThrownBy(() -> Content.writeBlob(store, "r", new ByteArrayInputStream(content),
          descriptor, null))
          .isInstanceOf(UnknownException.class)
          .hasMessageContaining("did not match the calculated checksum")
          .hasMessageContaining("Status Code: 400");
      assertThat(sent).filteredOn(r -> r.encodedPath().contains("/blobs/"))
          .isNotEmpty()
          .allSatisfy(r -> {
            assertThat(r.protocol()).isEqualTo("http");
            assertThat(r.firstMatchingHeader("x-amz-content-sha256")).hasValue("UNSIGNED-PAYLOAD");
            assertThat(r.firstMatchingHeader("x-amz-checksum-sha256"))
                .hasValue(java.util.Base64.getEncoder().encodeToString(
                    java.util.HexFormat.of().parseHex(descriptor.digest().hex())));
          });
    }
    try (ContentStore store = S3Stores.open(server.config(bucket, prefix).build())) {
      assertThatThrownBy(() -> Content.readBlob(store, descriptor))
          .isInstanceOf(NotFoundException.class);
    }
  }
}
