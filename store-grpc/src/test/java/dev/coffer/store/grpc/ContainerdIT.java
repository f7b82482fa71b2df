package dev.coffer.store.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Digest;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Real containerd (Debian's package, installed when missing and running as root) with the builtin
 * content store disabled and Coffer as its content proxy plugin. Every check goes through
 * {@code ctr}; the transcript is printed.
 *
 * <p>The steps share one store and two hosts over it, each a containerd daemon with its own Coffer
 * server (its own holder), and run in order. Host a's garbage collection must leave what host b
 * holds, and what was stored outside containerd.
 *
 * <p>{@code -Dcoffer.it.openReaders=N} sets the servers' open readers (0: a reader per Read call),
 * to compare read paths.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class ContainerdIT {

  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);
  private static final String IMAGE_BASE = "docker.io/coffer/e2e";
  private static final String IMAGE_TAG = "1.0";

  /** The servers' open readers, from {@code -Dcoffer.it.openReaders}. */
  protected static final int OPEN_READERS = Integer.getInteger("coffer.it.openReaders",
      ContentServer.OPEN_READERS_DEFAULT);

  private Path dir;
  private ContentStore store;
  private final List<AutoCloseable> servers = new ArrayList<>();
  private final List<Process> daemons = new ArrayList<>();
  private Path hostA;
  private Path hostB;

  // Facts one step leaves to a later one.
  private byte[] ingested;
  private Digest ingestedDigest;
  private OciImage image;
  private Digest onlyOnBDigest;
  private byte[] outside;
  private Digest outsideDigest;

  /** The 64 MiB layer of the throughput step, and the median time of containerd reading it. */
  protected Digest layerDigest;
  protected long containerdReadNanos;

  /**
   * The store the checks inspect, which containerd uses through Coffer; override to run the same
   * checks on another one.
   */
  protected ContentStore createStore() {
    return MemoryStores.open();
  }

  /**
   * Starts the Coffer server of one host's containerd on {@code socket}, as holder {@code holder},
   * over {@code store} or over the same data; the default serves {@code store} in this JVM with its
   * holds under {@code home}.
   */
  protected AutoCloseable startServer(ContentStore store, Path socket, String holder, Path home)
      throws Exception {
    return ContentServer.builder(store).unixSocket(socket).holderId(holder)
        .holdDirectory(home.resolve("holds"))
        .openReaders(OPEN_READERS).shutdownGrace(Duration.ofSeconds(2)).build().start();
  }

  /**
   * Stores {@code bytes} outside containerd, as the CLI does (a plain commit, no reference); the
   * default writes to {@code store}.
   */
  protected void storeOutsideContainerd(ContentStore store, byte[] bytes, Path file)
      throws Exception {
    Digest d = Digest.of(bytes);
    try (var writer = store.writer("outside-" + d.hex(), dev.coffer.store.Descriptor.of(d,
        bytes.length))) {
      writer.write(bytes);
      writer.commit(bytes.length, d, null);
    }
  }

  /**
   * Asserts that the store deleted {@code digests}, after the last host released them; the default
   * checks that their info is NotFound.
   */
  protected void assertDeleted(ContentStore store, List<Digest> digests) throws Exception {
    for (Digest d : digests) {
      assertThatThrownBy(() -> store.info(d)).as("deleted %s", d)
          .isInstanceOf(NotFoundException.class);
    }
  }

  @BeforeAll
  void start() throws Exception {
    ensureContainerd();
    dir = Files.createTempDirectory("coffer-containerd");
    store = createStore();
    hostA = startContainerd("a");
  }

  @AfterAll
  void stop() throws Exception {
    for (Process daemon : daemons) {
      stopProcess(daemon);
    }
    for (AutoCloseable server : servers) {
      server.close();
    }
    if (store != null) {
      store.close();
    }
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  @Test
  @Order(1)
  void ingestOfALabelledBlobAndGetReturnTheSameBytes() throws Exception {
    ingested = randomBytes(200_000, 1);
    ingestedDigest = Digest.of(ingested);
    Path file = Files.write(dir.resolve("blob"), ingested);

    ctr(hostA).stdin(file).run("content", "ingest", "--expected-size",
        String.valueOf(ingested.length), "--expected-digest", ingestedDigest.toString(),
        "e2e-blob");
    // The label lives in containerd's metadata; it keeps the blob from its garbage collector.
    ctr(hostA).run("content", "label", ingestedDigest.toString(),
        "containerd.io/gc.root=" + Instant.now());
    ctr(hostA).run("content", "ls");

    assertThat(store.info(ingestedDigest).size()).isEqualTo(ingested.length);
    assertThat(ctr(hostA).quiet().run("content", "get", ingestedDigest.toString()).stdout)
        .isEqualTo(ingested);
    assertThat(store.listStatuses()).isEmpty();
  }

  @Test
  @Order(2)
  void importOfAnOciTarballStoresEveryBlob() throws Exception {
    image = OciImage.build(dir.resolve("image"), IMAGE_TAG, 3);
    ctr(hostA).run("images", "import", "--base-name", IMAGE_BASE, "--no-unpack",
        image.tarball.toString());
    ctr(hostA).run("images", "ls");
    String check = ctr(hostA).run("images", "check").text();
    assertThat(check).contains(IMAGE_BASE + ":" + IMAGE_TAG).contains("complete");

    for (Digest d : List.of(image.layer, image.config, image.manifest)) {
      assertThat(store.info(d).size()).as("stored %s", d).isPositive();
    }
  }

  @Test
  @Order(3)
  void exportReturnsByteIdenticalBlobs() throws Exception {
    assertExportMatches(hostA, "exported-a");
  }

  /** Exports the image from {@code host} and compares each blob with the original (cmp). */
  private void assertExportMatches(Path host, String name) throws Exception {
    Path exported = dir.resolve(name + ".tar");
    ctr(host).run("images", "export", exported.toString(), IMAGE_BASE + ":" + IMAGE_TAG);
    Path unpacked = Files.createDirectories(dir.resolve(name));
    run(List.of("tar", "-C", unpacked.toString(), "-xf", exported.toString()), null, false);

    for (Digest d : List.of(image.layer, image.config, image.manifest)) {
      Path blob = unpacked.resolve("blobs").resolve(d.algorithm().label()).resolve(d.hex());
      Result cmp = run(List.of("cmp", blob.toString(), image.blob(d).toString()), null, false);
      System.out.println("$ cmp " + dir.relativize(blob) + " " + dir.relativize(image.blob(d))
          + " -> exit " + cmp.exit);
      assertThat(cmp.exit).as("cmp of exported %s: %s", d, cmp.text()).isZero();
      assertThat(Files.readAllBytes(blob)).as("exported %s", d)
          .isEqualTo(Files.readAllBytes(image.blob(d)));
    }
  }

  @Test
  @Order(4)
  void aSecondContainerdOnTheSameStoreSeesTheBlobs() throws Exception {
    hostB = startContainerd("b");
    // Host b's metadata does not know the blob yet: an ingest with the expected digest finds it
    // in the shared store, reports it fully written and records it. The source is zeros of the
    // right length: had containerd read a byte of it, the digest check would fail.
    Path zeros = Files.write(dir.resolve("zeros"), new byte[ingested.length]);
    ctr(hostB).stdin(zeros).run("content", "ingest", "--expected-size",
        String.valueOf(ingested.length), "--expected-digest", ingestedDigest.toString(),
        "e2e-blob-on-b");
    ctr(hostB).run("content", "label", ingestedDigest.toString(),
        "containerd.io/gc.root=" + Instant.now());
    assertThat(ctr(hostB).quiet().run("content", "get", ingestedDigest.toString()).stdout)
        .isEqualTo(ingested);

    // A blob only host b knows, held there by a gc.root label: see the next step.
    byte[] onlyOnB = randomBytes(10_000, 2);
    onlyOnBDigest = Digest.of(onlyOnB);
    ctr(hostB).stdin(Files.write(dir.resolve("only-on-b"), onlyOnB)).run("content", "ingest",
        "--expected-digest", onlyOnBDigest.toString(), "e2e-only-on-b");
    ctr(hostB).run("content", "label", onlyOnBDigest.toString(),
        "containerd.io/gc.root=" + Instant.now());
    assertThat(store.info(onlyOnBDigest).size()).isEqualTo(onlyOnB.length);

    // Host b imports the image host a imported: every blob is stored already, so b holds it.
    ctr(hostB).run("images", "import", "--base-name", IMAGE_BASE, "--no-unpack",
        image.tarball.toString());
    assertThat(ctr(hostB).run("images", "check").text())
        .contains(IMAGE_BASE + ":" + IMAGE_TAG).contains("complete");

    // A blob stored outside containerd: no containerd holds it.
    outside = randomBytes(30_000, 3);
    outsideDigest = Digest.of(outside);
    storeOutsideContainerd(store, outside, Files.write(dir.resolve("outside"), outside));
    assertThat(store.info(outsideDigest).size()).isEqualTo(outside.length);
  }

  @Test
  @Order(5)
  void oneHostsImageRemovalLeavesWhatTheOtherHolds() throws Exception {
    ctr(hostA).run("images", "rm", "--sync", IMAGE_BASE + ":" + IMAGE_TAG);
    assertThat(ctr(hostA).run("images", "ls", "-q").text()).doesNotContain(IMAGE_BASE);

    // Host a's collector asked to delete every blob its metadata no longer knows; host b holds
    // the image and the blob only it knows, and nobody's collection touches the outside blob.
    for (Digest d : List.of(image.layer, image.config, image.manifest, onlyOnBDigest,
        ingestedDigest, outsideDigest)) {
      assertThat(store.info(d).size()).as("kept %s", d).isPositive();
    }
    assertThat(ctr(hostB).quiet().run("content", "get", image.layer.toString()).stdout)
        .isEqualTo(Files.readAllBytes(image.blob(image.layer)));
    assertExportMatches(hostB, "exported-b");
    assertThat(Content.readBlob(store, dev.coffer.store.Descriptor.of(outsideDigest)))
        .isEqualTo(outside);
  }

  @Test
  @Order(6)
  void theLastHostsImageRemovalDeletesItsBlobsFromTheStore() throws Exception {
    ctr(hostB).run("images", "rm", "--sync", IMAGE_BASE + ":" + IMAGE_TAG);

    assertDeleted(store, List.of(image.layer, image.config, image.manifest));
    // Still held: labelled on both hosts, or on b; and the outside blob.
    for (Digest d : List.of(ingestedDigest, onlyOnBDigest, outsideDigest)) {
      assertThat(store.info(d).size()).as("kept %s", d).isPositive();
    }
    assertThat(ctr(hostA).quiet().run("content", "get", ingestedDigest.toString()).stdout)
        .isEqualTo(ingested);
  }

  @Test
  @Order(7)
  void readThroughputOfA64MiBLayer() throws Exception {
    byte[] layer = randomBytes(64 << 20, 64);
    Digest d = Digest.of(layer);
    Path file = Files.write(dir.resolve("layer-64m"), layer);
    layer = null; // keep the heap for the store's copy

    long t0 = System.nanoTime();
    ctr(hostA).stdin(file).run("content", "ingest", "--expected-size",
        String.valueOf(64 << 20), "--expected-digest", d.toString(), "e2e-64m");
    long ingestNanos = System.nanoTime() - t0;
    ctr(hostA).run("content", "label", d.toString(), "containerd.io/gc.root=" + Instant.now());
    layerDigest = d;

    long[] runs = new long[3];
    for (int i = 0; i < runs.length; i++) {
      runs[i] = containerdRead(d);
    }
    containerdReadNanos = median(runs);

    long t2 = System.nanoTime();
    long direct = 0;
    try (ReaderAt reader = store.readerAt(d)) {
      ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
      int n;
      while ((n = reader.read(buffer.clear(), direct)) > 0) {
        direct += n;
      }
    }
    long directNanos = System.nanoTime() - t2;
    assertThat(direct).isEqualTo(64 << 20);

    System.out.printf(Locale.ROOT, "%n64 MiB layer (open readers %d; load %s): ingest through"
            + " containerd %.0f MiB/s (%d ms); ctr content get to /dev/null, median of %d: %.1f"
            + " MiB/s (runs %s); direct store read %.0f MiB/s (%d ms)%n%n",
        OPEN_READERS, loadAverage(), mibPerSecond(ingestNanos), ingestNanos / 1_000_000,
        runs.length, mibPerSecond(containerdReadNanos), rates(runs), mibPerSecond(directNanos),
        directNanos / 1_000_000);
  }

  /** Reads {@code d} through host a's containerd to /dev/null; returns the nanoseconds taken. */
  protected long containerdRead(Digest d) throws Exception {
    long t0 = System.nanoTime();
    ctr(hostA).discardStdout().run("content", "get", d.toString());
    return System.nanoTime() - t0;
  }

  protected static long median(long[] values) {
    long[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** The rates of 64 MiB read in each of {@code nanos}, as text. */
  protected static String rates(long[] nanos) {
    return java.util.Arrays.stream(nanos).mapToObj(n -> String.format(Locale.ROOT, "%.1f",
        mibPerSecond(n))).collect(java.util.stream.Collectors.joining(", "));
  }

  /** The machine's load averages (1, 5, 15 min), which the throughput figures depend on. */
  protected static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  protected static double mibPerSecond(long nanos) {
    return 64.0 / (nanos / 1e9);
  }

  // ---- containerd

  private static void ensureContainerd() throws Exception {
    if (onPath("containerd") && onPath("ctr")) {
      return;
    }
    String uid = run(List.of("id", "-u"), null, false).text().trim();
    Assumptions.assumeTrue(uid.equals("0"),
        "containerd/ctr are not installed and installing them needs root (uid " + uid + ")");
    System.out.println("containerd is missing: installing Debian's containerd package");
    for (List<String> command : List.of(List.of("apt-get", "update"),
        List.of("apt-get", "install", "-y", "containerd"))) {
      Result result;
      try {
        result = run(command, null, true);
      } catch (IOException e) {
        Assumptions.abort("containerd is not installed and " + command.get(0)
            + " cannot run: " + e.getMessage());
        return;
      }
      Assumptions.assumeTrue(result.exit == 0, () -> String.join(" ", command) + " failed (exit "
          + result.exit + "): " + tail(result.text() + result.stderr, 1000));
    }
    Assumptions.assumeTrue(onPath("containerd") && onPath("ctr"),
        "the containerd package installed no containerd/ctr on the PATH");
  }

  private static boolean onPath(String command) {
    for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(entry, command))) {
        return true;
      }
    }
    return false;
  }

  /** Starts a containerd daemon whose only content store is Coffer; returns its directory. */
  private Path startContainerd(String name) throws Exception {
    Path home = Files.createDirectories(dir.resolve(name));
    Path cofferSocket = home.resolve("coffer.sock");
    servers.add(startServer(store, cofferSocket, "host-" + name, home));
    Path config = home.resolve("config.toml");
    Files.writeString(config, """
        version = 2
        root = "%1$s/root"
        state = "%1$s/state"
        disabled_plugins = ["io.containerd.content.v1.content", "io.containerd.grpc.v1.cri", \
        "io.containerd.internal.v1.opt"]
        [grpc]
          address = "%1$s/containerd.sock"
        [proxy_plugins]
          [proxy_plugins.coffer]
            type = "content"
            address = "%2$s"
        """.formatted(home, cofferSocket));
    Process daemon = new ProcessBuilder("containerd", "--config", config.toString())
        .redirectErrorStream(true)
        .redirectOutput(home.resolve("containerd.log").toFile())
        .start();
    daemons.add(daemon);
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
        if (!daemon.isAlive()) {
          throw new AssertionError("containerd " + name + " exited " + daemon.exitValue() + ": "
              + tail(Files.readString(home.resolve("containerd.log")), 2000));
        }
        return Files.exists(home.resolve("containerd.sock"))
            && ctr(home).quiet().check(false).run("version").exit == 0;
      });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("containerd " + name + " did not answer within 30 s: "
          + tail(Files.readString(home.resolve("containerd.log")), 2000), e);
    }
    System.out.println("containerd " + name + " started with " + config);
    return home;
  }

  private static void stopProcess(Process process) {
    process.descendants().forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static Ctr ctr(Path host) {
    return new Ctr(host);
  }

  /** One {@code ctr} invocation against a host's containerd; prints the command and its output. */
  private static final class Ctr {
    private final Path host;
    private Path stdin;
    private boolean quiet;
    private boolean discardStdout;
    private boolean check = true;

    Ctr(Path host) {
      this.host = host;
    }

    Ctr stdin(Path file) {
      this.stdin = file;
      return this;
    }

    /** Does not print stdout (binary content). */
    Ctr quiet() {
      this.quiet = true;
      return this;
    }

    Ctr discardStdout() {
      this.discardStdout = true;
      return this;
    }

    Ctr check(boolean check) {
      this.check = check;
      return this;
    }

    Result run(String... args) throws IOException, InterruptedException {
      List<String> command = new ArrayList<>(List.of("ctr", "--address",
          host.resolve("containerd.sock").toString()));
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command);
      if (stdin != null) {
        builder.redirectInput(stdin.toFile());
      }
      if (discardStdout) {
        builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
      }
      Result result = execute(builder);
      if (check || result.exit == 0) {
        System.out.println("[" + host.getFileName() + "]$ ctr " + String.join(" ", args)
            + (stdin == null ? "" : " < " + stdin.getFileName())
            + (discardStdout ? " > /dev/null" : ""));
        if (!quiet && result.stdout.length > 0) {
          System.out.print(result.text());
        } else if (quiet) {
          System.out.println("(" + result.stdout.length + " bytes on stdout)");
        }
        if (!result.stderr.isEmpty()) {
          System.out.print(result.stderr);
        }
      }
      if (check && result.exit != 0) {
        throw new AssertionError("ctr " + String.join(" ", args) + " exited " + result.exit
            + ": " + result.stderr);
      }
      return result;
    }
  }

  // ---- processes

  private record Result(int exit, byte[] stdout, String stderr) {
    String text() {
      return new String(stdout, StandardCharsets.UTF_8);
    }
  }

  private static Result run(List<String> command, Path stdin, boolean print)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
    if (stdin != null) {
      builder.redirectInput(stdin.toFile());
    }
    Result result = execute(builder);
    if (print) {
      System.out.println("$ " + String.join(" ", command) + " -> exit " + result.exit);
    }
    return result;
  }

  private static Result execute(ProcessBuilder builder) throws IOException, InterruptedException {
    Process process = builder.start();
    try {
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread errReader = new Thread(() -> copy(process.getErrorStream(), err));
      errReader.start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (builder.redirectOutput().type() == ProcessBuilder.Redirect.Type.PIPE) {
        copy(process.getInputStream(), out);
      }
      if (!process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new AssertionError(builder.command() + " did not finish within " + COMMAND_TIMEOUT);
      }
      errReader.join();
      return new Result(process.exitValue(), out.toByteArray(),
          err.toString(StandardCharsets.UTF_8));
    } finally {
      stopProcess(process);
    }
  }

  private static void copy(java.io.InputStream in, OutputStream out) {
    try (in) {
      in.transferTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String tail(String text, int chars) {
    return text.length() <= chars ? text : "..." + text.substring(text.length() - chars);
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] bytes = new byte[n];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  // ---- a hand-built OCI image layout

  /** An OCI image layout with one gzip layer, written as a directory and as a tarball. */
  private record OciImage(Path layout, Path tarball, Digest layer, Digest config,
      Digest manifest) {

    Path blob(Digest d) {
      return layout.resolve("blobs").resolve(d.algorithm().label()).resolve(d.hex());
    }

    static OciImage build(Path dir, String tag, long seed) throws Exception {
      Path files = Files.createDirectories(dir.resolve("files"));
      Files.write(files.resolve("hello.bin"), randomBytes(50_000, seed));
      Files.writeString(files.resolve("hello.txt"), "hello from coffer\n");
      Path layerTar = dir.resolve("layer.tar");
      run(List.of("tar", "-C", files.toString(), "--owner=0", "--group=0", "--mtime=@0",
          "-cf", layerTar.toString(), "hello.bin", "hello.txt"), null, false);
      byte[] uncompressed = Files.readAllBytes(layerTar);
      ByteArrayOutputStream gz = new ByteArrayOutputStream();
      try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
        out.write(uncompressed);
      }
      byte[] layer = gz.toByteArray();
      byte[] config = """
          {"architecture":"amd64","os":"linux","config":{},\
          "rootfs":{"type":"layers","diff_ids":["%s"]}}"""
          .formatted(Digest.of(uncompressed)).getBytes(StandardCharsets.UTF_8);
      byte[] manifest = """
          {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
          "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},\
          "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s",\
          "size":%d}]}"""
          .formatted(Digest.of(config), config.length, Digest.of(layer), layer.length)
          .getBytes(StandardCharsets.UTF_8);
      byte[] index = """
          {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",\
          "manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",\
          "digest":"%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}"""
          .formatted(Digest.of(manifest), manifest.length, tag)
          .getBytes(StandardCharsets.UTF_8);

      Path layout = Files.createDirectories(dir.resolve("layout"));
      Path blobs = Files.createDirectories(layout.resolve("blobs").resolve("sha256"));
      for (byte[] blob : List.of(layer, config, manifest)) {
        Files.write(blobs.resolve(Digest.of(blob).hex()), blob);
      }
      Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
      Files.write(layout.resolve("index.json"), index);
      Path tarball = dir.resolve("image.tar");
      run(List.of("tar", "-C", layout.toString(), "-cf", tarball.toString(),
          "oci-layout", "index.json", "blobs"), null, false);
      return new OciImage(layout, tarball, Digest.of(layer), Digest.of(config),
          Digest.of(manifest));
    }
  }
}
