package dev.coffer.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.cli.Cli.Result;
import com.fasterxml.jackson.databind.JsonNode;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.NewLinks;
import dev.coffer.store.UnavailableException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code put -r}, {@code get -r}, {@code ls -r} and {@code diff} on the simulated S3 (TREE-1..5). */
class TreeCommandsTest {
  @TempDir
  Path tmp;

  private final SimConnector connector = new SimConnector();
  private final Cli cli = new Cli(connector);

  @AfterEach
  void close() throws Exception {
    connector.close();
  }

  private static void write(Path file, String content) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, content, UTF_8);
  }

  /**
   * The writes of a tree's index record by this host: its creation, one compare-and-swap per
   * {@code linkNew} from it, and the caller's reference.
   */
  private long treeRecordWrites(String tree) {
    Digest d = Digest.parse(tree);
    String record = "index/" + d.algorithm().label() + "/" + d.hex();
    return connector.sim.log().entries().stream()
        .filter(e -> e.host().equals(connector.host) && e.key() != null
            && e.key().endsWith(record)
            && e.operation() == dev.coffer.s3sim.Operation.PUT_OBJECT)
        .count();
  }

  /** A directory {@code build} of {@code files} small files {@code d/f0}, {@code d/f1}, .... */
  private Path buildOf(int files) throws Exception {
    Path src = tmp.resolve("build");
    for (int i = 0; i < files; i++) {
      write(src.resolve("d/f" + i), "file " + i);
    }
    return src;
  }

  private Result ok(String... args) {
    Result r = cli.run(args);
    assertThat(r.code()).as(r.stderr()).isZero();
    return r;
  }

  /**
   * Issue 23: the links of a tree are made one change of its index record per {@code linkNew}, and
   * the put makes one at a time, of whatever was stored since the last (at most 2 × {@code --jobs}
   * files): {@code put -r} of 100 new files with {@code --jobs 16} writes the tree's record once
   * for its creation, once per linkNew (between 1 and 100 of them, as the uploads run ahead of the
   * links) and once for the caller's reference. Each new small file is sent with no lookup first
   * and created holding its link's marked reference (the mark at creation, PROTO-13: its object
   * with tags {@code refs=1}, its record with the mark of the put's linkNew operation, drawn
   * before the files are stored; content found stored answers AlreadyExists), then linked by that
   * operation (TREE-3), whose step 2 it skips: the mark removed, 3 requests a file; each linkNew
   * writes the tree's record once. No record is read to be changed: this host wrote each last
   * (PROTO-14), and the operation is drawn from the tree's record as this put created it. So 300
   * + 1 a linkNew + 4 (the tree's object, record, reference and tags): 312 with 8 linkNews (313
   * when the draw read the tree's record). Stored at count 0 and marked by step 2 (its CAS and the tags mirroring it), 5 a
   * file: 513. Reading each file's record, and the tree's for each
   * linkNew and its reference, 6 a file and 2 a linkNew (620 with the 7 batches of 16 the put made
   * when each batch waited for its slowest file). With a lookup of each file first, 100 more;
   * stored with its reference and linked by linkAll (which left a killed put's batch
   * over-referenced for good), 420; before linkAll, each link read both records and
   * rewrote the tree's: 906 requests, 102 writes of that record.
   */
  @Test
  void putOfNewFilesWritesTheTreeRecordOncePerBatchOfLinks() throws Exception {
    Path src = tmp.resolve("many");
    int files = 100;
    for (int i = 0; i < files; i++) {
      write(src.resolve("f" + i), "file " + i);
    }

    String tree = ok("put", "-r", src.toString(), "--jobs", "16").out().strip();

    long treeRecordWrites = treeRecordWrites(tree);
    long requests = connector.logged(connector.host).values().stream()
        .mapToLong(Long::longValue).sum();
    Map<String, Long> logged = connector.logged(connector.host);
    long linkNewCalls = treeRecordWrites - 2; // its creation and the caller's reference
    assertThat(linkNewCalls).as("one linkNew at a time, of at most 8 x 16 files")
        .isBetween((files + 127) / 128L, (long) files);
    assertThat(requests).as(logged.toString()).isEqualTo(3L * files + linkNewCalls + 4);
    assertThat(logged).as("no lookup of a new small file").doesNotContainKey("GetObject 404");
    assertThat(logged).as("no record read, the tree's neither").doesNotContainKey("GetObject 200");
    assertThat(logged.get("PutObjectTagging 200"))
        .as("the files are born with refs=1; only the tree's reference mirrors tags")
        .isEqualTo(1);
  }

  /**
   * Issue 23: {@code put -r} sends a file larger than the one-step size straight to its digest's
   * key (ContentStore.putFile, at count 0), as {@code put FILE} does: no ingest, no multipart
   * upload to an ingest key, no server-side copy. With 5 MiB parts, a file of 3 MiB is its
   * record's lookup, one PutObject and its record; a file of 6 MiB is its lookup, a multipart
   * upload of two parts to the digest key, its record and its tags (the object its own completion
   * created is not looked for, PROTO-10); each record created with the mark of the links'
   * operation; then linkNew's unmarking of each (no read: this host wrote each record last,
   * PROTO-14, the tree's too, whose version the draw of the links' operation starts from): 17
   * requests with the tree's own when both are linked by one linkNew, 1 more (a write of the
   * tree's record) when each is linked as it is stored. Before, 18 when the 6 MiB file's object
   * was looked for after its completion; 19 when the draw read the tree's record, 20 when the 6
   * MiB file was put plainly and marked by
   * linkNew's step 2 (its marked reference and tags), 22 when the 3 MiB file was too, 26 when
   * linkNew and the reference read the records. Through a writer and a copy (before) the same
   * put took 33, CopyObject, ingest records and deletes among them.
   */
  @Test
  void putRSendsLargeFilesStraightToTheirDigestKeys() throws Exception {
    Path src = tmp.resolve("large");
    java.util.Random random = new java.util.Random(5);
    byte[] middle = new byte[3 << 20];
    byte[] parts = new byte[6 << 20];
    random.nextBytes(middle);
    random.nextBytes(parts);
    Files.createDirectories(src);
    Files.write(src.resolve("middle.bin"), middle);
    Files.write(src.resolve("parts.bin"), parts);

    Result put = ok("put", "--no-cache", "-r", src.toString(), "--jobs", "4");
    Map<String, Long> logged = connector.logged(connector.host);

    assertThat(put.stderr()).contains("new 2 files, " + (middle.length + parts.length) + " bytes");
    assertThat(logged).as("no ingest, no copy").doesNotContainKeys("CopyObject 200",
        "UploadPartCopy 200", "DeleteObject 204");
    assertThat(logged.get("CreateMultipartUpload 200")).as(logged.toString()).isEqualTo(1);
    assertThat(connector.sim.log().entries().stream()
        .filter(e -> e.key() != null && e.key().contains("ingest/")).count())
        .as("no ingest record or data").isZero();
    long total = logged.values().stream().mapToLong(Long::longValue).sum();
    long linkNewCalls = treeRecordWrites(put.out().strip()) - 2;
    assertThat(linkNewCalls).as("both files at once, or each as it is stored").isBetween(1L, 2L);
    assertThat(total).as(logged.toString()).isEqualTo(16 + linkNewCalls);
    Path out = tmp.resolve("out");
    ok("get", "--no-cache", "-r", put.out().strip(), "-o", out.toString());
    assertThat(Files.readAllBytes(out.resolve("middle.bin"))).isEqualTo(middle);
    assertThat(Files.readAllBytes(out.resolve("parts.bin"))).isEqualTo(parts);
  }

  /**
   * The requests of a first {@code put -r} of a mixed directory, by kind: 100 files of 100 B to 8
   * MiB (log-uniform, as the benchmark's tree: 79 up to 1 MiB, 12 up to 4 MiB, 9 larger), the
   * CLI's 16 MiB parts, so every file is one PutObject. Each new file (100) costs 3 requests (its
   * object and its record created with its link's mark, the unmarking; a file above 4 MiB is put
   * by putFile through the links' operation), a file above 1 MiB one lookup more (GetObject 404,
   * 21), the tree 4 (the draw starts from its record as this put created it; 5 when it read it)
   * and one write of its record a linkNew: 333 with 8 linkNews; 351 when the 9 files above 4 MiB
   * were put plainly (5 requests: their marked reference and tags besides); 5 requests for every
   * file (each marked by linkNew's step 2), 533 with the 7 batches of 16 the put made when each
   * waited for its slowest file. When linkNew read each file's record and the tree's for each
   * batch, and the reference read the tree's: 641.
   */
  @Test
  void putOfAMixedDirectoryCostsThreeRequestsANewFileAndALookupAbove1MiB() throws Exception {
    Path src = tmp.resolve("mixed");
    Files.createDirectories(src);
    java.util.Random random = new java.util.Random(23);
    int files = 100;
    int[] bySize = new int[3]; // up to 1 MiB, up to 4 MiB, larger
    for (int i = 0; i < files; i++) {
      int size = (int) Math.round(Math.exp(Math.log(100) + random.nextDouble()
          * (Math.log(8 << 20) - Math.log(100))));
      byte[] bytes = new byte[size];
      random.nextBytes(bytes);
      Files.write(src.resolve("f" + i), bytes);
      bySize[size <= 1 << 20 ? 0 : size <= 4 << 20 ? 1 : 2]++;
    }
    connector.partSize = 16 << 20;

    String tree = ok("put", "--no-cache", "-r", src.toString(), "--jobs", "16").out().strip();

    Map<String, Long> logged = connector.logged(connector.host);
    long total = logged.values().stream().mapToLong(Long::longValue).sum();
    long linkNewCalls = treeRecordWrites(tree) - 2; // its creation and the caller's reference
    assertThat(bySize).containsExactly(79, 12, 9);
    assertThat(logged).as("total " + total).containsExactlyInAnyOrderEntriesOf(Map.of(
        "GetObject 404", 21L, "PutObject 200", 303L + linkNewCalls,
        "PutObjectTagging 200", 1L));
    assertThat(total).isEqualTo(3L * 100 + 21 + 4 + linkNewCalls);
  }

  @Test
  void putGetListAndDiffADirectory() throws Exception {
    Path src = tmp.resolve("build");
    write(src.resolve("bin/tool"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(src.resolve("bin/tool"), PosixFilePermissions.fromString("rwxr-xr-x"));
    write(src.resolve("lib/a.jar"), "jar bytes");
    write(src.resolve("lib/b.jar"), "jar bytes"); // same content: one blob
    Files.createDirectories(src.resolve("empty"));
    Files.createSymbolicLink(src.resolve("current"), Path.of("bin/tool"));

    Result put = ok("put", "-r", src.toString(), "--label", "build=41", "--jobs", "3");
    String tree = put.out().strip();
    assertThat(put.stderr()).contains("stored 3 files, 28 bytes; new 2 files, 19 bytes");
    Digest treeDigest = Digest.parse(tree);

    Result info = ok("info", "--json", tree);
    assertThat(info.json().get("refCount").asLong()).isEqualTo(1);
    assertThat(info.json().get("labels").get("build").asText()).isEqualTo("41");
    assertThat(info.json().get("links")).hasSize(2);

    Result again = ok("put", "-r", src.toString());
    assertThat(again.out().strip()).isEqualTo(tree);
    assertThat(again.stderr()).contains("new 0 files, 0 bytes");

    Result ls = ok("ls", "-r", tree);
    assertThat(ls.out().lines()).containsExactly(
        "dir\t0755\t0\t-\tbin".replace("0755", mode(src.resolve("bin"))),
        "file\t0755\t10\t" + Digest.of("#!/bin/sh\n".getBytes(UTF_8)) + "\tbin/tool",
        "symlink\t0777\t0\t-> bin/tool\tcurrent",
        "dir\t" + mode(src.resolve("empty")) + "\t0\t-\tempty",
        "dir\t" + mode(src.resolve("lib")) + "\t0\t-\tlib",
        "file\t" + mode(src.resolve("lib/a.jar")) + "\t9\t"
            + Digest.of("jar bytes".getBytes(UTF_8)) + "\tlib/a.jar",
        "file\t" + mode(src.resolve("lib/b.jar")) + "\t9\t"
            + Digest.of("jar bytes".getBytes(UTF_8)) + "\tlib/b.jar");

    Path out = tmp.resolve("out");
    Result get = ok("get", "-r", tree, "-o", out.toString());
    assertThat(get.stderr()).contains("restored 3 files, 28 bytes; written 3 files, 28 bytes");
    assertThat(Files.readString(out.resolve("lib/b.jar"))).isEqualTo("jar bytes");
    assertThat(Files.isExecutable(out.resolve("bin/tool"))).isTrue();
    assertThat(Files.readSymbolicLink(out.resolve("current"))).isEqualTo(Path.of("bin/tool"));
    assertThat(Files.isDirectory(out.resolve("empty"))).isTrue();
    Result getAgain = ok("get", "-r", tree, "-o", out.toString());
    assertThat(getAgain.stderr()).contains("written 0 files, 0 bytes");

    write(src.resolve("lib/a.jar"), "new jar bytes");
    Files.delete(src.resolve("lib/b.jar"));
    write(src.resolve("lib/c.jar"), "c");
    String tree2 = ok("put", "-r", src.toString()).out().strip();
    Result diff = ok("diff", tree, tree2);
    assertThat(diff.out().lines()).containsExactly("+\tlib/c.jar", "-\tlib/b.jar", "M\tlib/a.jar");
    assertThat(diff.stderr()).contains("1 added, 1 removed, 1 changed, 14 bytes to transfer");
    assertThat(treeDigest).isNotEqualTo(Digest.parse(tree2));
  }

  @Test
  void anEscapingEntryIsAnInvalidArgumentNamingIt() throws Exception {
    Path blob = tmp.resolve("x");
    Files.writeString(blob, "x");
    String file = ok("put", blob.toString()).out().strip();
    Path evil = tmp.resolve("evil.json");
    Files.writeString(evil, "{\"mediaType\":\"application/vnd.coffer.tree.v1+json\",\"version\":1,"
        + "\"entries\":[{\"path\":\"../escaped\",\"kind\":\"file\",\"mode\":420,\"size\":1,"
        + "\"digest\":\"" + file + "\"}]}");
    String tree = ok("put", evil.toString()).out().strip();
    Result get = cli.run("get", "-r", tree, "-o", tmp.resolve("out").toString());
    assertThat(get.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(get.stderr()).contains("\"../escaped\"");
    Result jobs = cli.run("put", "-r", tmp.toString(), "--jobs", "0");
    assertThat(jobs.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(jobs.stderr()).contains("--jobs must be 1 to 256, not 0");
    assertThat(Files.exists(tmp.resolve("escaped"))).isFalse();
  }

  @Test
  void aSecondPutOfAnUnchangedDirectoryUploadsNothing() throws Exception {
    Path src = tmp.resolve("build");
    for (int i = 0; i < 40; i++) {
      write(src.resolve("d" + (i % 3) + "/f" + i), "file " + i);
    }
    ok("put", "-q", "--no-cache", "-r", src.toString()); // 40 files, 3 directories
    Map<String, Long> first = connector.logged(connector.host);
    Result again = ok("put", "--no-cache", "-r", src.toString());
    Map<String, Long> second = connector.logged(connector.host);
    assertThat(first).containsKey("PutObject 200");
    assertThat(again.stderr()).contains("new 0 files, 0 bytes");
    // The tree is found with its links to every file, so no file is looked up: its commit
    // found existing (the object refused, the record read), its links read, its reference
    // started from the record as read (PROTO-14): 5 requests (6 when the reference read the
    // record again, 47 when each file was looked up first). No file content is sent.
    long total = second.values().stream().mapToLong(Long::longValue).sum();
    assertThat(total).as(second.toString()).isEqualTo(5);
    assertThat(second.getOrDefault("PutObject 200", 0L)).as(second.toString()).isEqualTo(1);
    assertThat(second).doesNotContainKeys("HeadObject 200", "CreateMultipartUpload 200");
  }

  /**
   * Issue 23: {@code get -r} of a live tree reads each file in one request. The tree's record
   * (read with its links) proves each file it links is held while the tree is, so a file's bytes
   * are read without its record first (Provider.readerAtHeld) and verified as always: 30 files
   * take the tree's record and blob and 30 GETs, 32 requests, where a record and a GET each took
   * 62. A file whose bytes are gone after all is still NotFound naming it.
   */
  @Test
  void getROfALiveTreeReadsEachFileInOneRequest() throws Exception {
    Path src = tmp.resolve("build");
    int files = 30;
    for (int i = 0; i < files; i++) {
      write(src.resolve("d" + i % 3 + "/f" + i), "file " + i);
    }
    String tree = ok("put", "-q", "--no-cache", "-r", src.toString(), "--jobs", "4").out()
        .strip();

    Path out = tmp.resolve("out");
    ok("get", "-q", "--no-cache", "-r", tree, "-o", out.toString(), "--jobs", "4");
    Map<String, Long> get = connector.logged(connector.host);
    assertThat(get).as("the tree's record and blob, one GET a file")
        .isEqualTo(Map.of("GetObject 200", (long) files + 2));
    for (int i = 0; i < files; i++) {
      assertThat(Files.readString(out.resolve("d" + i % 3 + "/f" + i))).isEqualTo("file " + i);
    }

    Digest gone = Digest.of("file 7".getBytes(UTF_8));
    try (var client = software.amazon.awssdk.services.s3.S3Client.builder()
        .httpClient(connector.sim.httpClient("test"))
        .endpointOverride(dev.coffer.s3sim.SimS3.ENDPOINT).forcePathStyle(true)
        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
        .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider
            .create(software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("sim",
                "sim")))
        .build()) {
      client.deleteObject(b -> b.bucket(SimConnector.BUCKET).key("blobs/sha256/" + gone.hex()));
    }
    Result missing = cli.run("get", "-q", "--no-cache", "-r", tree, "-o",
        tmp.resolve("out2").toString(), "--jobs", "4");
    assertThat(missing.code()).as(missing.stderr()).isEqualTo(ExitCode.NOT_FOUND.code);
    assertThat(missing.stderr()).contains(gone.hex());
  }

  /**
   * Issue 23: {@code get -r} hashes each file once, as S3's reader checks a read in order from 0
   * to the end against the digest (INT-2); it no longer hashes the bytes a second time as it writes
   * them. Bytes that do not match still fail the get with DataLoss and leave no file, not even a
   * temporary one.
   */
  @Test
  void getROfCorruptBytesFailsWithDataLossAndLeavesNoFile() throws Exception {
    Path src = tmp.resolve("build");
    write(src.resolve("good"), "good bytes");
    write(src.resolve("bad"), "bad  bytes");
    String tree = ok("put", "-q", "--no-cache", "-r", src.toString()).out().strip();
    Digest bad = Digest.of("bad  bytes".getBytes(UTF_8));
    try (var client = software.amazon.awssdk.services.s3.S3Client.builder()
        .httpClient(connector.sim.httpClient("test"))
        .endpointOverride(dev.coffer.s3sim.SimS3.ENDPOINT).forcePathStyle(true)
        .region(software.amazon.awssdk.regions.Region.US_EAST_1)
        .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider
            .create(software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create("sim",
                "sim")))
        .build()) {
      client.putObject(b -> b.bucket(SimConnector.BUCKET).key("blobs/sha256/" + bad.hex()),
          software.amazon.awssdk.core.sync.RequestBody.fromString("BAD  BYTES"));
    }
    Path out = tmp.resolve("out");
    Result get = cli.run("get", "-q", "--no-cache", "-r", tree, "-o", out.toString());
    assertThat(get.code()).as(get.stderr()).isEqualTo(ExitCode.DATA_LOSS.code);
    assertThat(get.stderr()).contains(bad.hex());
    try (var left = Files.list(out)) {
      assertThat(left.map(p -> p.getFileName().toString())).doesNotContain("bad")
          .noneMatch(n -> n.contains(".coffer-"));
    }
  }

  /**
   * {@code put -r} keeps each file's digest in {@code trees/} of the cache's directory (0700, the
   * file 0600), unless {@code --no-cache}; a truncated index is ignored without a word (HashIndex;
   * that an unchanged file is not read again is counted in HashIndexTest).
   */
  @Test
  void putRKeepsAHashIndexInTheCacheDirectoryAndIgnoresATruncatedOne() throws Exception {
    Path src = buildOf(5);
    Path cache = tmp.resolve("cache");
    ok("put", "-q", "--no-cache", "--cache-dir", cache.toString(), "-r", src.toString());
    assertThat(cache.resolve("trees")).doesNotExist();

    String tree = ok("put", "-q", "--cache-dir", cache.toString(), "-r", src.toString()).out()
        .strip();
    Path index;
    try (var files = Files.list(cache.resolve("trees"))) {
      index = files.collect(java.util.stream.Collectors.toList()).get(0);
    }
    assertThat(Files.getPosixFilePermissions(cache.resolve("trees")))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.getPosixFilePermissions(index))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.readString(index)).contains("\"d/f4\"", src.toAbsolutePath().toString());

    byte[] whole = Files.readAllBytes(index);
    Files.write(index, java.util.Arrays.copyOf(whole, whole.length / 2));
    Result again = ok("put", "-q", "--cache-dir", cache.toString(), "-r", src.toString());
    assertThat(again.out().strip()).isEqualTo(tree);
    assertThat(again.stderr()).isEmpty();
    assertThat(Files.readString(index)).as("written whole again").contains("\"d/f4\"")
        .endsWith("]]}");
  }

  /**
   * {@code put -r} keeps the tree blobs it writes in {@code tree-blobs/} beside its hash indexes,
   * each its blob's bytes (a later put over one reads only its record); {@code --no-cache} keeps
   * none.
   */
  @Test
  void putRKeepsTheTreeBlobsItWritesBesideItsHashIndexes() throws Exception {
    Path src = buildOf(8);
    Path cache = tmp.resolve("cache");
    String base = ok("put", "-q", "--cache-dir", cache.toString(), "-r", src.toString()).out()
        .strip();
    write(src.resolve("d/f0"), "file 0, changed");
    String delta = ok("put", "-q", "--cache-dir", cache.toString(), "-r", src.toString(),
        "--base", base).out().strip();

    Path kept = cache.resolve("tree-blobs");
    assertThat(Files.getPosixFilePermissions(kept))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    for (String tree : List.of(base, delta)) {
      Path blob = kept.resolve(Digest.parse(tree).hex());
      assertThat(Digest.of(Files.readAllBytes(blob))).isEqualTo(Digest.parse(tree));
      assertThat(Files.getPosixFilePermissions(blob))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }
    assertThat(ok("diff", base, delta).out().lines()).containsExactly("M\td/f0");

    Path other = tmp.resolve("other-cache");
    ok("put", "-q", "--no-cache", "--cache-dir", other.toString(), "-r", src.toString(),
        "--base", base);
    assertThat(other.resolve("tree-blobs")).doesNotExist();
  }

  /**
   * Issue 23: a second upload with 1 % of the files changed, as a delta over the first upload's
   * tree, costs requests for the changed files and a constant: the base's two reads, the delta's
   * commit, each changed file's object and record created with its link's mark (no lookup: a
   * small file is sent), linkNew's read of the base (another host's put wrote it), the marked
   * reference of the base and its tags, the unmarking of the three targets, a write of the
   * delta's record for each linkNew, the caller's reference: 18 requests for 2 changed files of
   * 200 when the base is linked by a linkNew of its own, made while the files are stored, and the
   * two files by one more (GetObject 200 3, PutObject 200 13, PutObjectTagging 2; 19 when the
   * draw of the links' operation read the delta's record, 17 when the base waited to be linked
   * with the files by one linkNew, 4 more when the files were marked by linkNew's step 2 too), 1
   * more for a third linkNew (a write of the delta's record) when the files are linked as they
   * are stored: the files'
   * records and the delta's are not read by linkNew nor by the reference, since this host wrote
   * them last (PROTO-14); 26 when they were (GetObject 8), 28 with a lookup of each changed file
   * as well. The same upload as a full tree looks up
   * and links every file again: more than 4 requests a file.
   */
  @Test
  void aPutOverABaseTreeCostsRequestsForTheChangedFilesOnly() throws Exception {
    Path src = tmp.resolve("build");
    int files = 200;
    for (int i = 0; i < files; i++) {
      write(src.resolve("d" + i % 10 + "/f" + i), "file " + i);
    }
    String base = ok("put", "-q", "--no-cache", "-r", src.toString(), "--jobs", "16").out().strip();
    connector.logged(connector.host);
    for (int i = 0; i < files; i += 100) {
      write(src.resolve("d" + i % 10 + "/f" + i), "changed " + i);
    }

    Result delta = ok("put", "--no-cache", "-r", src.toString(), "--base", base, "--jobs", "16");
    Map<String, Long> deltaRequests = connector.logged(connector.host);
    long linkNewCalls = treeRecordWrites(delta.out().strip()) - 2;
    Result full = ok("put", "--no-cache", "-r", src.toString(), "--jobs", "16");
    Map<String, Long> fullRequests = connector.logged(connector.host);

    assertThat(delta.stderr()).contains("stored 200 files, 1496 bytes; new 2 files, 20 bytes");
    long deltaTotal = deltaRequests.values().stream().mapToLong(Long::longValue).sum();
    long fullTotal = fullRequests.values().stream().mapToLong(Long::longValue).sum();
    assertThat(linkNewCalls).as("the base alone, then the 2 files, at once or as stored")
        .isBetween(2L, 3L);
    assertThat(deltaTotal).as(deltaRequests.toString()).isEqualTo(16 + linkNewCalls);
    assertThat(fullTotal).as(fullRequests.toString()).isGreaterThan(4L * files);
    JsonNode info = ok("info", "--json", delta.out().strip()).json();
    assertThat(info.get("links")).hasSize(3); // the base and the two changed files
    // Restored, the delta is the directory: every file's bytes.
    Path out = tmp.resolve("out");
    ok("get", "-r", delta.out().strip(), "-o", out.toString());
    for (int i = 0; i < files; i++) {
      assertThat(Files.readString(out.resolve("d" + i % 10 + "/f" + i)))
          .isEqualTo((i % 100 == 0 ? "changed " : "file ") + i);
    }
    assertThat(ok("diff", base, delta.out().strip()).out().lines())
        .containsExactly("M\td0/f0", "M\td0/f100");
    assertThat(ok("diff", full.out().strip(), delta.out().strip()).out()).isEmpty();
    Result notRecursive = cli.run("put", src.resolve("d0/f0").toString(), "--base", base);
    assertThat(notRecursive.code()).isEqualTo(ExitCode.INVALID_ARGUMENT.code);
    assertThat(notRecursive.stderr()).contains("--base", "needs -r");
  }

  @Test
  void aPutRInterruptedWhileLinkingIsFinishedByARerunOnS3() throws Exception {
    Path src = tmp.resolve("build");
    int files = 24;
    for (int i = 0; i < files; i++) {
      write(src.resolve("f" + i), "content " + i);
    }
    AtomicInteger links = new AtomicInteger();
    Cli failing = new Cli((settings, notices) -> {
      ContentStore store = connector.open(settings, notices);
      return (ContentStore) Proxy.newProxyInstance(ContentStore.class.getClassLoader(),
          new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
            if (method.getName().equals("newLinks")) {
              // Plain links through this proxy, so that the cut below reaches them; the marks
              // made at creation by a put cut short are TreesTest's and TreePutKillIT's.
              Digest from = (Digest) args[0];
              ContentStore self = (ContentStore) proxy;
              return new NewLinks() {
                @Override
                public Digest from() {
                  return from;
                }

                @Override
                public Info put(byte[] content, Digest expected, Map<String, String> labels) {
                  return self.put(content, expected, labels);
                }

                @Override
                public Info putFile(Path file, Digest expected, Map<String, String> labels)
                    throws IOException {
                  return self.putFile(file, expected, labels);
                }

                @Override
                public void link(Collection<Digest> to) {
                  self.linkNew(to, from);
                }
              };
            }
            if (method.getName().equals("linkNew") && links.incrementAndGet() > 2) {
              // 24 files, --jobs 1: at most 8 stored and not linked, so 3 linkNew calls at least
              throw new UnavailableException("link refused: the put is cut off here");
            }
            try {
              return method.invoke(store, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
    });
    Result cut = failing.run("put", "-r", src.toString(), "--jobs", "1");
    assertThat(cut.code()).as(cut.stderr()).isEqualTo(ExitCode.UNAVAILABLE.code);

    String tree = ok("put", "-r", src.toString()).out().strip();
    JsonNode info = ok("info", "--json", tree).json();
    assertThat(info.get("refCount").asLong()).isEqualTo(1); // TREE-3: the rerun's, only
    assertThat(info.get("links")).hasSize(files);
    for (int i = 0; i < files; i++) {
      String file = Digest.of(("content " + i).getBytes(UTF_8)).toString();
      assertThat(ok("info", "--json", file).json().get("refCount").asLong()).as(file).isEqualTo(1);
    }
    ok("deref", tree);
    for (int i = 0; i < files; i++) {
      String file = Digest.of(("content " + i).getBytes(UTF_8)).toString();
      assertThat(cli.run("info", file).code()).isEqualTo(ExitCode.NOT_FOUND.code);
    }
  }

  /**
   * The mark at creation (TREE-3, PROTO-13): a {@code put -r} stopped before its first link (as
   * one killed there) leaves each file it stored created holding its link's marked reference,
   * count 1, which no link holds; gc within the bound keeps it, gc past the bound gives it back
   * (count 0, no mark left), and a rerun then ends with the counts of an uninterrupted put.
   * Stored at count 0 and marked by linkNew's step 2, as before, the files were at 0 here.
   */
  @Test
  void aPutRStoppedBeforeItsLinkLeavesItsFilesMarkedUntilGcPastTheBoundGivesThemBack()
      throws Exception {
    Path src = tmp.resolve("build");
    int files = 12;
    for (int i = 0; i < files; i++) {
      write(src.resolve("f" + i), "content " + i);
    }
    Cli stopped = new Cli((settings, notices) -> {
      ContentStore store = connector.open(settings, notices);
      return (ContentStore) Proxy.newProxyInstance(ContentStore.class.getClassLoader(),
          new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
            if (method.getName().equals("newLinks")) {
              NewLinks links = store.newLinks((Digest) args[0]);
              return new NewLinks() {
                @Override
                public Digest from() {
                  return links.from();
                }

                @Override
                public Info put(byte[] content, Digest expected, Map<String, String> labels) {
                  return links.put(content, expected, labels);
                }

                @Override
                public Info putFile(Path file, Digest expected, Map<String, String> labels)
                    throws IOException {
                  return links.putFile(file, expected, labels);
                }

                @Override
                public void link(Collection<Digest> to) {
                  throw new UnavailableException("the put is cut off before its link");
                }
              };
            }
            try {
              return method.invoke(store, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
    });
    Result cut = stopped.run("put", "-r", src.toString(), "--jobs", "1");
    assertThat(cut.code()).as(cut.stderr()).isEqualTo(ExitCode.UNAVAILABLE.code);

    List<String> stored = new ArrayList<>();
    for (int i = 0; i < files; i++) {
      String file = Digest.of(("content " + i).getBytes(UTF_8)).toString();
      Result info = cli.run("info", "--json", file);
      if (info.code() == 0) {
        assertThat(info.json().get("refCount").asLong()).as("%s: created marked", file)
            .isEqualTo(1);
        stored.add(file);
      }
    }
    assertThat(stored).as("at most 8 x jobs stored and not linked").hasSizeBetween(1, 8);
    ok("gc");
    for (String file : stored) {
      assertThat(ok("info", "--json", file).json().get("refCount").asLong())
          .as("%s: within the bound", file).isEqualTo(1);
    }
    connector.clock.advance(Duration.ofMinutes(12)); // past pendingLinkBound(), 11.5 minutes
    ok("gc");
    for (String file : stored) {
      assertThat(ok("info", "--json", file).json().get("refCount").asLong())
          .as("%s: its mark given back", file).isZero();
    }

    String tree = ok("put", "-r", src.toString()).out().strip();
    assertThat(ok("info", "--json", tree).json().get("refCount").asLong()).isEqualTo(1);
    assertThat(ok("info", "--json", tree).json().get("links")).hasSize(files);
    for (int i = 0; i < files; i++) {
      String file = Digest.of(("content " + i).getBytes(UTF_8)).toString();
      assertThat(ok("info", "--json", file).json().get("refCount").asLong()).as(file)
          .isEqualTo(1);
    }
  }

  private static String mode(Path p) throws Exception {
    String s = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    int m = 0;
    for (char c : s.toCharArray()) {
      m = (m << 1) | (c == '-' ? 0 : 1);
    }
    return String.format("%04o", m);
  }

}
