package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coffer serve --metrics-address}: a scrape of /metrics after a known sequence of operations
 * counts exactly the requests the (simulated) S3 endpoint logged (OBS-1 end to end), /healthz, and
 * the loopback rule (OBS-3).
 */
class ServeMetricsTest {
  private static final Pattern LISTENING =
      Pattern.compile("serving /metrics and /healthz on (http://\\S+)");
  private static final Pattern REQUESTS = Pattern.compile(
      "^coffer_s3_requests_total\\{operation=\"(\\w+)\",status=\"(\\w+)\"} (\\S+)$",
      Pattern.MULTILINE);

  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final HttpClient http = HttpClient.newHttpClient();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private Thread serve;

  @AfterEach
  void stop() throws Exception {
    if (serve != null) {
      serve.interrupt();
      serve.join(TimeUnit.SECONDS.toMillis(30));
    }
    connector.close();
  }

  private String errText() {
    synchronized (err) {
      return err.toString(StandardCharsets.UTF_8);
    }
  }

  private int serve(String metricsAddress) {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", tmp.toString());
    return Coffer.run(new String[] {"serve", "--no-cache",
        "--containerd-socket", tmp.resolve("c.sock").toString(), "--holder-id", "h",
        "--state-dir", tmp.resolve("state").toString(), "--metrics-address", metricsAddress},
        new ByteArrayInputStream(new byte[0]), new PrintStream(new ByteArrayOutputStream(), true),
        new PrintStream(err, true), env, connector, false);
  }

  private HttpResponse<String> get(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aScrapeCountsExactlyTheRequestsTheEndpointLogged() throws Exception {
    serve = new Thread(() -> serve("127.0.0.1:0"));
    serve.start();
    await().atMost(Duration.ofSeconds(30))
        .until(() -> LISTENING.matcher(errText()).find()
            && errText().contains("serving containerd's content service"));
    Matcher m = LISTENING.matcher(errText());
    assertThat(m.find()).isTrue();
    URI base = URI.create(m.group(1));
    await().atMost(Duration.ofSeconds(30)).until(() -> get(base.resolve("/healthz")).statusCode(),
        code -> code == 200);

    ContentStore store = connector.store;
    byte[] content = "scraped".getBytes(StandardCharsets.UTF_8);
    Digest digest = store.put(content, null, Map.of("team", "obs")).digest();
    store.ref(digest);
    assertThat(Content.readBlob(store, store.info(digest).descriptor())).isEqualTo(content);
    try {
      store.info(Digest.of(new byte[] {42}));
    } catch (NotFoundException expected) {
      // a 404 counted as such
    }

    HttpResponse<String> scrape = get(base.resolve("/metrics"));
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.headers().firstValue("Content-Type")).hasValueSatisfying(
        type -> assertThat(type).startsWith("text/plain"));
    Map<String, Long> scraped = new TreeMap<>();
    Matcher line = REQUESTS.matcher(scrape.body());
    while (line.find()) {
      scraped.merge(line.group(1) + " " + line.group(2), (long) Double.parseDouble(line.group(3)),
          Long::sum);
    }
    assertThat(scraped).containsKeys("PutObject 200", "GetObject 200")
        .isEqualTo(connector.logged(connector.host));
    assertThat(scrape.body()).contains("coffer_store_operations_seconds_count{operation=\"ref\","
        + "outcome=\"ok\"} 1");
    assertThat(get(base.resolve("/other")).statusCode()).isEqualTo(404);
  }

  @Test
  void aNonLoopbackAddressIsRefused() {
    int code = serve("192.0.2.1:9464");

    assertThat(code).isEqualTo(ExitCode.CONFIG.code);
    assertThat(errText()).contains("--metrics-address 192.0.2.1:9464 is not a loopback address");
  }
}
