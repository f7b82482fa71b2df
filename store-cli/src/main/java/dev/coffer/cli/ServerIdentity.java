package dev.coffer.cli;

import dev.coffer.s3server.EmbeddedS3Server;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Whether the embedded server of this version answers on a loopback port: an anonymous {@code HEAD}
 * of its bucket is refused (403) by a server that names itself {@value
 * EmbeddedS3Server#SERVER_NAME}. An older S3Mock answers 200; another program, anything else.
 *
 * <p>One HTTP/1.1 exchange on a plain socket, as every command that finds the server running makes
 * it before its first request: the JDK's {@code java.net.http.HttpClient} would load and set up its
 * TLS context (some 300 classes) even for {@code http://}, a tenth of a command's start. Stateless.
 */
final class ServerIdentity {
  /** How long the connect may take: the server is on this machine. */
  static final int CONNECT_TIMEOUT_MILLIS = 200;
  /** How long the answer may take once connected. */
  static final int READ_TIMEOUT_MILLIS = 5_000;
  /** The longest response head read; the server's is a few hundred bytes. */
  private static final int MAX_HEAD_LINES = 100;

  private ServerIdentity() {}

  /** Whether this version's embedded server answers on 127.0.0.1:{@code port} for {@code bucket}. */
  static boolean answers(int port, String bucket) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), CONNECT_TIMEOUT_MILLIS);
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      OutputStream out = socket.getOutputStream();
      out.write(("HEAD /" + bucket + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.ISO_8859_1));
      String status = in.readLine();
      if (status == null || !status.matches("HTTP/1\\.[01] 403( .*)?")) {
        return false;
      }
      for (int i = 0; i < MAX_HEAD_LINES; i++) {
        String line = in.readLine();
        if (line == null || line.isEmpty()) {
          return false;
        }
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("server")
            && line.substring(colon + 1).trim().equals(EmbeddedS3Server.SERVER_NAME)) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }
}
