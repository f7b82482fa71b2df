package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.GcOptions;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.memory.MemoryStores;
import dev.coffer.store.s3.S3Stores;
import dev.coffer.store.tree.Tree;
import dev.coffer.store.tree.Trees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real kill of {@code coffer put -r} (TREE-3): the command runs in a child JVM against the embedded S3 server and
 * is killed ({@code destroyForcibly}) once the store shows it part-way, observed through the bucket,
 * never a sleep; then the put is run again, or abandoned and reclaimed.
 */
class TreePutKillIT {
  private static final int FILES = 150;
  private static final GcOptions GC = new GcOptions(Duration.ofDays(1), false);

  @TempDir
  Path tmp;
  private String bucket;
  private String prefix;
  private S3Client plain;
  private ContentStore store;
  private Map<String, String> env;

  @BeforeEach
  void setUp() {
    S3Endpoint server = S3Endpoint.embedded(); // atomic writes, as S3: a kill cuts no object short
    bucket = server.newBucket();
    prefix = server.newPrefix();
    plain = server.client();
    store = S3Stores.open(server.config(bucket, prefix).deletionGrace(Duration.ZERO)
        .build());
    var credentials = server.credentials().resolveCredentials();
    env = new HashMap<>(Map.of("HOME", tmp.toString(), "COFFER_BUCKET", bucket,
        "COFFER_PREFIX", prefix, "COFFER_ENDPOINT", server.endpoint().toString(),
        "COFFER_NO_CACHE", "1", "AWS_ACCESS_KEY_ID", credentials.accessKeyId(),
        "AWS_SECRET_ACCESS_KEY", credentials.secretAccessKey()));
  }

  @AfterEach
  void tearDown() {
    store.close();
    plain.close();
  }

  /** A directory of {@link #FILES} distinct files of 1 to 16 KiB in a few sub-directories. */
  private Path build() throws Exception {
    Path src = tmp.resolve("build");
    Random random = new Random(23);
    for (int i = 0; i < FILES; i++) {
      byte[] bytes = new byte[1024 + random.nextInt(15 * 1024)];
      random.nextBytes(bytes);
      Path file = src.resolve("d" + i % 5).resolve("f" + i + ".bin");
      Files.createDirectories(file.getParent());
      Files.write(file, bytes);
    }
    Files.createSymbolicLink(src.resolve("latest"), Path.of("d0/f0.bin"));
    return src;
  }

