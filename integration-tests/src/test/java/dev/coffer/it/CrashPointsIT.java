package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Hosts killed (SIGKILL) at exact points of an ingest, a commit and a cascade, chosen at random
 * from a seed: during the part uploads, after the close before the commit, during the commit's
 * server-side copy (one CopyObject, or UploadPartCopy parts above the multipart-copy threshold),
 * around the index record write, during the ingest's cleanup, and in the middle of a cascade of
 * dereferences over a chain of links. A {@link CrashPointHost} child stops at the chosen request
 * and is killed there; then another store instance resumes the ingest (at exactly the offset the
 * dead host made durable, with the digest of those bytes) and commits it, or finishes the cascade
 * by fsck repair, gc and a second deref. After every point fsck finds nothing, gc with zero ingest
 * age leaves no ingest objects and no multipart uploads in the bucket, and every blob committed
 * so far is still there; no blob is visible before its index record was written.
 *
 * <p>{@code -Dcoffer.it.crashes=N} sets the number of points (default 10, at least one of each
 * kind), {@code -Dcoffer.it.crash.seed=S} replays a run (the seed is printed).
 */
class CrashPointsIT {
  private static final int PART = CrashPointHost.PART_SIZE;
  private static final int TAIL = 777_777;
  private static final int SIZE = 3 * PART + TAIL;
  private static final int CHAIN = 8;
  private static final long ONE_COPY = S3StoreConfig.MULTIPART_COPY_THRESHOLD_MAX;
  private static final long PART_COPIES = S3StoreConfig.MULTIPART_COPY_THRESHOLD_MIN;
  private static final GcOptions GC_NOW = new GcOptions(Duration.ZERO, false);
  private static final Pattern FACTS = Pattern.compile(
      "CRASH-POINT (\\S+) parts=\\[([0-9,]*)] done=\\{(\\S*)} inflight=(\\d+)");

  /** One place to kill a host: a kind, the child's mode and its trigger. */
  record Point(String kind, String mode, String trigger, long threshold) {
    @Override
    public String toString() {
      String copy = threshold == ONE_COPY ? " (CopyObject)" : " (UploadPartCopy)";
      return kind + " " + mode + " " + trigger + (mode.equals("deref") ? "" : copy);
    }

    int occurrence() {
      return Integer.parseInt(trigger.split(":")[2]);
    }
  }

  /** What the child printed at its crash point. */
  record Facts(Set<Integer> parts, Map<String, Integer> done, int inFlight) {
    int done(String key) {
      return done.getOrDefault(key, 0);
    }
  }

  private final List<ContentStore> stores = new ArrayList<>();
  private final Map<Digest, byte[]> committed = new LinkedHashMap<>();
  private final ObjectMapper json = new ObjectMapper();
  private String bucket;
  private String prefix;
  private S3Client plain;

  @BeforeEach
  void setUp() {
    bucket = S3Mock.get().newBucket();
    prefix = S3Mock.newPrefix();
    plain = S3Mock.get().client();
  }

  @AfterEach
  void tearDown() {
    stores.forEach(ContentStore::close);
    plain.close();
  }

  private ContentStore host(long threshold) {
    ContentStore store = S3Stores.open(S3Mock.get().config(bucket, prefix)
        .partSize(PART).copyPartSize(PART).multipartCopyThreshold(threshold)
        .leaseDuration(Duration.ofSeconds(1)).deletionGrace(Duration.ZERO)
        .transfer(S3StoreConfig.Transfer.JAVA_ASYNC).build());
    stores.add(store);
    return store;
  }

  /** A host as {@link #host} whose clock runs a day and a minute ahead of the others'. */
  private ContentStore dayLaterHost(long threshold) {
    ContentStore store = S3Stores.open(S3Mock.get().config(bucket, prefix)
        .partSize(PART).copyPartSize(PART).multipartCopyThreshold(threshold)
        .leaseDuration(Duration.ofSeconds(1)).deletionGrace(Duration.ZERO)
        .clock(Clock.offset(Clock.systemUTC(), Duration.ofDays(1).plusMinutes(1)))
        .transfer(S3StoreConfig.Transfer.JAVA_ASYNC).build());
    stores.add(store);
    return store;
  }

