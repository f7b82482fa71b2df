package dev.coffer.store.grpc;

import dev.coffer.store.grpc.ServerSettings.TlsSettings;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * SEC-1 (docs/architecture.md): the server's TCP listener, which binds the loopback address unless
 * given another, and then only with TLS and client authentication (client certificates against a
 * CA, or a bearer token). {@link #checkReachable} refuses a reachable address without them when the
 * server is built; {@link #start} binds with the TLS files and the token file read then.
 */
final class TcpListener {

  private TcpListener() {}

  /**
   * Refuses settings by which the listener would accept unauthenticated clients of other
   * machines.
   *
   * @param tls the listener's TLS, or null for plaintext
   * @throws IllegalStateException if {@code address} is not a loopback address and {@code tls} is
   *     null or authenticates no client
   */
  static void checkReachable(InetAddress address, TlsSettings tls) {
    if (!address.isLoopbackAddress() && (tls == null || !tls.authenticatesClients())) {
      throw new IllegalStateException("refusing to listen on " + address.getHostAddress()
          + ", which other machines can reach, without "
          + (tls == null ? "TLS (a certificate and key) and client authentication"
              : "client authentication")
          + " (client certificates against a CA, or a bearer token file)");
    }
  }

  /**
   * Starts a server on {@code address} ({@code tls} null: plaintext), configured by
   * {@code configure}, with TLS and client authentication when given.
   *
   * @throws IOException if the port cannot be bound, or the TLS files or the token file cannot be
   *     used (naming them)
   */
  static Server start(InetSocketAddress address, TlsSettings tls,
      UnaryOperator<NettyServerBuilder> configure) throws IOException {
    NettyServerBuilder builder = configure.apply(NettyServerBuilder.forAddress(address));
    if (tls != null) {
      secure(builder, tls);
    }
    return builder.build().start();
  }

  /** TLS on the TCP listener, with client certificates required and/or a bearer token. */
  private static void secure(NettyServerBuilder builder, TlsSettings tls) throws IOException {
    SslContextBuilder ssl;
    try {
      ssl = GrpcSslContexts.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile());
      if (tls.clientCertificateAuthorities() != null) {
        ssl.trustManager(tls.clientCertificateAuthorities().toFile())
            .clientAuth(ClientAuth.REQUIRE);
      }
      builder.sslContext(ssl.build());
    } catch (IllegalArgumentException e) {
      throw new IOException("cannot use the TLS certificate " + tls.certificateChain()
          + ", key " + tls.privateKey()
          + (tls.clientCertificateAuthorities() == null ? ""
              : " or client CA " + tls.clientCertificateAuthorities())
          + " (PEM certificates and a PKCS#8 PEM key): " + e.getMessage(), e);
    }
    if (tls.bearerTokenFile() != null) {
      builder.intercept(BearerTokenCheck.fromFile(tls.bearerTokenFile()));
    }
  }

  /**
   * What listens at {@code address} and how clients authenticate, such as {@code tcp *:7443
   * (every address; TLS, client certificates)} or {@code tcp 127.0.0.1:7443 (plaintext, loopback
   * only)}.
   */
  static String describe(InetSocketAddress address, TlsSettings tls) {
    String how;
    if (tls == null) {
      how = "plaintext, loopback only";
    } else {
      List<String> auth = new ArrayList<>();
      if (tls.clientCertificateAuthorities() != null) {
        auth.add("client certificates");
      }
      if (tls.bearerTokenFile() != null) {
        auth.add("bearer token");
      }
      how = "TLS" + (auth.isEmpty() ? "" : ", " + String.join(" and ", auth));
    }
    InetAddress host = address.getAddress();
    String where = host.isAnyLocalAddress() ? "*"
        : host instanceof Inet6Address ? "[" + host.getHostAddress() + "]"
        : host.getHostAddress();
    return "tcp " + where + ":" + address.getPort() + " ("
        + (host.isAnyLocalAddress() ? "every address; " : "") + how + ")";
  }
}
