package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.coffer.cli.Cli.Result;
import dev.coffer.store.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing at WARN or ERROR on the normal path (issue 22's logs): put, get, ls, gc, fsck and serve
 * run as users run them, with every log line the process writes captured (the CLI logs through
 * slf4j-simple to {@code System.err}, which this test replaces), and none of those lines, nor the
 * commands' own stderr, is a warning or an error; gc, fsck and the server's start and stop are
 * one line each at INFO.
 */
class QuietNormalPathTest {
  /** A log line of slf4j-simple at WARN or ERROR, or the CLI's own "WARN message" form. */
  private static final Pattern LOUD = Pattern.compile("(^|[\\s\\]])(WARN|ERROR)\\b");

  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final List<String> stderr = new ArrayList<>();
  private PrintStream systemErr;

  @BeforeEach
  void capture() {
    systemErr = System.err;
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() throws Exception {
    System.setErr(systemErr);
    connector.close();
  }

  private Result run(String... args) {
    Result r = cli.run(args);
    stderr.add(String.join(" ", args) + ": " + r.stderr());
    assertThat(r.code()).as(String.join(" ", args) + "\n" + r.stderr()).isZero();
    return r;
  }

  @Test
  void putGetLsGcFsckAndServeLogNothingAtWarnOrError() throws Exception {
    byte[] small = "a small blob".getBytes(StandardCharsets.UTF_8);
    byte[] large = new byte[(11 << 20) + 7];
    new Random(22).nextBytes(large);
    Path smallFile = Files.write(tmp.resolve("small"), small);
    Path largeFile = Files.write(tmp.resolve("large"), large);

    run("put", "-q", "--no-cache", "-l", "team=ci", smallFile.toString());
    run("put", "-q", "--no-cache", "--ref", "large-1", largeFile.toString());
    Digest largeDigest = Digest.of(large);
    run("put", "-q", "--no-cache", largeFile.toString()); // stored already: ends at open
    Path out = tmp.resolve("out");
    run("get", "-q", "--no-cache", largeDigest.toString(), "-o", out.toString());
    assertThat(out).hasBinaryContent(large);
    assertThat(run("get", "-q", "--no-cache", Digest.of(small).toString()).stdout())
        .isEqualTo(small);
    run("ls", "--no-cache", "--filter", "labels.team==ci");
    run("rm", "--no-cache", Digest.of(small).toString());
    run("gc", "--no-cache");
    run("fsck", "--no-cache", "--verify");
    serveAndStop();

    String logged = log.toString(StandardCharsets.UTF_8);
    assertThat(logged.lines().filter(l -> LOUD.matcher(l).find()))
        .as("log lines at WARN or ERROR; the whole log:\n" + logged).isEmpty();
    // The capture sees the log: each notable event is one line at INFO.
    for (String event : List.of(" - gc: ", " - fsck: ", " - serving containerd content on ",
        " - content server stopped")) {
      assertThat(logged.lines().filter(l -> l.contains(" INFO ") && l.contains(event)))
          .as(event + " in\n" + logged).hasSize(1);
    }
    assertThat(stderr.stream().flatMap(String::lines).filter(l -> LOUD.matcher(l).find()))
        .as("the commands' stderr").isEmpty();
  }

  /** {@code coffer serve} started, answered its probe, and stopped as an interrupt stops it. */
  private void serveAndStop() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = new HashMap<>();
    env.put("HOME", tmp.toString());
    int[] code = {-1};
    Thread serve = new Thread(() -> code[0] = Coffer.run(new String[] {"serve", "--no-cache",
        "--containerd-socket", tmp.resolve("c.sock").toString(), "--holder-id", "h",
        "--state-dir", tmp.resolve("state").toString(), "--metrics-address", "127.0.0.1:0"},
        new ByteArrayInputStream(new byte[0]), new PrintStream(new ByteArrayOutputStream(), true),
        new PrintStream(err, true), env, connector, false));
    serve.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      synchronized (err) {
        return err.toString(StandardCharsets.UTF_8)
            .contains("serving containerd's content service");
      }
    });
    serve.interrupt();
    serve.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(serve.isAlive()).isFalse();
    stderr.add("serve: " + err.toString(StandardCharsets.UTF_8));
    assertThat(code[0]).as(err.toString(StandardCharsets.UTF_8)).isZero();
  }
}
