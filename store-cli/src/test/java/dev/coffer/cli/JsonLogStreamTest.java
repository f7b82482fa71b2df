package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** {@code --log-format json}: one JSON object per log line, stack lines with their level. */
class JsonLogStreamTest {

  @Test
  void eachLineIsOneJsonObject() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Clock clock = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
    PrintStream json = new JsonLogStream(new PrintStream(bytes, true), clock);

    json.println("INFO gc purged 2 blobs, \"quoted\"");
    json.println("WARN cache directory /c is unusable");
    json.println((Object) "\tat dev.coffer.X.y(X.java:1)");

    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("""
        {"time":"2026-01-02T03:04:05Z","level":"INFO","message":"gc purged 2 blobs, \\"quoted\\""}
        {"time":"2026-01-02T03:04:05Z","level":"WARN","message":"cache directory /c is unusable"}
        {"time":"2026-01-02T03:04:05Z","level":"WARN","stack":"\\tat dev.coffer.X.y(X.java:1)"}
        """);
  }

  @Test
  void theOptionSwitchesTheLoggersStreamForTheCommandOnly() {
    PrintStream before = System.err;
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    Cli cli = new Cli((settings, notices) -> {
      System.err.println("WARN from the store");
      seen.writeBytes(("" + (System.err instanceof JsonLogStream)).getBytes(StandardCharsets.UTF_8));
      throw new ConfigException("stop here");
    });
    PrintStream capture = new PrintStream(new ByteArrayOutputStream(), true);
    System.setErr(capture);
    try {
      Cli.Result result = cli.run("ls", "--log-format", "json");
      assertThat(result.code()).isEqualTo(ExitCode.CONFIG.code);
      assertThat(result.stderr()).isEqualTo("coffer ls: stop here\n"); // the command's own: text
      assertThat(seen.toString(StandardCharsets.UTF_8)).isEqualTo("true");
      assertThat(System.err).isSameAs(capture);
    } finally {
      System.setErr(before);
    }
  }
}