  static List<Point> catalogue() {
    List<Point> points = new ArrayList<>();
    for (String phase : List.of("BEFORE", "AFTER")) {
      for (int k = 1; k <= 3; k++) {
        points.add(new Point("part-upload", "commit", "UploadPart:ingest:" + k + ":" + phase,
            ONE_COPY));
        points.add(new Point("copy", "commit", "UploadPartCopy:blobs:" + k + ":" + phase,
            PART_COPIES));
      }
      points.add(new Point("copy", "commit", "CopyObject:blobs:1:" + phase, ONE_COPY));
      points.add(new Point("copy", "commit", "CompleteMultipartUpload:blobs:1:" + phase,
          PART_COPIES));
      for (long threshold : List.of(ONE_COPY, PART_COPIES)) {
        points.add(new Point("index-record", "commit", "PutObject:index:1:" + phase, threshold));
      }
      for (int k = 1; k <= 2; k++) {
        points.add(new Point("ingest-cleanup", "commit", "DeleteObject:ingest:" + k + ":" + phase,
            ONE_COPY));
      }
      points.add(new Point("commit", "commit", "CompleteMultipartUpload:ingest:1:" + phase,
          ONE_COPY));
      for (int k = 1; k <= CHAIN; k++) {
        points.add(new Point("cascade", "deref", "PutObject:index:" + k + ":" + phase, 0));
      }
    }
    points.add(new Point("after-close", "pause", CrashPointHost.AFTER_CLOSE, ONE_COPY));
    points.add(new Point("after-close", "pause", "GetObject:ingest:1:BEFORE", PART_COPIES));
    // The second look at the blob object: the first is the check of the copy (INT-5).
    points.add(new Point("ingest-cleanup", "commit", "HeadObject:blobs:2:AFTER", ONE_COPY));
    points.add(new Point("ingest-cleanup", "commit", "PutObjectTagging:blobs:1:BEFORE",
        PART_COPIES));
    points.add(new Point("commit", "commit", "GetObject:index:1:BEFORE", ONE_COPY));
    for (int k = 1; k <= CHAIN; k += 3) {
      points.add(new Point("cascade", "deref", "PutObjectTagging:blobs:" + k + ":BEFORE", 0));
    }
    return points;
  }

  /** {@code count} distinct points: one of each kind first, the rest at random. */
  static List<Point> choose(long seed, int count) {
    Random random = new Random(seed);
    List<Point> all = catalogue();
    Collections.shuffle(all, random);
    List<Point> chosen = new ArrayList<>();
    Set<String> kinds = new TreeSet<>();
    for (Point p : all) {
      if (kinds.add(p.kind())) {
        chosen.add(p);
      }
    }
    for (Point p : all) {
      if (chosen.size() >= Math.min(count, all.size())) {
        break;
      }
      if (!chosen.contains(p)) {
        chosen.add(p);
      }
    }
    Collections.shuffle(chosen, random);
    return chosen;
  }

  @Test
  void killedHostsLoseNoCommittedBlobAndTheirWorkIsResumedOrRepaired() throws Exception {
    long seed = Long.getLong("coffer.it.crash.seed", System.nanoTime());
    int count = Math.max(10, Integer.getInteger("coffer.it.crashes", 10));
    List<Point> points = choose(seed, count);
    System.out.printf("CrashPointsIT: %d crash points, seed %d (-Dcoffer.it.crash.seed=%d)%n",
        points.size(), seed, seed);
    points.forEach(p -> System.out.println("  " + p));
    assertThat(points.stream().map(Point::kind).distinct()).containsExactlyInAnyOrder(
        "part-upload", "after-close", "copy", "index-record", "ingest-cleanup", "commit",
        "cascade");
    Map<Point, String> outcomes = new LinkedHashMap<>();
    for (int i = 0; i < points.size(); i++) {
      Point point = points.get(i);
      long started = System.nanoTime();
      String outcome = point.mode().equals("deref") ? crashCascade(point, i)
          : crashIngest(point, i, seed * 31 + i);
      assertCleanAndNothingLost();
      outcomes.put(point, outcome + String.format(" [%d ms]",
          (System.nanoTime() - started) / 1_000_000));
      System.out.printf("CrashPointsIT: %d/%d %s -> %s%n", i + 1, points.size(), point,
          outcomes.get(point));
    }
    ContentStore reader = host(ONE_COPY);
    for (Map.Entry<Digest, byte[]> blob : committed.entrySet()) {
      assertThat(Digest.of(Content.readBlob(reader, Descriptor.of(blob.getKey()))))
          .as("bytes of %s at the end", blob.getKey()).isEqualTo(blob.getKey());
    }
    System.out.println("CrashPointsIT: summary (seed " + seed + ")");
    outcomes.forEach((p, o) -> System.out.println("  " + p + " -> " + o));
  }

