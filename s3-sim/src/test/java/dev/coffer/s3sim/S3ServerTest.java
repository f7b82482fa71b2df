package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The REST layer on its own: raw requests in, S3's statuses, headers and documents out. */
class S3ServerTest {
  private S3Server server;

  @BeforeEach
  void server() {
    server = S3Server.builder().build();
    server.createBucket("bkt");
  }

  private SimResponse send(SimRequest.Builder request) {
    return server.handle(request.build());
  }

  private static SimRequest.Builder put(String path, String body) {
    return SimRequest.builder("PUT", path).body(body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void errorDocumentsNameTheCodeTheResourceAndTheRequest() {
    SimResponse missing = send(SimRequest.builder("GET", "/bkt/no/such"));
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.header("Content-Type")).isEqualTo("application/xml");
    assertThat(missing.bodyText()).contains("<Error><Code>NoSuchKey</Code>")
        .contains("<Key>no/such</Key>").contains("<RequestId>" + missing.header(
            "x-amz-request-id") + "</RequestId>");
    assertThat(missing.header("Content-Length")).isEqualTo(
        Integer.toString(missing.body().length));
  }

  @Test
  void headErrorsAndNotModifiedCarryNoBody() {
    SimResponse head = send(SimRequest.builder("HEAD", "/bkt/nothing"));
    assertThat(head.status()).isEqualTo(404);
    assertThat(head.body()).isEmpty();
    String etag = send(put("/bkt/k", "v")).header("ETag");
    SimResponse notModified = send(SimRequest.builder("GET", "/bkt/k").header("If-None-Match",
        etag));
    assertThat(notModified.status()).isEqualTo(304);
    assertThat(notModified.body()).isEmpty();
    SimResponse headOk = send(SimRequest.builder("HEAD", "/bkt/k"));
    assertThat(headOk.body()).isEmpty();
    assertThat(headOk.header("Content-Length")).isEqualTo("1");
    assertThat(headOk.header("ETag")).isEqualTo(etag);
  }

  @Test
  void unsupportedRequestsAreNotImplemented() {
    SimResponse multiDelete = send(SimRequest.builder("POST", "/bkt").query("delete", ""));
    assertThat(multiDelete.status()).isEqualTo(501);
    assertThat(multiDelete.bodyText()).contains("<Code>NotImplemented</Code>");
    assertThat(send(SimRequest.builder("PUT", "/bkt").query("versioning", "")).status())
        .isEqualTo(501);
    assertThat(send(SimRequest.builder("GET", "/bkt/k").query("partNumber", "1")).status())
        .isEqualTo(501);
  }

  @Test
  void signedAwsChunkedBodiesWithTrailersAreDecodedAndVerified() {
    String crc = ChecksumAlgorithm.CRC32C.of("hello world".getBytes(StandardCharsets.UTF_8));
    String body = "5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n"
        + "0;chunk-signature=ghi\r\nx-amz-checksum-crc32c:" + crc + "\r\n"
        + "x-amz-trailer-signature:xyz\r\n\r\n";
    SimResponse ok = send(put("/bkt/k", body).header("Content-Encoding", "aws-chunked")
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
        .header("x-amz-decoded-content-length", "11")
        .header("x-amz-trailer", "x-amz-checksum-crc32c"));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.header("x-amz-checksum-crc32c")).isEqualTo(crc);
    assertThat(send(SimRequest.builder("GET", "/bkt/k")).bodyText()).isEqualTo("hello world");

    String wrong = body.replace(crc, ChecksumAlgorithm.CRC32C.of(new byte[1]));
    SimResponse bad = send(put("/bkt/bad", wrong).header("Content-Encoding", "aws-chunked")
        .header("x-amz-trailer", "x-amz-checksum-crc32c"));
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.bodyText()).contains("<Code>BadDigest</Code>");
  }

  @Test
  void malformedChunkedBodiesAreIncomplete() {
    for (String body : new String[] {"zz\r\nhello\r\n0\r\n\r\n", "10\r\nshort\r\n0\r\n\r\n",
        "5\r\nhello"}) {
      SimResponse r = send(put("/bkt/k", body).header("Content-Encoding", "aws-chunked"));
      assertThat(r.status()).as(body).isEqualTo(400);
      assertThat(r.bodyText()).contains("<Code>IncompleteBody</Code>");
    }
    SimResponse wrongLength = send(put("/bkt/k", "5\r\nhello\r\n0\r\n\r\n")
        .header("Content-Encoding", "aws-chunked").header("x-amz-decoded-content-length", "6"));
    assertThat(wrongLength.bodyText()).contains("<Code>IncompleteBody</Code>");
    SimResponse missingTrailer = send(put("/bkt/k", "5\r\nhello\r\n0\r\n\r\n")
        .header("Content-Encoding", "aws-chunked").header("x-amz-trailer",
            "x-amz-checksum-sha256"));
    assertThat(missingTrailer.bodyText()).contains("<Code>IncompleteBody</Code>");
    assertThat(send(SimRequest.builder("GET", "/bkt/k")).status()).isEqualTo(404);
  }

  @Test
  void anAlgorithmAnnouncedWithoutAChecksumIsInvalid() {
    SimResponse r = send(put("/bkt/k", "v").header("x-amz-sdk-checksum-algorithm", "CRC32"));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.bodyText()).contains("<Code>InvalidRequest</Code>");
  }

  @Test
  void malformedXmlIsRefused() {
    String id = send(SimRequest.builder("POST", "/bkt/m").query("uploads", "")).bodyText()
        .replaceAll("(?s).*<UploadId>(.*)</UploadId>.*", "$1");
    SimResponse r = server.handle(SimRequest.builder("POST", "/bkt/m").query("uploadId", id)
        .body("<CompleteMultipartUpload><Part>".getBytes(StandardCharsets.UTF_8)).build());
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.bodyText()).contains("<Code>MalformedXML</Code>");
    SimResponse entity = server.handle(SimRequest.builder("PUT", "/bkt/m").query("tagging", "")
        .body(("<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
            + "<Tagging><TagSet><Tag><Key>&x;</Key><Value>v</Value></Tag></TagSet></Tagging>")
            .getBytes(StandardCharsets.UTF_8)).build());
    assertThat(entity.status()).isEqualTo(400);
  }

  @Test
  void requestsNameTheirBucketAndKey() {
    SimRequest r = SimRequest.builder("GET", "/bkt/a/b/c").build();
    assertThat(r.bucket()).isEqualTo("bkt");
    assertThat(r.key()).isEqualTo("a/b/c");
    assertThat(SimRequest.builder("GET", "/bkt").build().key()).isNull();
    assertThat(SimRequest.builder("GET", "/bkt/").build().key()).isNull();
    assertThat(SimRequest.builder("GET", "/").build().bucket()).isNull();
    assertThat(Operation.of(SimRequest.builder("GET", "/bkt").query("list-type", "2").build()))
        .isEqualTo(Operation.LIST_OBJECTS_V2);
    assertThat(Operation.of(SimRequest.builder("PUT", "/bkt/k").query("partNumber", "1")
        .query("uploadId", "u").header("x-amz-copy-source", "/bkt/s").build()))
        .isEqualTo(Operation.UPLOAD_PART_COPY);
  }

  @Test
  void percentDecodingLeavesPlusAlone() {
    assertThat(Requests.percentDecode("a%20b+c%2F%C3%BC%zz")).isEqualTo("a b+c/ü%zz");
  }
}
