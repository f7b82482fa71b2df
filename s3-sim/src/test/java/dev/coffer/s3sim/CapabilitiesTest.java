package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.TaggingDirective;

/** The capability faults: servers without tagging, without conditional deletes, non-atomic. */
class CapabilitiesTest {

  private static SimS3 simulation(Capabilities capabilities, Runnable gap) {
    SimS3 sim = SimS3.builder().capabilities(capabilities).conditionalWriteGap(gap).build();
    sim.createBucket(SimTestBase.BUCKET);
    return sim;
  }

  @Test
  void withoutTaggingEveryTaggingRequestIsNotImplemented() {
    try (SimS3 sim = simulation(Capabilities.s3().withoutTagging(), () -> { });
        S3Client s3 = Clients.plain(sim, "h", 1)) {
      String bucket = SimTestBase.BUCKET;
      SimTestBase.assertS3Error(() -> s3.putObject(b -> b.bucket(bucket).key("k").tagging("a=1"),
          RequestBody.fromString("v")), 501, "NotImplemented");
      s3.putObject(b -> b.bucket(bucket).key("k"), RequestBody.fromString("v"));
      SimTestBase.assertS3Error(() -> s3.getObjectTagging(b -> b.bucket(bucket).key("k")), 501,
          "NotImplemented");
      SimTestBase.assertS3Error(() -> s3.putObjectTagging(b -> b.bucket(bucket).key("k")
          .tagging(t -> t.tagSet(s -> s.key("a").value("1")))), 501, "NotImplemented");
      SimTestBase.assertS3Error(() -> s3.deleteObjectTagging(b -> b.bucket(bucket).key("k")), 501,
          "NotImplemented");
      SimTestBase.assertS3Error(() -> s3.createMultipartUpload(b -> b.bucket(bucket).key("m")
          .tagging("a=1")), 501, "NotImplemented");
      SimTestBase.assertS3Error(() -> s3.copyObject(b -> b.sourceBucket(bucket).sourceKey("k")
          .destinationBucket(bucket).destinationKey("c")
          .taggingDirective(TaggingDirective.REPLACE).tagging("a=1")), 501, "NotImplemented");
      s3.copyObject(b -> b.sourceBucket(bucket).sourceKey("k").destinationBucket(bucket)
          .destinationKey("c"));
      assertThat(s3.getObjectAsBytes(b -> b.bucket(bucket).key("c")).asUtf8String())
          .isEqualTo("v");
    }
  }

  @Test
  void ignoringDeleteIfMatchDeletesWhateverIsThere() {
    try (SimS3 sim = simulation(Capabilities.s3().ignoringDeleteIfMatch(), () -> { });
        S3Client s3 = Clients.plain(sim, "h", 1)) {
      String bucket = SimTestBase.BUCKET;
      s3.putObject(b -> b.bucket(bucket).key("k"), RequestBody.fromString("v"));
      s3.deleteObject(b -> b.bucket(bucket).key("k").ifMatch("\"not-its-etag\""));
      SimTestBase.assertS3Error(() -> s3.headObject(b -> b.bucket(bucket).key("k")), 404, null);
      s3.deleteObject(b -> b.bucket(bucket).key("k").ifMatch("\"not-its-etag\""));
    }
  }

