package dev.coffer.benchmarks.macro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LatencyProxyTest {
  private static final Duration LATENCY = Duration.ofMillis(40);

  private EchoServer upstream;

  @BeforeEach
  void startUpstream() throws IOException {
    upstream = new EchoServer();
  }

  @AfterEach
  void stopUpstream() throws IOException {
    upstream.close();
  }

  @Test
  void bytesPassIntactBothWaysAndAnEndOfStreamAfterThem() throws Exception {
    byte[] payload = new byte[5 << 20];
    new Random(42).nextBytes(payload);
    try (LatencyProxy proxy = LatencyProxy.start(upstream.endpoint(), LATENCY);
        Socket client = connect(proxy)) {
      CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
        try {
          OutputStream out = client.getOutputStream();
          for (int from = 0; from < payload.length; from += 100_000) {
            out.write(payload, from, Math.min(100_000, payload.length - from));
          }
          client.shutdownOutput();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });

      byte[] echoed = client.getInputStream().readAllBytes();

      sent.get(30, TimeUnit.SECONDS);
      assertThat(echoed).hasSize(payload.length).isEqualTo(payload);
    }
  }

  @Test
  void aRequestAndItsResponseTakeAtLeastTheRoundTrip() throws Exception {
    try (LatencyProxy proxy = LatencyProxy.start(upstream.endpoint(), LATENCY);
        Socket client = connect(proxy)) {
      OutputStream out = client.getOutputStream();
      InputStream in = client.getInputStream();
      for (int i = 0; i < 3; i++) {
        long start = System.nanoTime();
        out.write(new byte[] {(byte) i, 7});
        byte[] answer = in.readNBytes(2);
        long elapsed = System.nanoTime() - start;

        assertThat(answer).containsExactly((byte) i, 7);
        assertThat(Duration.ofNanos(elapsed)).as("round trip %d", i)
            .isGreaterThanOrEqualTo(LATENCY);
      }
    }
  }

  @Test
  void closeClosesTheConnectionsItProxiesAndStopsListening() throws Exception {
    LatencyProxy proxy = LatencyProxy.start(upstream.endpoint(), LATENCY);
    URI endpoint = proxy.endpoint();
    try (Socket client = connect(proxy)) {
      client.getOutputStream().write(1);
      assertThat(client.getInputStream().read()).isEqualTo(1); // through to the upstream

      proxy.close();

      int next;
      try {
        next = client.getInputStream().read();
      } catch (IOException reset) {
        next = -1; // a reset rather than an end of stream: closed all the same
      }
      assertThat(next).as("the client's connection ends").isEqualTo(-1);
    }
    assertThatThrownBy(() -> new Socket(endpoint.getHost(), endpoint.getPort()).close())
        .isInstanceOf(ConnectException.class);
    proxy.close(); // again: nothing happens
  }

  @Test
  void aNegativeLatencyIsRefused() {
    assertThatThrownBy(() -> LatencyProxy.start(upstream.endpoint(), Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
  }

  private static Socket connect(LatencyProxy proxy) throws IOException {
    URI endpoint = proxy.endpoint();
    Socket socket = new Socket(endpoint.getHost(), endpoint.getPort());
    socket.setSoTimeout(30_000); // a hung proxy fails the test rather than hanging it
    return socket;
  }

  /** Writes back whatever each connection sends, and ends its stream after the client's end. */
  private static final class EchoServer implements AutoCloseable {
    private final ServerSocket listener =
        new ServerSocket(0, 50, InetAddress.getLoopbackAddress());

    EchoServer() throws IOException {
      Thread acceptor = new Thread(() -> {
        while (!listener.isClosed()) {
          try {
            Socket s = listener.accept();
            Thread echo = new Thread(() -> echo(s), "echo-" + s.getPort());
            echo.setDaemon(true);
            echo.start();
          } catch (IOException closed) {
            return;
          }
        }
      }, "echo-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private static void echo(Socket s) {
      try (s) {
        s.getInputStream().transferTo(s.getOutputStream());
        s.shutdownOutput();
      } catch (IOException ignored) {
        // The proxy closed the connection.
      }
    }

    URI endpoint() {
      InetSocketAddress address = (InetSocketAddress) listener.getLocalSocketAddress();
      return URI.create("http://" + address.getAddress().getHostAddress() + ":"
          + address.getPort());
    }

    @Override
    public void close() throws IOException {
      listener.close();
    }
  }
}
