package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3server.Credentials;
import dev.coffer.s3server.EmbeddedS3Server;
import dev.coffer.s3sim.Capabilities;
import dev.coffer.s3sim.Storage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bucket found without object tagging is remembered by the host for {@link TaglessServers#KEPT}:
 * later commands send nothing tagged to it, so neither meet the refusal nor log it again.
 */
class TaglessServersTest {

  @TempDir
  Path tmp;

  private static Settings bucket(String endpoint, String bucket) {
    return new Settings(bucket, "", "us-east-1", endpoint, true, null, null, false, 0, 0, null,
        null, null, null, false);
  }

  @Test
  void aBucketIsKnownTaglessFromItsLearningUntilKeptHasPassed() throws Exception {
    Instant learnt = Instant.parse("2026-12-01T10:00:00Z");
    Settings s3proxy = bucket("http://127.0.0.1:9000", "builds");
    new TaglessServers(tmp, Clock.fixed(learnt, ZoneOffset.UTC)).remember(s3proxy);

    TaglessServers later = new TaglessServers(tmp,
        Clock.fixed(learnt.plus(TaglessServers.KEPT).minusSeconds(1), ZoneOffset.UTC));
    assertThat(later.known(s3proxy)).isTrue();
    assertThat(later.known(bucket("http://127.0.0.1:9000", "other"))).isFalse();
    assertThat(later.known(bucket("http://127.0.0.1:9001", "builds"))).isFalse();
    assertThat(new TaglessServers(tmp, Clock.fixed(learnt.plus(TaglessServers.KEPT)
        .plus(Duration.ofSeconds(1)), ZoneOffset.UTC)).known(s3proxy)).isFalse();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        tmp.resolve("servers")))).isEqualTo("rwx------");
  }

  @Test
  void nothingRememberedIsNothingKnownAndAnUnwritableHomeChangesNothing() throws Exception {
    Settings s = bucket(null, "builds");
    assertThat(new TaglessServers(tmp, Clock.systemUTC()).known(s)).isFalse();
    Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
    TaglessServers broken = new TaglessServers(file, Clock.systemUTC());
    broken.remember(s); // no exception: only a hint
    assertThat(broken.known(s)).isFalse();
  }

  /**
   * Two puts through the command's own connector to a server without object tagging: the first
   * sends a tagged write (refused), learns it and remembers it; the second sends nothing tagged.
   */
  @Test
  void theSecondCommandOnATaglessBucketSendsNothingTagged() throws Exception {
    Credentials credentials = Credentials.random();
    Path home = tmp.resolve("home");
    try (EmbeddedS3Server server = EmbeddedS3Server.builder().storage(Storage.inMemory())
            .credentials(credentials).bucket("coffer")
            .capabilities(Capabilities.s3().withoutTagging()).start();
        RecordingRelay relay = new RecordingRelay(server.endpoint())) {
      Map<String, String> vars = Map.of("COFFER_BUCKET", "coffer",
          "COFFER_ENDPOINT", relay.endpoint().toString(), "COFFER_HOME", home.toString(),
          "AWS_REGION", "us-east-1", "AWS_ACCESS_KEY_ID", credentials.accessKeyId(),
          "AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey());
      Path first = Files.writeString(tmp.resolve("first"), "first file", StandardCharsets.UTF_8);
      Path second = Files.writeString(tmp.resolve("second"), "second file");

      CofferJvm.run(tmp, vars, "put", "--no-cache", "-q", first.toString());
      int afterFirst = relay.requests().size();
      assertThat(tagged(relay.requests())).isPositive();
      try (Stream<Path> learnt = Files.list(home.resolve("servers"))) {
        assertThat(learnt.map(p -> p.getFileName().toString()))
            .singleElement().asString().endsWith(".no-object-tags");
      }

      String digest = CofferJvm.run(tmp, vars, "put", "--no-cache", "-q", second.toString())
          .strip();
      List<RecordingRelay.Request> secondOnly =
          relay.requests().subList(afterFirst, relay.requests().size());
      assertThat(secondOnly).anyMatch(r -> r.method().equals("PUT"));
      assertThat(tagged(secondOnly)).isZero();
      Path back = tmp.resolve("back");
      CofferJvm.run(tmp, vars, "get", "--no-cache", digest, "-o", back.toString());
      assertThat(Files.readString(back)).isEqualTo("second file");
    }
  }

  private static long tagged(List<RecordingRelay.Request> requests) {
    return requests.stream().filter(r -> r.headers().containsKey("x-amz-tagging")
        || r.target().contains("tagging")).count();
  }
}
