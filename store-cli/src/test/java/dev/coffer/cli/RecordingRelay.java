package dev.coffer.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A TCP relay on a loopback port to an HTTP server, keeping the bytes clients send so that a test
 * can read the requests as they crossed the wire (request line and headers), whatever client sent
 * them: what an SDK put on the wire, not what a test's interceptor saw. Bytes are relayed as they
 * are, both ways; nothing is answered by the relay itself.
 */
final class RecordingRelay implements AutoCloseable {

  /** A request as sent: its method, its path and query, its headers (names in lower case). */
  record Request(String method, String target, Map<String, String> headers) {}

  private final InetSocketAddress target;
  private final ServerSocket listener;
  /** What clients sent, a buffer per connection. */
  private final List<ByteArrayOutputStream> sent = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();

  RecordingRelay(URI server) throws IOException {
    this.target = new InetSocketAddress(server.getHost(), server.getPort());
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::accept, "relay-accept");
    accept.setDaemon(true);
    accept.start();
  }

  /** The relay's endpoint: {@code http://127.0.0.1:PORT}. */
  URI endpoint() {
    return URI.create("http://127.0.0.1:" + listener.getLocalPort());
  }

  /**
   * The requests sent so far, connection by connection, each connection's in the order sent; a
   * body is skipped by its {@code Content-Length}, or its chunks if sent chunked.
   */
  List<Request> requests() {
    List<Request> requests = new ArrayList<>();
    synchronized (sent) {
      for (ByteArrayOutputStream connection : sent) {
        String text;
        synchronized (connection) {
          text = connection.toString(StandardCharsets.ISO_8859_1);
        }
        parse(text, requests);
      }
    }
    return requests;
  }

  /** Adds the requests of one connection's bytes ({@code text}, one char a byte). */
  private static void parse(String text, List<Request> requests) {
    int at = 0;
    while (at < text.length()) {
      int end = text.indexOf("\r\n\r\n", at);
      if (end < 0) {
        return; // a request still being sent
      }
      String[] lines = text.substring(at, end).split("\r\n");
      String[] requestLine = lines[0].split(" ");
      Map<String, String> headers = new TreeMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
              lines[i].substring(colon + 1).trim());
        }
      }
      requests.add(new Request(requestLine[0], requestLine.length > 1 ? requestLine[1] : "",
          headers));
      at = end + 4;
      if (headers.containsKey("content-length")) {
        at += Integer.parseInt(headers.get("content-length"));
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        while (true) { // each chunk: its hex size, CRLF, bytes, CRLF; the last of size 0
          int sizeEnd = text.indexOf("\r\n", at);
          if (sizeEnd < 0) {
            return;
          }
          int size = Integer.parseInt(text.substring(at, sizeEnd).split(";")[0].trim(), 16);
          at = sizeEnd + 2 + size + 2;
          if (size == 0) {
            break;
          }
        }
      }
    }
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(target.getAddress(), target.getPort());
        synchronized (sockets) {
          sockets.add(client);
          sockets.add(server);
        }
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        synchronized (sent) {
          sent.add(record);
        }
        pump(client.getInputStream(), server.getOutputStream(), record);
        pump(server.getInputStream(), client.getOutputStream(), null);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** Copies {@code in} to {@code out} on a thread of its own, and into {@code record} if any. */
  private static void pump(InputStream in, OutputStream out, ByteArrayOutputStream record) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[64 * 1024];
      try (in; out) {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          if (record != null) {
            synchronized (record) {
              record.write(buffer, 0, n);
            }
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // the connection ended
      }
    }, "relay-pump");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    synchronized (sockets) {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }
}