  // ---- ingests

  private String crashIngest(Point point, int index, long blobSeed) throws Exception {
    byte[] bytes = S3StoreIT.random(SIZE, blobSeed);
    Digest digest = Digest.of(bytes);
    String ref = "crash-" + index;
    // Where gc runs before the resume (below), a longer lease keeps the ingest for the resume.
    boolean copyLeft = point.trigger().matches(
        "UploadPartCopy:blobs:.*|CompleteMultipartUpload:blobs:1:BEFORE");
    Duration lease = copyLeft ? Duration.ofSeconds(8) : CrashPointHost.LEASE;
    Facts facts = runChild(point, point.mode(), ref, Integer.toString(SIZE),
        Long.toString(blobSeed), Long.toString(point.threshold()),
        Long.toString(lease.toMillis()));

    ContentStore resumer = host(point.threshold());
    boolean recorded = facts.done("PutObject:index") > 0;
    if (recorded) {
      RefCountHosts.assertReadable(resumer, digest, bytes);
    } else {
      assertThatThrownBy(() -> resumer.info(digest)).as("info before the commit finished")
          .isInstanceOf(NotFoundException.class);
      assertThatThrownBy(() -> resumer.readerAt(digest)).as("read before the commit finished")
          .isInstanceOf(NotFoundException.class);
      List<Info> listed = new ArrayList<>();
      resumer.walk(listed::add, "digest==" + digest);
      assertThat(listed).as("walk before the commit finished").isEmpty();
    }
    String gcFirst = "";
    if (facts.done("CreateMultipartUpload:blobs") > facts.done("CompleteMultipartUpload:blobs")) {
      assertThat(copyLeft).as("a copy upload left by %s", point).isTrue();
      // The killed host left a multipart copy to the blob key. gc aborts it while the key holds
      // no blob (after a resume has stored the blob there it must leave it: S3Mock deletes the
      // object when an upload on its key is aborted), so a gc runs before the resume here. It
      // may also remove the ingest, if the killed host's lease has run out: the resume then
      // starts at 0.
      // gc aborts an upload to a blob key only once it is older than any put can last (a day,
      // PROTO-12): a host whose clock runs a day ahead sees the killed host's upload that old.
      GcReport report = dayLaterHost(point.threshold()).gc(GC_NOW);
      assertThat(report.uploadsAborted()).as("uploads gc aborted").isEqualTo(1);
      gcFirst = "; gc before the resume aborted its copy upload"
          + (report.ingestsRemoved() > 0 ? " and removed the expired ingest" : "");
    }
    long durable = durableOffset(ref, facts);

    Writer writer = Content.openWriter(resumer, ref, Descriptor.UNKNOWN, Duration.ofSeconds(60));
    long offset = writer.status().offset();
    assertThat(offset).as("offset after the kill at %s", point).isEqualTo(durable);
    assertThat(writer.digest()).as("digest after the kill at %s", point)
        .isEqualTo(Digest.of(Arrays.copyOf(bytes, (int) offset)));
    writer.write(bytes, (int) offset, SIZE - (int) offset);
    String outcome;
    if (recorded) {
      assertThatThrownBy(() -> writer.commit(SIZE, digest, CrashPointHost.LABELS))
          .as("commit of content the dead host committed")
          .isInstanceOf(AlreadyExistsException.class);
      outcome = "committed by the killed host; resumed at " + offset + ", AlreadyExists"
          + gcFirst;
    } else {
      writer.commit(SIZE, digest, CrashPointHost.LABELS);
      outcome = "resumed at " + offset + " of " + SIZE + ", committed by another host" + gcFirst;
    }
    Info info = resumer.info(digest);
    assertThat(info.size()).isEqualTo(SIZE);
    assertThat(info.labels()).isEqualTo(CrashPointHost.LABELS);
    assertThat(Digest.of(Content.readBlob(resumer, Descriptor.of(digest)))).isEqualTo(digest);
    committed.put(digest, bytes);
    return outcome;
  }

