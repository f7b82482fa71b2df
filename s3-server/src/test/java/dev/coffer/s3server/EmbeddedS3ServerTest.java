package dev.coffer.s3server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coffer.s3sim.Storage;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The server over HTTP: where it listens (the kernel's listening sockets, not its configuration),
 * who it answers (invariant SEC-8), and that what it acknowledged survives a restart (SEC-9).
 */
class EmbeddedS3ServerTest {
  @TempDir
  Path dir;

  private final Credentials credentials = Credentials.random();
  private EmbeddedS3Server server;
  private final List<S3Client> clients = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = start(0);
  }

  private EmbeddedS3Server start(int port) throws IOException {
    return EmbeddedS3Server.builder().storage(Storage.onDisk(dir.resolve("data")))
        .credentials(credentials).bucket("coffer").port(port).start();
  }

  @AfterEach
  void stop() {
    clients.forEach(S3Client::close);
    server.close();
  }

  private S3Client client(String accessKey, String secret) {
    S3Client client = S3Client.builder().endpointOverride(server.endpoint())
        .forcePathStyle(true).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(
            AwsBasicCredentials.create(accessKey, secret)))
        .build();
    clients.add(client);
    return client;
  }

  private S3Client client() {
    return client(credentials.accessKeyId(), credentials.secretAccessKey());
  }

  @Test
  void theListeningSocketIsBoundToLoopbackOnly() throws IOException {
    assumeTrue(Listeners.available(), "no /proc/net/tcp on this system: cannot see the sockets");
    int port = server.address().getPort();
    List<InetAddress> listening = Listeners.listening(port);
    assertThat(listening).as("sockets listening on port %d", port).hasSize(1)
        .allSatisfy(a -> assertThat(a.getHostAddress()).isEqualTo("127.0.0.1"));
    // And a connection through any other address of this machine is refused.
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address.isLoopbackAddress() || !(address instanceof Inet4Address)) {
          continue;
        }
        try (Socket socket = new Socket()) {
          assertThatThrownBy(() -> socket.connect(new InetSocketAddress(address, port), 2000))
              .as("connect through %s", address).isInstanceOf(ConnectException.class);
        }
      }
    }
  }

  @Test
  void signedRequestsOfTheSdkAreServed() {
    S3Client s3 = client();
    byte[] big = new byte[6 << 20];
    new Random(1).nextBytes(big);
    s3.putObject(b -> b.bucket("coffer").key("dir/a b+c~"), RequestBody.fromString("small"));
    assertThat(s3.getObjectAsBytes(b -> b.bucket("coffer").key("dir/a b+c~")).asUtf8String())
        .isEqualTo("small");
    String upload = s3.createMultipartUpload(b -> b.bucket("coffer").key("big")).uploadId();
    String e1 = s3.uploadPart(b -> b.bucket("coffer").key("big").uploadId(upload).partNumber(1),
        RequestBody.fromBytes(java.util.Arrays.copyOf(big, 5 << 20))).eTag();
    String e2 = s3.uploadPart(b -> b.bucket("coffer").key("big").uploadId(upload).partNumber(2),
        RequestBody.fromBytes(java.util.Arrays.copyOfRange(big, 5 << 20, big.length))).eTag();
    s3.completeMultipartUpload(b -> b.bucket("coffer").key("big").uploadId(upload)
        .multipartUpload(CompletedMultipartUpload.builder().parts(
            CompletedPart.builder().partNumber(1).eTag(e1).build(),
            CompletedPart.builder().partNumber(2).eTag(e2).build()).build()));
    assertThat(s3.getObjectAsBytes(b -> b.bucket("coffer").key("big")).asByteArray())
        .isEqualTo(big);
    // A retry of the completion (its first answer lost to a client's timeout) succeeds, as on AWS.
    assertThat(s3.completeMultipartUpload(b -> b.bucket("coffer").key("big").uploadId(upload)
        .multipartUpload(CompletedMultipartUpload.builder().parts(
            CompletedPart.builder().partNumber(1).eTag(e1).build(),
            CompletedPart.builder().partNumber(2).eTag(e2).build()).build())).eTag())
        .isEqualTo(s3.headObject(b -> b.bucket("coffer").key("big")).eTag());
    assertThat(s3.listObjectsV2(b -> b.bucket("coffer").prefix("dir/")).contents())
        .extracting(S3Object::key).containsExactly("dir/a b+c~");
    assertThat(s3.headObject(b -> b.bucket("coffer").key("big")).contentLength())
        .isEqualTo(big.length);
  }

  @Test
  void anonymousRequestsAreRefused() throws Exception {
    client().putObject(b -> b.bucket("coffer").key("k"), RequestBody.fromString("secret"));
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> get = http.send(HttpRequest.newBuilder(
        server.endpoint().resolve("/coffer/k")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(403);
    assertThat(get.body()).contains("<Code>AccessDenied</Code>").doesNotContain("secret");
    HttpResponse<String> put = http.send(HttpRequest.newBuilder(
        server.endpoint().resolve("/coffer/planted")).PUT(HttpRequest.BodyPublishers.ofString(
            "x")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(403);
    HttpResponse<String> list = http.send(HttpRequest.newBuilder(
        server.endpoint().resolve("/coffer?list-type=2")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(list.statusCode()).isEqualTo(403);
    HttpResponse<String> presigned = http.send(HttpRequest.newBuilder(
        server.endpoint().resolve("/coffer/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature="
            + "00")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(presigned.statusCode()).isEqualTo(403);
    assertThat(list.headers().firstValue("Server")).contains(EmbeddedS3Server.SERVER_NAME);
    assertThat(client().listObjectsV2(b -> b.bucket("coffer")).contents())
        .extracting(S3Object::key).containsExactly("k");
  }

  @Test
  void aWrongSecretOrKeyIsRefused() {
    Credentials other = Credentials.random();
    S3Client wrongSecret = client(credentials.accessKeyId(), other.secretAccessKey());
    assertThatThrownBy(() -> wrongSecret.getObject(b -> b.bucket("coffer").key("k")))
        .isInstanceOfSatisfying(S3Exception.class, e -> {
          assertThat(e.statusCode()).isEqualTo(403);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("SignatureDoesNotMatch");
        });
    assertThatThrownBy(() -> wrongSecret.putObject(b -> b.bucket("coffer").key("planted"),
        RequestBody.fromString("x"))).isInstanceOfSatisfying(S3Exception.class,
            e -> assertThat(e.statusCode()).isEqualTo(403));
    S3Client wrongKey = client(other.accessKeyId(), credentials.secretAccessKey());
    assertThatThrownBy(() -> wrongKey.listObjectsV2(b -> b.bucket("coffer")))
        .isInstanceOfSatisfying(S3Exception.class, e -> {
          assertThat(e.statusCode()).isEqualTo(403);
          assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InvalidAccessKeyId");
        });
    assertThat(client().listObjectsV2(b -> b.bucket("coffer")).contents()).isEmpty();
  }

  @Test
  void aBodyOtherThanTheSignedOneIsRefused() throws Exception {
    // Signed by the SDK's own signer for the body "signed", then sent with another body.
    String hash = java.util.HexFormat.of().formatHex(java.security.MessageDigest
        .getInstance("SHA-256").digest("signed".getBytes(StandardCharsets.UTF_8)));
    SdkHttpRequest unsigned = SdkHttpRequest.builder().method(SdkHttpMethod.PUT)
        .uri(server.endpoint().resolve("/coffer/swapped"))
        .putHeader("x-amz-content-sha256", hash).build();
    SignedRequest signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(credentials.accessKeyId(),
            credentials.secretAccessKey()))
        .request(unsigned)
        .payload(ContentStreamProvider.fromUtf8String("signed"))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    HttpClient http = HttpClient.newHttpClient();
    for (String body : List.of("swapped", "signed")) {
      HttpRequest.Builder request = HttpRequest.newBuilder(signed.request().getUri())
          .PUT(HttpRequest.BodyPublishers.ofString(body));
      signed.request().forEachHeader((name, values) -> {
        if (!name.equalsIgnoreCase("Host")) {
          values.forEach(v -> request.header(name, v));
        }
      });
      HttpResponse<String> response = http.send(request.build(),
          HttpResponse.BodyHandlers.ofString());
      if (body.equals("swapped")) {
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("<Code>XAmzContentSHA256Mismatch</Code>");
        assertThat(client().listObjectsV2(b -> b.bucket("coffer")).contents()).isEmpty();
      } else {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      }
    }
    assertThat(client().getObjectAsBytes(b -> b.bucket("coffer").key("swapped")).asUtf8String())
        .isEqualTo("signed");
  }

  @Test
  void whatWasAcknowledgedSurvivesARestartOnTheSamePort() throws IOException {
    client().putObject(b -> b.bucket("coffer").key("kept"), RequestBody.fromString("still here"));
    int port = server.address().getPort();
    clients.forEach(S3Client::close);
    clients.clear();
    server.close();
    server = start(port);
    assertThat(server.address().getPort()).isEqualTo(port);
    assertThat(client().getObjectAsBytes(b -> b.bucket("coffer").key("kept")).asUtf8String())
        .isEqualTo("still here");
  }

  @Test
  void theEndpointIsLoopback() {
    assertThat(server.endpoint()).isEqualTo(URI.create("http://127.0.0.1:"
        + server.address().getPort()));
  }
}
