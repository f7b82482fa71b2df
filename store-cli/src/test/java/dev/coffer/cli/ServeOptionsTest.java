package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.ContentStore;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coffer serve}'s listening options, over an in-memory store. */
class ServeOptionsTest {

  private final ContentStore store = MemoryStores.open();
  private final Map<String, String> env = new HashMap<>();
  @TempDir
  Path tmp;

  @Test
  void refusesToListenBeyondLoopbackWithoutTlsAndClientAuthentication() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = run(err, "serve", "--containerd-socket", tmp.resolve("c.sock").toString(),
        "--tcp-address", "0.0.0.0", "--tcp-port", "0");
    assertThat(code).isEqualTo(ExitCode.CONFIG.code);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("coffer serve: refusing to listen"
        + " on 0.0.0.0, which other machines can reach, without TLS (a certificate and key) and"
        + " client authentication (client certificates against a CA, or a bearer token file)\n");
    assertThat(tmp.resolve("c.sock")).doesNotExist();
  }

  @Test
  void aTcpAddressNeedsAPortAndACertificateNeedsItsKey() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(run(err, "serve", "--containerd-socket", tmp.resolve("c.sock").toString(),
        "--tcp-address", "127.0.0.1")).isEqualTo(ExitCode.CONFIG.code);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("coffer serve: --tcp-address 127.0.0.1 needs --tcp-port\n");
    err.reset();
    assertThat(run(err, "serve", "--containerd-socket", tmp.resolve("c.sock").toString(),
        "--tcp-port", "0", "--tls-cert", tmp.resolve("s.crt").toString()))
        .isEqualTo(ExitCode.CONFIG.code);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("coffer serve: --tls-cert and --tls-key go together\n");
  }

  @Test
  void saysWhatListensWhereAndListensOnLoopback() throws Exception {
    Path socket = tmp.resolve("run/coffer.sock");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    AtomicInteger code = new AtomicInteger(-1);
    Thread serve = new Thread(() -> code.set(run(err, "serve", "--containerd-socket",
        socket.toString(), "--tcp-port", "0", "--state-dir", tmp.resolve("state").toString())));
    serve.start();
    try {
      await().atMost(Duration.ofSeconds(60))
          .until(() -> err.toString(StandardCharsets.UTF_8).contains("serving"));
      String banner = err.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow();
      Matcher matcher = Pattern.compile("coffer: serving containerd's content service on unix://"
          + Pattern.quote(socket.toString()) + " \\(mode 0600\\) and tcp 127\\.0\\.0\\.1:(\\d+)"
          + " \\(plaintext, loopback only\\) \\(.*").matcher(banner);
      assertThat(matcher.matches()).as(banner).isTrue();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket,
          LinkOption.NOFOLLOW_LINKS))).isEqualTo("rw-------");
    } finally {
      serve.interrupt();
      serve.join(60_000);
    }
    assertThat(code.get()).isZero();
    assertThat(socket).doesNotExist();
  }

  private int run(ByteArrayOutputStream err, String... args) {
    env.putIfAbsent("HOME", tmp.toString());
    return Coffer.run(args, new ByteArrayInputStream(new byte[0]),
        new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(err, true), env,
        (settings, notices) -> store, false);
  }
}