  private long keys(String under) {
    return plain.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix + under)).contents()
        .stream().count();
  }

  /** Starts {@code coffer ARGS} in a child JVM on this test's bucket and prefix. */
  private Process start(String output, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "dev.coffer.cli.Coffer"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    return builder.redirectErrorStream(true).redirectOutput(tmp.resolve(output).toFile())
        .start();
  }

  /** Starts {@code coffer put -r DIR --jobs 2}, to be killed. */
  private Process startPut(Path dir) throws Exception {
    return start("child.out", "put", "-q", "-r", dir.toString(), "--jobs", "2");
  }

  private void kill(Process child, String when) throws Exception {
    assertThat(child.isAlive()).as("the put is still running " + when + " (output: %s)",
        Files.exists(tmp.resolve("child.out")) ? Files.readString(tmp.resolve("child.out")) : "")
        .isTrue();
    child.destroyForcibly();
    assertThat(child.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(child.exitValue()).as("killed, not finished").isNotZero();
  }

  /** Runs {@code coffer ARGS} in a child JVM to its end; the exit code is checked, output returned. */
  private String coffer(String... args) throws Exception {
    Process child = start("run.out", args);
    assertThat(child.waitFor(3, TimeUnit.MINUTES)).as("coffer finished").isTrue();
    String out = Files.readString(tmp.resolve("run.out"));
    assertThat(child.exitValue()).as(out).isZero();
    return out.strip();
  }

  private boolean exists(String key) {
    try {
      plain.headObject(b -> b.bucket(bucket).key(key));
      return true;
    } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
      return false;
    }
  }

  /** The blob's reference count, or null if it has no record. */
  private Long refCount(Digest d) {
    try {
      return store.info(d).refCount();
    } catch (NotFoundException absent) {
      return null;
    }
  }

  private static Set<Digest> files(Tree tree) {
    Set<Digest> files = new LinkedHashSet<>();
    tree.files().forEach(e -> files.add(e.digest()));
    return files;
  }

  @Test
  void aPutKilledWhileStoringFilesIsFinishedByARerunWithNothingLostAndGcReclaimsAll()
      throws Exception {
    Path src = build();
    Tree expected;
    Digest uninterrupted;
    try (ContentStore memory = MemoryStores.open()) {
      uninterrupted = Trees.of(memory).put(src);
      expected = Trees.of(memory).list(uninterrupted);
    }

    Process child = startPut(src);
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> keys("blobs/") >= 30);
    kill(child, "after 30 files");
    long storedBeforeRerun = keys("blobs/");
    assertThat(storedBeforeRerun).as("stored before the kill").isBetween(30L, (long) FILES);
    // What the kill left: the tree (committed first, at count 0) and its links, and each file
    // stored (every file is below the one-step size, so stored with its reference); a stored
    // file the tree does not link was in the batch the kill cut between its references and its
    // linkAll, and keeps that reference (TREE-3's window).
    Set<Digest> linked = store.info(uninterrupted).links();
    assertThat(store.info(uninterrupted).refCount()).as("nobody holds the killed put's tree")
        .isZero();
    List<Digest> survivors = new ArrayList<>();
    Set<Digest> window = new LinkedHashSet<>();
    long unrecorded = 0; // an object whose record the kill prevented: content without a record
    for (Digest d : files(expected)) {
      Long count = refCount(d);
      if (count != null) {
        survivors.add(d);
        assertThat(count).as("file %s: its one reference", d).isEqualTo(1);
        if (!linked.contains(d)) {
          window.add(d);
        }
      } else if (exists(prefix + "blobs/sha256/" + d.hex())) {
        unrecorded++;
      }
    }
    assertThat(unrecorded).as("one batch at most").isLessThanOrEqualTo(2);
    assertThat(storedBeforeRerun).as("the tree and the files stored").isEqualTo(
        1 + survivors.size() + unrecorded);
    assertThat(window.size()).as("one batch at most (--jobs 2)").isLessThanOrEqualTo(2);

    Digest tree = Digest.parse(coffer("put", "-q", "-r", src.toString()));

    assertThat(tree).as("TREE-1: the tree of the uninterrupted put").isEqualTo(uninterrupted);
    Info info = store.info(tree);
    assertThat(info.refCount()).as("TREE-2: the rerun's reference, only").isEqualTo(1);
    assertThat(info.links()).containsExactlyInAnyOrderElementsOf(files(expected));
    // The rerun takes one reference on each file its tree does not link and links it: each file
    // is at count 1 but those of the cut batch, which keep the killed put's reference too.
    for (Digest d : files(expected)) {
      assertThat(store.info(d).refCount()).as("file %s", d)
          .isEqualTo(window.contains(d) ? 2 : 1);
    }
    long overCounted = window.size();
    assertThat(survivors).as("stored before the kill, kept").allSatisfy(
        d -> assertThat(store.info(d).size()).isPositive());
    Path out = tmp.resolve("out");
    coffer("get", "-q", "-r", tree.toString(), "-o", out.toString());
    for (Tree.Entry e : expected.files()) {
      assertThat(Digest.of(Files.readAllBytes(out.resolve(e.path())))).isEqualTo(e.digest());
    }

    store.deref(tree);
    assertThat(store.gc(GC).blobsPurged()).isEqualTo(FILES + 1 - overCounted);
    assertThat(keys("blobs/")).as("everything reclaimed but the window").isEqualTo(overCounted);
    assertThat(keys("index/")).isEqualTo(overCounted);
  }

  @Test
  void aPutKilledWhileLinkingLeavesAnUnheldTreeThatRefThenDerefAndGcReclaim() throws Exception {
    Path src = build();
    Digest tree;
    Tree expected;
    try (ContentStore memory = MemoryStores.open()) {
      tree = Trees.of(memory).put(src);
      expected = Trees.of(memory).list(tree);
    }
    String treeRecord = prefix + "index/sha256/" + tree.hex();

    Process child = startPut(src);
    // The tree is committed (at count 0) first, once every file is hashed: then the files are
    // stored and linked, a batch at a time.
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(10))
        .until(() -> exists(treeRecord));
    await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(10))
        .until(() -> store.info(tree).links().size() >= 10);
    kill(child, "while linking");

    Info left = store.info(tree);
    assertThat(left.refCount()).as("TREE-3: nobody holds a tree whose put never finished")
        .isZero();
    Set<Digest> linked = left.links();
    assertThat(linked.size()).isBetween(10, files(expected).size() - 1);
    // The files are stored a batch at a time after the tree, each with its reference (all are
    // below the one-step size): a file is linked, or in the batch the kill cut between its
    // references and its linkAll (stored at count 1, unlinked: TREE-3's window), or not stored.
    Set<Digest> window = new LinkedHashSet<>();
    long unrecorded = 0; // an object whose record the kill prevented: content without a record
    for (Digest d : files(expected)) {
      Long count = refCount(d);
      if (count != null) {
        assertThat(count).as("file %s: its one reference", d).isEqualTo(1);
        if (!linked.contains(d)) {
          window.add(d);
        }
      } else {
        assertThat(linked).as("a linked file is stored").doesNotContain(d);
        if (exists(prefix + "blobs/sha256/" + d.hex())) {
          unrecorded++;
        }
      }
    }
    assertThat(window.size() + unrecorded).as("one batch at most (--jobs 2)")
        .isLessThanOrEqualTo(2);
    assertThat(keys("blobs/")).as("the tree, its linked files and the cut batch")
        .isEqualTo(1 + linked.size() + window.size() + unrecorded);

    store.ref(tree);
    store.deref(tree); // to zero: the tree goes, and each of its links releases its file
    for (Digest d : linked) {
      assertThatThrownBy(() -> store.info(d)).as("released with the tree: %s", d)
          .isInstanceOf(NotFoundException.class);
    }
    for (Digest d : window) {
      assertThat(store.info(d).refCount()).as("the cut batch keeps its reference: %s", d)
          .isEqualTo(1);
    }
    assertThat(store.gc(GC).blobsPurged()).as("the tree and each file it linked")
        .isEqualTo(1 + linked.size());
    assertThat(keys("blobs/")).as("only the cut batch is left")
        .isEqualTo(window.size() + unrecorded);
    assertThat(keys("index/")).isEqualTo(window.size());
  }
}
