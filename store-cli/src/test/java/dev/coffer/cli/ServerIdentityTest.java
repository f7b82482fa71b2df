package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3server.Credentials;
import dev.coffer.s3server.EmbeddedS3Server;
import dev.coffer.s3sim.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The embedded server is told from other programs on its port by one HEAD on a plain socket. */
class ServerIdentityTest {

  @Test
  void theEmbeddedServerAnswersAsItself() throws IOException {
    try (EmbeddedS3Server server = EmbeddedS3Server.builder().storage(Storage.inMemory())
        .credentials(Credentials.random()).bucket(EmbeddedServer.BUCKET).start()) {
      assertThat(ServerIdentity.answers(server.address().getPort(), EmbeddedServer.BUCKET))
          .isTrue();
    }
  }

  @Test
  void anotherServerDoesNot() throws Exception {
    // S3Mock's answer: 200 to an anonymous HEAD of the bucket.
    assertThat(answersWith("HTTP/1.1 200 OK\r\nServer: S3Mock\r\nContent-Length: 0\r\n\r\n"))
        .isFalse();
    // A 403 from a server of another name.
    assertThat(answersWith("HTTP/1.1 403 Forbidden\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"))
        .isFalse();
    // Not HTTP at all.
    assertThat(answersWith("SSH-2.0-OpenSSH_9.2\r\n")).isFalse();
    // The right answer, header names being case-insensitive.
    assertThat(answersWith("HTTP/1.1 403 Forbidden\r\nserver: " + EmbeddedS3Server.SERVER_NAME
        + "\r\n\r\n")).isTrue();
  }

  @Test
  void nothingListeningIsNoServer() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    assertThat(ServerIdentity.answers(port, EmbeddedServer.BUCKET)).isFalse();
  }

  /** What the probe makes of a server that sends {@code response} to whatever it is asked. */
  private static boolean answersWith(String response) throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try (Socket s = listener.accept()) {
          InputStream in = s.getInputStream();
          // The request head ends with an empty line.
          int matched = 0;
          while (matched < 4) {
            int b = in.read();
            if (b < 0) {
              return;
            }
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
          }
          OutputStream out = s.getOutputStream();
          out.write(response.getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // The probe gave up: its answer is what the test checks.
        }
      });
      server.start();
      boolean answers = ServerIdentity.answers(listener.getLocalPort(), EmbeddedServer.BUCKET);
      server.join();
      return answers;
    }
  }
}
