package dev.coffer.store.grpc;

import static dev.coffer.store.grpc.ContentServiceTest.assertCode;
import static dev.coffer.store.grpc.ContentServiceTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.grpc.proto.ContentGrpc;
import dev.coffer.store.grpc.proto.InfoRequest;
import dev.coffer.store.memory.MemoryStores;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SEC-1: the TCP listener is loopback only unless told otherwise, and elsewhere only with TLS and client
 * authentication. Connections go only to addresses of this machine.
 */
class TcpListenerTest {

  private static final String UNKNOWN = Digest.of(bytes(1, 7)).toString();
  private static final InfoRequest INFO = InfoRequest.newBuilder().setDigest(UNKNOWN).build();

  @TempDir
  Path dir;

  @Test
  void tcpPortListensOnLoopbackOnly() throws Exception {
    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store).tcpPort(0)
            .shutdownGrace(Duration.ZERO).build().start()) {
      InetSocketAddress bound = server.tcpAddress().orElseThrow();
      assertThat(bound.getAddress().isLoopbackAddress()).as("bound to %s", bound).isTrue();
      assertThat(server.listeners()).containsExactly(
          "tcp 127.0.0.1:" + bound.getPort() + " (plaintext, loopback only)");
      // Served on loopback...
      try (Channel channel = Channel.plaintext("127.0.0.1", bound.getPort())) {
        assertCode(() -> channel.stub().info(INFO), Code.NOT_FOUND, UNKNOWN);
      }
      // ...and refused on every other address of this machine.
      for (InetAddress address : nonLoopbackAddresses()) {
        assertThatThrownBy(() -> {
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, bound.getPort()), 5_000);
          }
        }).as("connecting to %s", address).isInstanceOf(ConnectException.class);
      }
    }
  }

  @Test
  void refusesToListenBeyondLoopbackWithoutTlsAndClientAuthentication() throws Exception {
    Path token = tokenFile("0123456789abcdef0123");
    InetAddress any = InetAddress.getByName("0.0.0.0");
    try (ContentStore store = MemoryStores.open()) {
      assertThatThrownBy(() -> ContentServer.builder(store).tcpAddress(any).tcpPort(0).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("refusing to listen on 0.0.0.0")
          .hasMessageContaining("without TLS");
      assertThatThrownBy(() -> ContentServer.builder(store).tcpAddress(any).tcpPort(0)
          .tls(dir.resolve("server.crt"), dir.resolve("server.key")).build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("without client authentication");
      assertThatThrownBy(() -> ContentServer.builder(store).tcpPort(0).bearerTokenFile(token)
          .build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("need TLS");
    }
  }

  @Test
  void clientCertificatesAreRequiredBeyondLoopback() throws Exception {
    List<InetAddress> addresses = new ArrayList<>(nonLoopbackAddresses());
    addresses.add(InetAddress.getLoopbackAddress());
    TestCertificates ca = TestCertificates.authority("coffer test CA");
    TestCertificates.Pem serverPem = ca.issueServer(dir, "server", addresses);
    TestCertificates.Pem clientPem = ca.issueClient(dir, "client");
    Path caFile = ca.writeCertificate(dir, "ca.crt");
    TestCertificates.Pem stranger = TestCertificates.authority("another CA")
        .issueClient(dir, "stranger");

    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store)
            .tcpAddress(InetAddress.getByName("0.0.0.0")).tcpPort(0)
            .tls(serverPem.certificate(), serverPem.key())
            .clientCertificateAuthorities(caFile)
            .shutdownGrace(Duration.ZERO).build().start()) {
      int port = server.tcpPort().orElseThrow();
      assertThat(server.tcpAddress().orElseThrow().getAddress().isAnyLocalAddress()).isTrue();
      assertThat(server.listeners())
          .containsExactly("tcp *:" + port + " (every address; TLS, client certificates)");
      String host = addresses.get(0).getHostAddress();

      try (Channel trusted = Channel.tls(host, port, caFile, clientPem, null)) {
        assertCode(() -> trusted.stub().info(INFO), Code.NOT_FOUND, UNKNOWN);
      }
      try (Channel anonymous = Channel.tls(host, port, caFile, null, null)) {
        assertRefused(() -> anonymous.stub().info(INFO));
      }
      try (Channel untrusted = Channel.tls(host, port, caFile, stranger, null)) {
        assertRefused(() -> untrusted.stub().info(INFO));
      }
      try (Channel plaintext = Channel.plaintext(host, port)) {
        assertRefused(() -> plaintext.stub().info(INFO));
      }
    }
  }

  @Test
  void aBearerTokenAuthenticatesClientsOverTls() throws Exception {
    TestCertificates ca = TestCertificates.authority("coffer test CA");
    TestCertificates.Pem serverPem = ca.issueServer(dir, "server",
        List.of(InetAddress.getLoopbackAddress()));
    Path caFile = ca.writeCertificate(dir, "ca.crt");
    Path token = tokenFile("s3cret-token-0123456789");

    try (ContentStore store = MemoryStores.open();
        ContentServer server = ContentServer.builder(store)
            .tcpAddress(InetAddress.getByName("0.0.0.0")).tcpPort(0)
            .tls(serverPem.certificate(), serverPem.key())
            .bearerTokenFile(token)
            .shutdownGrace(Duration.ZERO).build().start()) {
      int port = server.tcpPort().orElseThrow();
      assertThat(server.listeners())
          .containsExactly("tcp *:" + port + " (every address; TLS, bearer token)");
      try (Channel right = Channel.tls("127.0.0.1", port, caFile, null,
          "Bearer s3cret-token-0123456789")) {
        assertCode(() -> right.stub().info(INFO), Code.NOT_FOUND, UNKNOWN);
      }
      try (Channel wrong = Channel.tls("127.0.0.1", port, caFile, null,
          "Bearer s3cret-token-0123456780")) {
        assertCode(() -> wrong.stub().info(INFO), Code.UNAUTHENTICATED, "Bearer");
      }
      try (Channel none = Channel.tls("127.0.0.1", port, caFile, null, null)) {
        assertCode(() -> none.stub().info(INFO), Code.UNAUTHENTICATED, "Bearer");
      }
    }
  }

  @Test
  void aTokenFileOthersCanReadOrAShortTokenIsRefusedAtStart() throws Exception {
    TestCertificates ca = TestCertificates.authority("coffer test CA");
    TestCertificates.Pem serverPem = ca.issueServer(dir, "server",
        List.of(InetAddress.getLoopbackAddress()));
    Path shared = tokenFile("0123456789abcdef0123");
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
    Path shortToken = Files.writeString(dir.resolve("short"), "abc\n");
    Files.setPosixFilePermissions(shortToken, PosixFilePermissions.fromString("rw-------"));
    try (ContentStore store = MemoryStores.open()) {
      ContentServer readable = ContentServer.builder(store).tcpPort(0)
          .tls(serverPem.certificate(), serverPem.key()).bearerTokenFile(shared).build();
      assertThatThrownBy(readable::start).isInstanceOf(IOException.class)
          .hasMessageContaining(shared.toString()).hasMessageContaining("chmod 600");
      ContentServer weak = ContentServer.builder(store).tcpPort(0)
          .tls(serverPem.certificate(), serverPem.key()).bearerTokenFile(shortToken).build();
      assertThatThrownBy(weak::start).isInstanceOf(IOException.class)
          .hasMessageContaining(shortToken.toString()).hasMessageContaining("at least 16");
    }
  }

  @Test
  void unusableTlsFilesAreRefusedAtStart() throws Exception {
    Path notPem = Files.writeString(dir.resolve("server.crt"), "not a certificate");
    Path token = tokenFile("0123456789abcdef0123");
    try (ContentStore store = MemoryStores.open()) {
      ContentServer server = ContentServer.builder(store).tcpPort(0)
          .tls(notPem, dir.resolve("missing.key")).bearerTokenFile(token).build();
      assertThatThrownBy(server::start).isInstanceOf(IOException.class)
          .hasMessageContaining(notPem.toString());
    }
  }

  private static void assertRefused(Runnable call) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
    assertThat(e).as("the call must fail").isNotNull();
    assertThat(e.getStatus().getCode()).isIn(Code.UNAVAILABLE, Code.UNKNOWN, Code.INTERNAL);
  }

  private Path tokenFile(String token) throws IOException {
    Path file = dir.resolve("token-" + token.length() + "-" + token.hashCode());
    Files.createFile(file, PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-------")));
    return Files.writeString(file, token + "\n", StandardCharsets.US_ASCII);
  }

  /** This machine's own addresses other than loopback and link-local ones. */
  static List<InetAddress> nonLoopbackAddresses() throws IOException {
    List<InetAddress> found = new ArrayList<>();
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nic.isUp() || nic.isLoopback()) {
        continue;
      }
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (!address.isLoopbackAddress() && !address.isLinkLocalAddress()
            && !(address instanceof Inet6Address)) {
          found.add(address);
        }
      }
    }
    return found;
  }

  /** A client channel and its stub. */
  private record Channel(ManagedChannel channel) implements AutoCloseable {

    static Channel plaintext(String host, int port) {
      return new Channel(NettyChannelBuilder.forAddress(host, port).usePlaintext().build());
    }

    static Channel tls(String host, int port, Path ca, TestCertificates.Pem client,
        String authorization) throws IOException {
      SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(ca.toFile());
      if (client != null) {
        ssl.keyManager(client.certificate().toFile(), client.key().toFile());
      }
      NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host, port)
          .sslContext(ssl.build());
      if (authorization != null) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
            authorization);
        builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
      }
      return new Channel(builder.build());
    }

    ContentGrpc.ContentBlockingStub stub() {
      return ContentGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