  @Test
  void nonAtomicConditionalWritesLetTwoCreateOnlyWritesBothSucceed() throws Exception {
    CyclicBarrier bothChecked = new CyclicBarrier(2);
    Runnable gap = () -> {
      try {
        bothChecked.await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    try (SimS3 sim = simulation(Capabilities.s3().withNonAtomicConditionalWrites(), gap)) {
      List<Callable<String>> writers = new ArrayList<>();
      for (String host : List.of("h1", "h2")) {
        writers.add(() -> {
          try (S3Client s3 = Clients.plain(sim, host, 1)) {
            s3.putObject(b -> b.bucket(SimTestBase.BUCKET).key("k").ifNoneMatch("*"),
                RequestBody.fromString(host));
            return host;
          }
        });
      }
      assertThat(ConditionalWritesTest.runAll(writers)).containsExactlyInAnyOrder("h1", "h2");
      assertThat(sim.log().count(Operation.PUT_OBJECT, Outcome.ANSWERED)).isEqualTo(2);
    }
  }

  @Test
  void nonAtomicCompareAndSwapLosesAnUpdate() throws Exception {
    CyclicBarrier bothChecked = new CyclicBarrier(2);
    Runnable gap = () -> {
      try {
        bothChecked.await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    try (SimS3 sim = simulation(Capabilities.s3().withNonAtomicConditionalWrites(), gap);
        S3Client s3 = Clients.plain(sim, "h0", 1)) {
      String etag = s3.putObject(b -> b.bucket(SimTestBase.BUCKET).key("k"),
          RequestBody.fromString("0")).eTag();
      List<Callable<String>> writers = new ArrayList<>();
      for (String host : List.of("h1", "h2")) {
        writers.add(() -> {
          try (S3Client c = Clients.plain(sim, host, 1)) {
            c.putObject(b -> b.bucket(SimTestBase.BUCKET).key("k").ifMatch(etag),
                RequestBody.fromString("1"));
            return host;
          }
        });
      }
      // Both increments of "0" succeeded: one is lost, which S3 would have refused with 412.
      assertThat(ConditionalWritesTest.runAll(writers)).hasSize(2);
      assertThat(s3.getObjectAsBytes(b -> b.bucket(SimTestBase.BUCKET).key("k")).asUtf8String())
          .isEqualTo("1");
    }
  }

  @Test
  void withoutTheDefaultChecksumAnUnchecksummedObjectHasNone() {
    try (SimS3 sim = simulation(Capabilities.s3().withoutDefaultChecksum(), () -> { });
        S3Client s3 = Clients.plain(sim, "h", 1)) {
      s3.putObject(b -> b.bucket(SimTestBase.BUCKET).key("k"), RequestBody.fromString("v"));
      var head = s3.headObject(b -> b.bucket(SimTestBase.BUCKET).key("k")
          .checksumMode(ChecksumMode.ENABLED));
      assertThat(head.checksumCRC64NVME()).isNull();
      assertThat(head.checksumType()).isNull();
    }
  }

  @Test
  void idempotentCompletionAnswersARepeatedCompletionAsTheFirst() {
    try (SimS3 sim = simulation(Capabilities.s3().withIdempotentCompletion(), () -> { });
        S3Client s3 = Clients.plain(sim, "h", 1)) {
      String bucket = SimTestBase.BUCKET;
      String id = s3.createMultipartUpload(b -> b.bucket(bucket).key("k")).uploadId();
      String etag = s3.uploadPart(b -> b.bucket(bucket).key("k").uploadId(id).partNumber(1),
          RequestBody.fromString("v")).eTag();
      var part = software.amazon.awssdk.services.s3.model.CompletedPart.builder().partNumber(1)
          .eTag(etag).build();
      String first = s3.completeMultipartUpload(b -> b.bucket(bucket).key("k").uploadId(id)
          .multipartUpload(m -> m.parts(part))).eTag();
      s3.putObject(b -> b.bucket(bucket).key("k"), RequestBody.fromString("newer"));
      String again = s3.completeMultipartUpload(b -> b.bucket(bucket).key("k").uploadId(id)
          .multipartUpload(m -> m.parts(part))).eTag();
      assertThat(again).isEqualTo(first);
      // Answered, not applied again: the newer object stays.
      assertThat(s3.getObjectAsBytes(b -> b.bucket(bucket).key("k")).asUtf8String())
          .isEqualTo("newer");
      var other = part.toBuilder().eTag("\"00000000000000000000000000000000\"").build();
      SimTestBase.assertS3Error(() -> s3.completeMultipartUpload(b -> b.bucket(bucket).key("k")
          .uploadId(id).multipartUpload(m -> m.parts(other))), 404, "NoSuchUpload");
    }
  }
}
