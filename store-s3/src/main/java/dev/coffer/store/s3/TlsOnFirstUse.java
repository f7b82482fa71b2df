package dev.coffer.store.s3;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.apache.http.HttpHost;
import org.apache.http.conn.socket.LayeredConnectionSocketFactory;
import org.apache.http.conn.ssl.SSLConnectionSocketFactory;
import org.apache.http.protocol.HttpContext;

/**
 * The {@code https} socket factory of a client whose endpoint is {@code http://} (the embedded
 * server, LocalStack, a local S3-compatible server): the JDK's default TLS context and host name
 * verification, set up when a first {@code https} connection is made, which for such a client is
 * never. The SDK's Apache client otherwise sets up its TLS context (the security providers and the
 * trust store, some 400 classes and a third of a one-shot command's start) when it is built,
 * whatever its endpoint. Thread-safe.
 */
final class TlsOnFirstUse implements LayeredConnectionSocketFactory {
  private volatile LayeredConnectionSocketFactory tls;

  /** The default TLS socket factory, made on first call. */
  LayeredConnectionSocketFactory tls() {
    LayeredConnectionSocketFactory made = tls;
    if (made == null) {
      synchronized (this) {
        made = tls;
        if (made == null) {
          made = SSLConnectionSocketFactory.getSocketFactory();
          tls = made;
        }
      }
    }
    return made;
  }

  /** Whether the TLS context has been set up. */
  boolean isSetUp() {
    return tls != null;
  }

  @Override
  public Socket createSocket(HttpContext context) throws IOException {
    return tls().createSocket(context);
  }

  @Override
  public Socket connectSocket(int connectTimeout, Socket sock, HttpHost host,
      InetSocketAddress remoteAddress, InetSocketAddress localAddress, HttpContext context)
      throws IOException {
    return tls().connectSocket(connectTimeout, sock, host, remoteAddress, localAddress, context);
  }

  @Override
  public Socket createLayeredSocket(Socket socket, String target, int port, HttpContext context)
      throws IOException {
    return tls().createLayeredSocket(socket, target, port, context);
  }
}
