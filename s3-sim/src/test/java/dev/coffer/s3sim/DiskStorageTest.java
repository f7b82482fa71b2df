package dev.coffer.s3sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import dev.coffer.s3sim.Storage.StoredPart;
import dev.coffer.s3sim.Storage.StoredUpload;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Storage#onDisk}: what a server acknowledged is there after a restart (a new server on the
 * same directory), whole; interrupted writes leave nothing behind (invariant SEC-9).
 */
class DiskStorageTest {
  @TempDir
  Path dir;

  private S3Server open() {
    S3Server server = S3Server.builder().storage(Storage.onDisk(dir.resolve("data")))
        .clock(Clock.systemUTC()).build();
    return server;
  }

  private static SimResponse send(S3Server server, SimRequest.Builder request) {
    return server.handle(request.build());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void objectsTagsAndDeletionsSurviveARestart() throws Exception {
    S3Server first = open();
    first.createBucket("bkt");
    byte[] big = new byte[3 << 20];
    new Random(7).nextBytes(big);
    assertThat(send(first, SimRequest.builder("PUT", "/bkt/a/big").body(big)
        .header("x-amz-meta-owner", "me").header("Content-Type", "application/x-test"))
        .status()).isEqualTo(200);
    String etag = send(first, SimRequest.builder("PUT", "/bkt/a/small").body(bytes("v1")))
        .header("ETag");
    assertThat(send(first, SimRequest.builder("PUT", "/bkt/a/small").query("tagging", "")
        .body(bytes("<Tagging><TagSet><Tag><Key>t</Key><Value>x</Value></Tag></TagSet>"
            + "</Tagging>"))).status()).isEqualTo(200);
    send(first, SimRequest.builder("PUT", "/bkt/gone").body(bytes("soon")));
    assertThat(send(first, SimRequest.builder("DELETE", "/bkt/gone")).status()).isEqualTo(204);
    String key = "odd key/with ünïcode & ?";
    send(first, SimRequest.builder("PUT", "/bkt/" + key).body(bytes("odd")));

    assertThat(Files.getPosixFilePermissions(dir.resolve("data")))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));

    S3Server second = open();
    SimResponse bigGet = send(second, SimRequest.builder("GET", "/bkt/a/big"));
    assertThat(bigGet.status()).isEqualTo(200);
    assertThat(Arrays.equals(bigGet.body(), big)).isTrue();
    assertThat(bigGet.header("x-amz-meta-owner")).isEqualTo("me");
    assertThat(bigGet.header("Content-Type")).isEqualTo("application/x-test");
    SimResponse small = send(second, SimRequest.builder("GET", "/bkt/a/small"));
    assertThat(small.bodyText()).isEqualTo("v1");
    assertThat(small.header("ETag")).isEqualTo(etag);
    assertThat(send(second, SimRequest.builder("GET", "/bkt/a/small").query("tagging", ""))
        .bodyText()).contains("<Key>t</Key><Value>x</Value>");
    assertThat(send(second, SimRequest.builder("GET", "/bkt/gone")).status()).isEqualTo(404);
    assertThat(send(second, SimRequest.builder("GET", "/bkt/" + key)).bodyText())
        .isEqualTo("odd");
    // A conditional write sees the object that survived.
    assertThat(send(second, SimRequest.builder("PUT", "/bkt/a/small").body(bytes("v2"))
        .header("If-None-Match", "*")).status()).isEqualTo(412);
    assertThat(send(second, SimRequest.builder("PUT", "/bkt/a/small").body(bytes("v2"))
        .header("If-Match", etag)).status()).isEqualTo(200);
    // The object kept whole after a read or write is the one now stored.
    assertThat(send(second, SimRequest.builder("GET", "/bkt/a/small")).bodyText()).isEqualTo("v2");
    send(second, SimRequest.builder("GET", "/bkt/a/big"));
    assertThat(send(second, SimRequest.builder("DELETE", "/bkt/a/big")).status()).isEqualTo(204);
    assertThat(send(second, SimRequest.builder("GET", "/bkt/a/big")).status()).isEqualTo(404);
    send(second, SimRequest.builder("PUT", "/bkt/a/big").body(bytes("reborn")));
    String listing = send(second, SimRequest.builder("GET", "/bkt").query("list-type", "2"))
        .bodyText();
    assertThat(listing).contains("<Key>a/big</Key>", "<Size>6</Size>",
        "<Key>a/small</Key>").doesNotContain("<Key>gone</Key>");

