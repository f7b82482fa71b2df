package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

class SmokeTest {
  @Test
  void putAndGet() {
    try (SimS3 sim = SimS3.create(); S3Client s3 = Clients.sync(sim, "h1")) {
      sim.createBucket("bkt");
      var put = s3.putObject(b -> b.bucket("bkt").key("a/b c"), RequestBody.fromString("hello"));
      System.out.println(put);
      var got = s3.getObjectAsBytes(b -> b.bucket("bkt").key("a/b c"));
      assertThat(got.asString(StandardCharsets.UTF_8)).isEqualTo("hello");
      System.out.println(got.response());
      System.out.println(s3.listObjectsV2(b -> b.bucket("bkt")));
      System.out.println(sim.log().entries());
    }
  }
}
