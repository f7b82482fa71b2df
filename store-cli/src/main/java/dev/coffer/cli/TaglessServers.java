package dev.coffer.cli;

import dev.coffer.store.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;

/**
 * What this host has learnt about buckets without object tagging (some S3-compatible servers
 * answer a tagged write with 501): a store opened on such a bucket learns it from a refused write,
 * sent again untagged, and logs it; the command remembers it here, so that the host's later
 * commands open their stores without tags and neither send a refused write nor log it again.
 * One empty file per bucket under {@code $COFFER_HOME/servers} (mode 0700), named by a hash of
 * the endpoint, region and bucket; believed for {@link #KEPT}, after which one command asks again
 * (a server may gain tagging). Failing to read or write it changes nothing but that.
 */
final class TaglessServers {
  /** How long a bucket found without tagging is believed to have none. */
  static final Duration KEPT = Duration.ofDays(7);

  private final Path directory;
  private final Clock clock;

  TaglessServers(Path home, Clock clock) {
    this.directory = home.resolve("servers");
    this.clock = clock;
  }

  /** Whether the bucket {@code settings} name was found without tagging within {@link #KEPT}. */
  boolean known(Settings settings) {
    try {
      FileTime learnt = Files.getLastModifiedTime(file(settings));
      return learnt.toInstant().plus(KEPT).isAfter(clock.instant());
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Remembers that the bucket {@code settings} name has no object tagging, as of now. */
  void remember(Settings settings) {
    try {
      Files.createDirectories(directory.getParent());
      try {
        Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------")));
      } catch (FileAlreadyExistsException exists) {
        // kept as it is
      }
      Path file = file(settings);
      Files.write(file, new byte[0]);
      Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
    } catch (IOException | RuntimeException e) {
      // Only a hint: the next command learns it again.
    }
  }

  private Path file(Settings settings) {
    String bucket = String.join("\n", String.valueOf(settings.endpoint()), settings.region(),
        settings.bucket());
    String hash = Digest.of(bucket.getBytes(StandardCharsets.UTF_8)).hex().substring(0, 16);
    return directory.resolve(hash + ".no-object-tags");
  }
}
