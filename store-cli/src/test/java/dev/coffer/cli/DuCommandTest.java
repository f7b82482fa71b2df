package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.cli.Cli.Result;
import dev.coffer.store.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coffer du}: exact blobs and bytes by state and label, and what gc would free (OBS-4). */
class DuCommandTest {
  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);

  @AfterEach
  void close() throws Exception {
    connector.close();
  }

  private Digest put(int size, String... labels) throws Exception {
    byte[] content = new byte[size];
    content[0] = (byte) size;
    content[size - 1] = (byte) (size >> 8);
    Path file = tmp.resolve("blob-" + size);
    Files.write(file, content);
    String[] args = new String[3 + 2 * labels.length];
    args[0] = "put";
    args[1] = "-q";
    for (int i = 0; i < labels.length; i++) {
      args[2 + 2 * i] = "-l";
      args[3 + 2 * i] = labels[i];
    }
    args[args.length - 1] = file.toString();
    Result put = cli.run(args);
    assertThat(put.code()).as(put.stderr()).isZero();
    return Digest.of(content);
  }

  private void rm(Digest digest) {
    Result rm = cli.run("rm", digest.toString());
    assertThat(rm.code()).as(rm.stderr()).isZero();
  }

  @Test
  void countsBlobsAndBytesByStateAndLabelAndWhatGcWouldFree() throws Exception {
    put(100, "team=a");
    put(250, "team=a");
    put(1000, "team=b");
    put(30);
    rm(put(4000, "team=a"));
    connector.clock.advance(Duration.ofMinutes(20)); // past the default 15-minute grace
    rm(put(70_000, "team=b"));

    Result du = cli.run("du", "--json", "--by", "labels.team");

    assertThat(du.code()).as(du.stderr()).isZero();
    JsonNode json = du.json();
    assertThat(json.at("/byState/live/blobs").asLong()).isEqualTo(4);
    assertThat(json.at("/byState/live/bytes").asLong()).isEqualTo(1380);
    assertThat(json.at("/byState/deleting/blobs").asLong()).isEqualTo(2);
    assertThat(json.at("/byState/deleting/bytes").asLong()).isEqualTo(74_000);
    assertThat(json.at("/byState/purging/blobs").asLong()).isZero();
    assertThat(json.at("/gcWouldFree/blobs").asLong()).isEqualTo(1);
    assertThat(json.at("/gcWouldFree/bytes").asLong()).isEqualTo(4000);
    assertThat(json.at("/byLabel/a/bytes").asLong()).isEqualTo(350);
    assertThat(json.at("/byLabel/a/blobs").asLong()).isEqualTo(2);
    assertThat(json.at("/byLabel/b/bytes").asLong()).isEqualTo(1000);
    assertThat(json.at("/byLabel/~1none").isMissingNode()).isTrue();
    assertThat(json.at("/byLabel").has("")).isTrue();
    assertThat(json.at("/byLabel//bytes").asLong()).isEqualTo(30);

    Result gc = cli.run("gc", "--json");
    assertThat(gc.json().get("bytesFreed").asLong()).as("du's figure is gc's").isEqualTo(4000);
  }

  @Test
  void aFilterSelectsTheBlobsCountedAndTheTextShowsEachState() throws Exception {
    put(100, "team=a");
    put(250, "team=b");

    Result du = cli.run("du", "--filter", "labels.team==b");

    assertThat(du.code()).as(du.stderr()).isZero();
    assertThat(du.out()).isEqualTo("""
        state           blobs          bytes
        live                1            250  250 B
        deleting            0              0  0 B
        purging             0              0  0 B
        gc would free 0 blobs, 0 bytes (0 B)
        """);
    Result badBy = cli.run("du", "--by", "team");
    assertThat(badBy.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(badBy.stderr()).isEqualTo("coffer du: --by team: expected labels.KEY\n");
  }
}
