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
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import dev.coffer.store.tree.Tree;
import dev.coffer.store.tree.Trees;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
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
  private S3StoreConfig config;
  private ContentStore store;
  private Map<String, String> env;

  @BeforeEach
  void setUp() {
    S3Endpoint server = S3Endpoint.embedded(); // atomic writes, as S3: a kill cuts no object short
    bucket = server.newBucket();
    prefix = server.newPrefix();
    plain = server.client();
    config = server.config(bucket, prefix).deletionGrace(Duration.ZERO).build();
    store = S3Stores.open(config);
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

  /**
   * A store on the same bucket whose clock is {@code ahead} in the future: its gc resolves what
   * a killed put's linkNew left marked once older than the bound (TREE-3), without waiting.
   */
  private ContentStore later(Duration ahead) {
    return S3Stores.open(config.toBuilder()
        .clock(Clock.offset(Clock.systemUTC(), ahead)).build());
  }

  private Duration pastTheBound() {
    return config.pendingLinkBound().plusSeconds(1);
  }

  @Test
  void aPutKilledWhileStoringFilesIsFinishedByARerunWithExactCountsAndGcReclaimsAll()
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
    // What the kill left: the tree (committed first, at count 0) and its links, each at count 1;
    // a stored file the tree does not link is one the kill cut before its link, at count 1 if
    // created with its link's marked reference (a file put in one step) or marked by linkNew's
    // step 2, else at count 0.
    Set<Digest> linked = store.info(uninterrupted).links();
    assertThat(store.info(uninterrupted).refCount()).as("nobody holds the killed put's tree")
        .isZero();
    Set<Digest> cut = new LinkedHashSet<>();
    long stored = 0;
    long unrecorded = 0; // an object whose record the kill prevented: content without a record
    for (Digest d : files(expected)) {
      Long count = refCount(d);
      if (count != null) {
        stored++;
        if (linked.contains(d)) {
          assertThat(count).as("file %s: its link's reference", d).isEqualTo(1);
        } else {
          assertThat(count).as("file %s: stored, maybe marked", d).isBetween(0L, 1L);
          cut.add(d);
        }
      } else if (exists(prefix + "blobs/sha256/" + d.hex())) {
        unrecorded++;
      }
    }
    assertThat(cut.size() + unrecorded)
        .as("at most max(8 x jobs, jobs + linked / 16) stored or being stored and not linked"
            + " (--jobs 2, %d linked)", linked.size())
        .isLessThanOrEqualTo(Math.max(16, 2 + linked.size() / 16));
    assertThat(storedBeforeRerun).as("the tree and the files stored").isEqualTo(
        1 + stored + unrecorded);

    Digest tree = Digest.parse(coffer("put", "-q", "-r", src.toString()));

    assertThat(tree).as("TREE-1: the tree of the uninterrupted put").isEqualTo(uninterrupted);
    Info info = store.info(tree);
    assertThat(info.refCount()).as("TREE-2: the rerun's reference, only").isEqualTo(1);
    assertThat(info.links()).containsExactlyInAnyOrderElementsOf(files(expected));
    try (ContentStore later = later(pastTheBound())) {
      later.gc(GC); // gives back a reference the killed put marked and never linked
      for (Digest d : files(expected)) {
        assertThat(later.info(d).refCount()).as("file %s: its one link", d).isEqualTo(1);
      }
      Path out = tmp.resolve("out");
      coffer("get", "-q", "-r", tree.toString(), "-o", out.toString());
      for (Tree.Entry e : expected.files()) {
        assertThat(Digest.of(Files.readAllBytes(out.resolve(e.path())))).isEqualTo(e.digest());
      }

      later.deref(tree);
      assertThat(later.gc(GC).blobsPurged()).isEqualTo(FILES + 1);
    }
    assertThat(keys("blobs/")).as("everything reclaimed").isZero();
    assertThat(keys("index/")).isZero();
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
    // stored and linked as a pipeline (one linkNew at a time).
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
    // A file is linked (count 1), or one the kill cut before its link (stored at count 0, or 1 if
    // marked for a link never made), or not stored.
    Set<Digest> cut = new LinkedHashSet<>();
    long unrecorded = 0; // an object whose record the kill prevented: content without a record
    for (Digest d : files(expected)) {
      Long count = refCount(d);
      if (count != null) {
        if (linked.contains(d)) {
          assertThat(count).as("file %s: its link's reference", d).isEqualTo(1);
        } else {
          assertThat(count).as("file %s: stored, maybe marked", d).isBetween(0L, 1L);
          cut.add(d);
        }
      } else {
        assertThat(linked).as("a linked file is stored").doesNotContain(d);
        if (exists(prefix + "blobs/sha256/" + d.hex())) {
          unrecorded++;
        }
      }
    }
    assertThat(cut.size() + unrecorded)
        .as("at most max(8 x jobs, jobs + linked / 16) stored or being stored and not linked"
            + " (--jobs 2, %d linked)", linked.size())
        .isLessThanOrEqualTo(Math.max(16, 2 + linked.size() / 16));
    assertThat(keys("blobs/")).as("the tree, its linked files and the files cut before their links")
        .isEqualTo(1 + linked.size() + cut.size() + unrecorded);

    store.ref(tree);
    store.deref(tree); // to zero: the tree goes, and each of its links releases its file
    for (Digest d : linked) {
      assertThatThrownBy(() -> store.info(d)).as("released with the tree: %s", d)
          .isInstanceOf(NotFoundException.class);
    }
    try (ContentStore later = later(pastTheBound())) {
      assertThat(later.gc(GC).blobsPurged()).as("the tree and each file it linked")
          .isEqualTo(1 + linked.size());
      for (Digest d : cut) {
        assertThat(later.info(d).refCount()).as("a marked reference given back: %s", d)
            .isZero();
      }
    }
    // What the kill cut before its links is held by nothing: retention expires it (gc by last
    // use), and a repair removes an object stored without its record.
    try (ContentStore later = later(Duration.ofDays(3))) {
      GcOptions byUse = new GcOptions(Duration.ofDays(1), false, Duration.ofDays(1),
          GcOptions.NO_LIMIT);
      later.gc(byUse);
      later.gc(byUse);
      later.fsck(true);
    }
    assertThat(keys("index/")).as("nothing left that gc cannot reclaim").isZero();
    assertThat(keys("blobs/")).isZero();
  }
}
