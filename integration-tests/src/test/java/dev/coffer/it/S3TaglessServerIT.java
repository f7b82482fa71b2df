package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.s3.S3Stores;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A server without object tagging, as some S3-compatible servers are: every request that carries
 * tags is answered 501 Not Implemented (S3Mock has tagging, so an interceptor turns its answers to
 * such requests into 501). The store goes on without tags and stops sending them after the first.
 */
class S3TaglessServerIT {

  /** Answers 501 to PutObject with x-amz-tagging and to PutObjectTagging; counts them. */
  private static final class NoTagging implements ExecutionInterceptor {
    final AtomicInteger refused = new AtomicInteger();

    @Override
    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context,
        ExecutionAttributes attributes) {
      boolean tagged = context.httpRequest().firstMatchingHeader("x-amz-tagging").isPresent()
          || context.httpRequest().rawQueryParameters().containsKey("tagging");
      if (!tagged || !context.httpResponse().isSuccessful()) {
        return context.httpResponse();
      }
      refused.incrementAndGet();
      return context.httpResponse().toBuilder().statusCode(501).build();
    }
  }

  /**
   * A server that refuses the tagging header before reading the body and closes the connection:
   * the client, still sending, gets no answer at all (a broken pipe) on every attempt of a tagged
   * PutObject; a tagging request without a body gets its 501 through, even for a missing key.
   */
  private static final class CutTaggedUploads implements ExecutionInterceptor {
    final AtomicInteger cut = new AtomicInteger();

    @Override
    public void beforeTransmission(Context.BeforeTransmission context,
        ExecutionAttributes attributes) {
      if (context.httpRequest().firstMatchingHeader("x-amz-tagging").isPresent()) {
        cut.incrementAndGet();
        throw SdkClientException.create("Broken pipe (the server closed the connection)",
            new java.io.IOException("Broken pipe"));
      }
    }

    @Override
    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context,
        ExecutionAttributes attributes) {
      if (context.httpRequest().rawQueryParameters().containsKey("tagging")) {
        return context.httpResponse().toBuilder().statusCode(501).build();
      }
      return context.httpResponse();
    }
  }

  /** A store on a fresh bucket over clients with {@code interceptors}; closes all three. */
  private record Opened(S3Client client, S3AsyncClient bulk, ContentStore store)
      implements AutoCloseable {
    static Opened on(ExecutionInterceptor... interceptors) {
      S3Mock s3 = S3Mock.get();
      S3Client client = s3.client(interceptors);
      S3AsyncClient bulk = s3.asyncClient(interceptors);
      return new Opened(client, bulk, S3Stores.builder()
          .config(s3.config(s3.newBucket(), S3Mock.newPrefix()).build())
          .client(client).bulkClient(bulk).build());
    }

    @Override
    public void close() {
      try (client; bulk) {
        store.close();
      }
    }
  }

  @Test
  void aTaggedUploadCutWithoutAnswerFindsTheServerTaglessAndStoresWithoutTags() {
    CutTaggedUploads server = new CutTaggedUploads();
    RequestCounter counter = new RequestCounter();
    try (Opened opened = Opened.on(server, counter)) {
      ContentStore store = opened.store();
      byte[] first = new byte[900 * 1024];
      new java.util.Random(9).nextBytes(first);
      Digest digest = store.putAndRef(first, null, Map.of("k", "v")).digest();
      assertThat(server.cut.get()).isPositive();
      assertThat(counter.snapshot()).containsEntry("GetObjectTagging", 1);
      assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(first);
      assertThat(store.info(digest).refCount()).isEqualTo(1);
      assertThat(store.info(digest).labels()).isEqualTo(Map.of("k", "v"));

      int cutBefore = server.cut.get();
      counter.take();
      byte[] second = "a second blob, sent without tags at once".getBytes();
      Digest other = store.put(second, null, Map.of("k", "w")).digest();
      assertThat(counter.take()).isEqualTo(Map.of("PutObject", 2));
      assertThat(server.cut.get()).isEqualTo(cutBefore);
      assertThat(Content.readBlob(store, Descriptor.of(other))).isEqualTo(second);
    }
  }

  @Test
  void aTaggedUploadCutWithoutAnswerOnATaggingServerFailsAsUnavailable() {
    ExecutionInterceptor cutOnly = new ExecutionInterceptor() {
      @Override
      public void beforeTransmission(Context.BeforeTransmission context,
          ExecutionAttributes attributes) {
        if (context.httpRequest().firstMatchingHeader("x-amz-tagging").isPresent()) {
          throw SdkClientException.create("Broken pipe", new java.io.IOException("Broken pipe"));
        }
      }
    };
    RequestCounter counter = new RequestCounter();
    try (Opened opened = Opened.on(cutOnly, counter)) {
      ContentStore store = opened.store();
      byte[] bytes = "tags work here; the network failed".getBytes();
      // The look finds tagging answered (404: no such key), so the failure stands as it was.
      assertThatThrownBy(() -> store.putAndRef(bytes, null, Map.of("k", "v")))
          .isInstanceOf(UnavailableException.class).hasMessageContaining("Broken pipe");
      assertThat(counter.snapshot()).containsEntry("GetObjectTagging", 1);
      assertThatThrownBy(() -> store.info(Digest.of(bytes)))
          .isInstanceOf(NotFoundException.class);
    }
  }

  @Test
  void blobsAreStoredWithoutTagsAfterTheFirst501() {
    NoTagging noTagging = new NoTagging();
    RequestCounter counter = new RequestCounter();
    try (Opened opened = Opened.on(noTagging, counter)) {
      ContentStore store = opened.store();
      byte[] first = "the first blob of a server without tagging".getBytes();
      Digest digest = store.putAndRef(first, null, Map.of("k", "v")).digest();
      assertThat(noTagging.refused.get()).isEqualTo(1);
      assertThat(Content.readBlob(store, Descriptor.of(digest))).isEqualTo(first);
      assertThat(store.info(digest).refCount()).isEqualTo(1);

      byte[] second = "a second blob, sent without tags at once".getBytes();
      counter.take();
      Digest other = store.put(second, null, null).digest();
      assertThat(counter.take()).isEqualTo(Map.of("PutObject", 2));
      assertThat(store.ref(digest).refCount()).isEqualTo(2);
      assertThat(store.ref(other).refCount()).isEqualTo(1);
      assertThat(counter.snapshot()).doesNotContainKey("PutObjectTagging");
      assertThat(noTagging.refused.get()).isEqualTo(1);
      assertThat(Content.readBlob(store, Descriptor.of(other))).isEqualTo(second);
    }
  }
}
