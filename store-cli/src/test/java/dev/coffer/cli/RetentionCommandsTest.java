package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.cli.Cli.Result;
import dev.coffer.store.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention by last use from the command line: {@code gc --unused-for/--max-bytes/--dry-run},
 * the last use in {@code info} and {@code ls --json}, and {@code ls --filter lastUsedAt<...}.
 */
class RetentionCommandsTest {
  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);

  @AfterEach
  void close() throws Exception {
    connector.close();
  }

  private Digest put(int size) throws Exception {
    byte[] content = new byte[size];
    content[0] = (byte) size;
    content[size - 1] = (byte) (size >> 8);
    Path file = tmp.resolve("blob-" + size);
    Files.write(file, content);
    Result put = cli.run("put", "-q", file.toString());
    assertThat(put.code()).as(put.stderr()).isZero();
    return Digest.of(content);
  }

  @Test
  void infoAndLsShowTheLastUseAndTheFilterSelectsByIt() throws Exception {
    Instant first = connector.clock.instant();
    Digest old = put(100);
    connector.clock.advance(Duration.ofDays(10));
    Instant second = connector.clock.instant();
    Digest recent = put(200);

    JsonNode ls = cli.run("ls", "--json").json();
    assertThat(ls.findValuesAsText("lastUsedAt")).containsExactlyInAnyOrder(first.toString(),
        second.toString());
    Instant between = first.plus(Duration.ofDays(5));
    Result filtered = cli.run("ls", "--filter", "lastUsedAt<" + between);
    assertThat(filtered.code()).as(filtered.stderr()).isZero();
    assertThat(filtered.out()).contains(old.toString()).doesNotContain(recent.toString());

    // info shows the recorded last use, and is a use itself (written as the command's store
    // closes, the recorded one being older than the touch interval).
    Result info = cli.run("info", old.toString());
    assertThat(info.code()).as(info.stderr()).isZero();
    assertThat(info.out()).contains("last used: " + first);
    assertThat(cli.run("ls", "--filter", "lastUsedAt<" + between).out())
        .doesNotContain(old.toString());
    assertThat(cli.run("info", old.toString()).out()).contains("last used: " + second);
  }

  @Test
  void gcDryRunListsWhatWouldExpireThenGcExpiresIt() throws Exception {
    Digest old = put(100);
    connector.clock.advance(Duration.ofDays(40));
    Digest recent = put(200);

    Result dry = cli.run("gc", "--unused-for", "30d", "--dry-run", "--json");
    assertThat(dry.code()).as(dry.stderr()).isZero();
    assertThat(dry.json().get("blobsExpired").asLong()).isEqualTo(1);
    assertThat(dry.json().get("bytesExpired").asLong()).isEqualTo(100);
    assertThat(dry.json().get("expired").get(0).asText()).isEqualTo(old.toString());
    assertThat(cli.run("ls").out()).contains(old.toString());

    Result gc = cli.run("gc", "--max-bytes", "250");
    assertThat(gc.code()).as(gc.stderr()).isZero();
    assertThat(gc.out()).contains("1 blobs expired, 100 B").contains("expired " + old);
    assertThat(cli.run("ls").out()).doesNotContain(old.toString())
        .contains(recent.toString());
  }
}