  /**
   * The offset the dead host made durable, from the ingest record it left and the parts it had
   * uploaded: none without a record; the consecutive parts from 1 while the record names an
   * upload (all of them once the upload was completed); the record's offset otherwise.
   */
  private long durableOffset(String ref, Facts facts) throws IOException {
    JsonNode state = ingestRecord(ref);
    if (state == null) {
      return 0;
    }
    if (state.hasNonNull("uploadId")) {
      if (facts.done("CompleteMultipartUpload:ingest") > 0) {
        return SIZE;
      }
      long offset = 0;
      for (int part = 1; facts.parts().contains(part); part++) {
        offset += part <= 3 ? PART : TAIL;
      }
      return offset;
    }
    return state.path("offset").asLong();
  }

  private JsonNode ingestRecord(String ref) throws IOException {
    try {
      ResponseBytes<GetObjectResponse> bytes = plain.getObjectAsBytes(b -> b.bucket(bucket)
          .key(prefix + "ingest/" + sha256(ref) + "/state"));
      return json.readTree(bytes.asByteArray());
    } catch (NoSuchKeyException e) {
      return null;
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- cascades

  private String crashCascade(Point point, int index) throws Exception {
    ContentStore builder = host(ONE_COPY);
    List<Digest> chain = new ArrayList<>();
    List<byte[]> contents = new ArrayList<>();
    for (int i = 0; i < CHAIN; i++) {
      byte[] bytes = ("crash point " + index + " chain blob " + i).getBytes(StandardCharsets.UTF_8);
      contents.add(bytes);
      chain.add(RefCountHosts.commitAndRef(builder, "chain-" + index + "-" + i, bytes, null)
          .digest());
    }
    for (int i = 0; i + 1 < CHAIN; i++) {
      builder.link(chain.get(i + 1), chain.get(i));
    }
    runChild(point, "deref", chain.get(0).toString());

    ContentStore repairer = host(ONE_COPY);
    int deleted = 0;
    while (deleted < CHAIN && !CascadeIT.isLive(repairer, chain.get(deleted))) {
      deleted++;
    }
    // The k-th record write of the cascade is blob k-1; a tag write follows its record write.
    boolean recordWritten = point.trigger().startsWith("PutObjectTagging")
        || point.trigger().endsWith("AFTER");
    int expected = point.occurrence() - (recordWritten ? 0 : 1);
    assertThat(deleted).as("blobs the cascade released before the kill at %s", point)
        .isEqualTo(expected);
    for (int i = deleted; i < CHAIN; i++) {
      assertThat(repairer.info(chain.get(i)).refCount()).as("count of chain blob %d", i)
          .isEqualTo(1);
      RefCountHosts.assertReadable(repairer, chain.get(i), contents.get(i));
    }
    FsckReport found = repairer.fsck(true);
    List<String> released = chain.subList(0, deleted).stream().map(Digest::toString).toList();
    assertThat(found.findings()).as("fsck after the kill").allSatisfy(f -> {
      assertThat(f.kind()).isEqualTo(FsckReport.Kind.STALE_DELETION);
      assertThat(released).contains(f.subject());
    });
    assertThat(found.findings()).hasSize(deleted);
    assertThat(repairer.gc(GC_NOW).blobsPurged()).isEqualTo(deleted);
    if (deleted < CHAIN) {
      // The first live blob kept the reference of a link whose blob is gone: release it.
      repairer.deref(chain.get(deleted));
    }
    for (Digest d : chain) {
      assertThat(CascadeIT.isLive(repairer, d)).as("chain blob %s after the repair", d).isFalse();
    }
    assertThat(repairer.gc(GC_NOW).blobsPurged()).isEqualTo(CHAIN - deleted);
    for (Digest d : chain) {
      assertThat(S3Mock.get().exists(bucket, prefix + "blobs/" + d.algorithm().label() + "/"
          + d.hex())).as("blob object of %s", d).isFalse();
    }
    return "killed after " + deleted + " of " + CHAIN + " blobs released; fsck found "
        + found.findings().size() + " stale deletions, gc purged them, a second deref released "
        + (CHAIN - deleted);
  }

  // ---- the child

  /** Starts the child, waits for its crash point, kills it there and returns what it printed. */
  private Facts runChild(Point point, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(S3Mock.get().endpoint().toString(), bucket,
        prefix, point.trigger()));
    command.addAll(List.of(args));
    Process child = ChildJvm.start(CrashPointHost.class, command.toArray(String[]::new));
    String marker;
    try {
      marker = awaitCrashPoint(child);
    } finally {
      child.destroyForcibly().waitFor();
    }
    assertThat(marker).as("the child's crash point %s", point)
        .startsWith("CRASH-POINT " + point.trigger() + " ");
    Matcher m = FACTS.matcher(marker);
    assertThat(m.matches()).as("facts in %s", marker).isTrue();
    Set<Integer> parts = new TreeSet<>();
    for (String p : m.group(2).split(",")) {
      if (!p.isEmpty()) {
        parts.add(Integer.parseInt(p));
      }
    }
    Map<String, Integer> done = new TreeMap<>();
    for (String entry : m.group(3).split(",")) {
      if (!entry.isEmpty()) {
        String[] kv = entry.split("=");
        done.put(kv[0], Integer.parseInt(kv[1]));
      }
    }
    Facts facts = new Facts(parts, done, Integer.parseInt(m.group(4)));
    assertThat(facts.inFlight()).as("requests unanswered at the crash point").isZero();
    return facts;
  }

  /** Echoes the child's output until {@code CRASH-POINT ...}, {@code DONE} or its end. */
  private static String awaitCrashPoint(Process child) throws InterruptedException {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(
          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = out.readLine()) != null) {
          lines.add(line);
        }
      } catch (IOException closed) {
        // The child was killed: its output ends here.
      } finally {
        lines.add("EOF");
      }
    }, "crash-child-output");
    pump.setDaemon(true);
    pump.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      String line = lines.poll(1, TimeUnit.SECONDS);
      if (line == null) {
        continue;
      }
      if (line.startsWith("CRASH-POINT") || line.equals("DONE") || line.equals("EOF")) {
        return line;
      }
      if (!line.equals("READY")) {
        System.out.println("child: " + line);
      }
    }
    return "TIMEOUT";
  }

  // ---- after every point

  /** gc with zero age leaves no ingest and no upload; fsck then finds nothing; no blob lost. */
  private void assertCleanAndNothingLost() throws InterruptedException {
    ContentStore checker = host(ONE_COPY);
    Thread.sleep(1100); // past the lease of every writer (1 s here, 2 s for the killed host)
    checker.gc(GC_NOW);
    List<String> ingestKeys = plain.listObjectsV2Paginator(b -> b.bucket(bucket)
        .prefix(prefix + "ingest/")).contents().stream().map(S3Object::key).toList();
    assertThat(ingestKeys).as("ingest objects after gc").isEmpty();
    assertThat(plain.listMultipartUploads(b -> b.bucket(bucket)).uploads())
        .as("multipart uploads in the bucket after gc").isEmpty();
    // Tags are a best-effort mirror written after the record: a host killed between the two
    // leaves them behind, which a repair rewrites. Nothing else may be found.
    assertThat(checker.fsck(true).findings()).as("fsck findings before the repair")
        .allSatisfy(f -> assertThat(f.kind()).isEqualTo(FsckReport.Kind.TAG_DRIFT));
    assertThat(checker.fsck(false).findings()).as("fsck findings").isEmpty();
    for (Digest digest : committed.keySet()) {
      Info info = checker.info(digest);
      assertThat(info.size()).as("size of %s", digest).isEqualTo(SIZE);
    }
  }
}