    S3Server third = open();
    assertThat(send(third, SimRequest.builder("GET", "/bkt/a/small")).bodyText())
        .isEqualTo("v2");
    assertThat(send(third, SimRequest.builder("GET", "/bkt/a/big")).bodyText())
        .isEqualTo("reborn");
  }

  @Test
  void aMultipartUploadInProgressSurvivesARestartAndCompletes() {
    S3Server first = open();
    first.createBucket("bkt");
    String created = send(first, SimRequest.builder("POST", "/bkt/mp").query("uploads", ""))
        .bodyText();
    Matcher id = Pattern.compile("<UploadId>([^<]+)</UploadId>").matcher(created);
    assertThat(id.find()).isTrue();
    String uploadId = id.group(1);
    String partEtag = send(first, SimRequest.builder("PUT", "/bkt/mp").query("partNumber", "1")
        .query("uploadId", uploadId).body(bytes("the only part"))).header("ETag");

    S3Server second = open();
    assertThat(send(second, SimRequest.builder("GET", "/bkt").query("uploads", "")).bodyText())
        .contains("<UploadId>" + uploadId + "</UploadId>");
    SimResponse done = send(second, SimRequest.builder("POST", "/bkt/mp")
        .query("uploadId", uploadId).body(bytes("<CompleteMultipartUpload><Part><PartNumber>1"
            + "</PartNumber><ETag>" + partEtag + "</ETag></Part></CompleteMultipartUpload>")));
    assertThat(done.status()).isEqualTo(200);
    assertThat(done.bodyText()).contains("<CompleteMultipartUploadResult");

    S3Server third = open();
    assertThat(send(third, SimRequest.builder("GET", "/bkt/mp")).bodyText())
        .isEqualTo("the only part");
    assertThat(send(third, SimRequest.builder("GET", "/bkt").query("uploads", "")).bodyText())
        .doesNotContain("<UploadId>");
  }

  @Test
  void aBucketDeletedStaysDeletedAndTemporaryFilesOfACrashAreRemoved() throws Exception {
    S3Server first = open();
    first.createBucket("keep");
    first.createBucket("drop");
    send(first, SimRequest.builder("PUT", "/keep/k").body(bytes("whole")));
    assertThat(send(first, SimRequest.builder("DELETE", "/drop")).status()).isEqualTo(204);
    // What a crash in the middle of a write leaves: a temporary file beside the object's.
    Path objectFile;
    try (Stream<Path> files = Files.walk(dir.resolve("data/keep/objects"))) {
      objectFile = files.filter(Files::isRegularFile).findFirst().orElseThrow();
    }
    Path temp = objectFile.resolveSibling(".tmp-crashed");
    Files.write(temp, bytes("half a"));

    S3Server second = open();
    assertThat(send(second, SimRequest.builder("GET", "/")).bodyText()).contains("<Name>keep</Name>")
        .doesNotContain("<Name>drop</Name>");
    assertThat(send(second, SimRequest.builder("GET", "/keep/k")).bodyText()).isEqualTo("whole");
    assertThat(temp).doesNotExist();
  }

  @Test
  void aListingReadsNoObjectFile() throws Exception {
    S3Server server = open();
    server.createBucket("bkt");
    for (int i = 0; i < 3; i++) {
      send(server, SimRequest.builder("PUT", "/bkt/blobs/" + i).body(new byte[1000 + i]));
    }
    // Were a listing to read the objects' files, it would now fail.
    try (Stream<Path> files = Files.walk(dir.resolve("data/bkt/objects"))) {
      for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        Files.write(file, bytes("not an object any more"));
      }
    }
    String listing = send(server, SimRequest.builder("GET", "/bkt").query("list-type", "2")
        .query("prefix", "blobs/")).bodyText();
    assertThat(listing).contains("<Key>blobs/0</Key>", "<Size>1000</Size>", "<Key>blobs/2</Key>",
        "<Size>1002</Size>");
  }

  @Test
  void aFileItDidNotWriteIsRefused() throws Exception {
    open().createBucket("bkt");
    Path stray = dir.resolve("data/bkt/objects/00/stray");
    Files.createDirectories(stray.getParent());
    Files.write(stray, bytes("not an object"));
    assertThatThrownBy(this::open).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("data");
  }

  /**
   * An upload rewritten with fewer parts whose new description cannot be written keeps the parts
   * its old description names: the description is written before dropped parts are deleted, so an
   * upload on disk never names a part that is gone (a crash between the two leaves at most a part
   * no description names, which the next rewrite or the upload's removal deletes).
   */
  @Test
  void anUploadWhoseNewDescriptionFailsKeepsThePartsItsOldOneNames() throws Exception {
    DiskStorage storage = DiskStorage.open(dir.resolve("data"));
    storage.createBucket("bkt", Instant.EPOCH);
    StoredPart one = new StoredPart(1, bytes("part one"), "\"e1\"", Instant.EPOCH, null);
    StoredPart two = new StoredPart(2, bytes("part two"), "\"e2\"", Instant.EPOCH, null);
    storage.putUpload("bkt", upload(one, two));
    Path description;
    try (Stream<Path> files = Files.walk(dir.resolve("data/bkt/uploads"))) {
      description = files.filter(f -> f.getFileName().toString().equals("upload")).findFirst()
          .orElseThrow();
    }
    byte[] old = Files.readAllBytes(description);
    // The new description cannot replace a directory that holds a file.
    Files.delete(description);
    Files.createDirectories(description.resolve("in-the-way"));

    assertThatThrownBy(() -> storage.putUpload("bkt", upload(one)))
        .isInstanceOf(UncheckedIOException.class).hasMessageContaining("up-1");
    assertThat(description.resolveSibling("part-2")).as("the part the old description names")
        .isRegularFile();

    Files.delete(description.resolve("in-the-way"));
    Files.delete(description);
    Files.write(description, old);
    StoredUpload reopened = DiskStorage.open(dir.resolve("data")).upload("bkt", "up-1");
    assertThat(reopened.parts()).containsOnlyKeys(1, 2);
    assertThat(reopened.parts().get(2).content()).isEqualTo(bytes("part two"));
  }

  private static StoredUpload upload(StoredPart... parts) {
    SortedMap<Integer, StoredPart> numbered = new TreeMap<>();
    for (StoredPart part : parts) {
      numbered.put(part.number(), part);
    }
    return new StoredUpload("up-1", 1, "key", Instant.EPOCH, null, Map.of(), Map.of(), null, null,
        numbered);
  }
}
