package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import dev.coffer.store.s3.S3StoreConfig;
import dev.coffer.store.s3.S3Stores;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;

/**
 * The S3 operations the store performs in each IAM role, recorded on its SDK clients while a
 * workload runs every code path of the role, and written to {@value #RECORDING_PATH} as
 * {@code {role → {scope → sorted operation names}}} (see {@link OperationRecorder} for scopes and
 * names). The terraform module's {@code IamPolicyTest} maps them to IAM actions and requires the
 * module's policies to grant exactly those.
 *
 * <p>Roles: {@code reader} only reads (info, readerAt, walk); {@code writer} is a build host
 * (ingest, commit, resume, abort, labels, references, links, delete, reads); {@code admin} is a
 * writer that also runs gc and fsck. Every step of the workload names operations that prove it
 * took the path it was written for, so a workload that silently stops covering a path fails here
 * rather than shrinking the recording.
 */
class S3OperationsByRoleIT {
  static final String RECORDING_PATH = "target/s3-operations-by-role.json";
  private static final int MIB = 1 << 20;
  /** Operations that change nothing in the bucket. */
  private static final Set<String> READS = Set.of("GetObject", "HeadObject", "ListObjectsV2",
      "ListParts", "ListMultipartUploads", "GetObjectTagging");

  private final S3Mock s3 = S3Mock.get();
  private final String bucket = s3.newBucket();
  private final String prefix = S3Mock.newPrefix();
  private final OperationRecorder reader = new OperationRecorder(prefix);
  private final OperationRecorder writer = new OperationRecorder(prefix);
  /** gc and fsck; the admin role is these and everything the writer does. */
  private final OperationRecorder maintenance = new OperationRecorder(prefix);
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final S3Client plain = s3.client();

  @AfterEach
  void tearDown() throws Exception {
    resources.add(plain);
    Collections.reverse(resources);
    for (AutoCloseable resource : resources) {
      resource.close();
    }
  }

  @Test
  void recordsEachRolesOperationsByScope() throws Exception {
    byte[] small = "a small blob".getBytes(StandardCharsets.UTF_8);
    byte[] large = S3StoreIT.random(12 * MIB + 5, 1);
    writerWorkload(small, large);
    readerWorkload(small, large);
    maintenanceWorkload();

    Map<String, Map<String, Set<String>>> byRole = new LinkedHashMap<>();
    byRole.put("reader", reader.operations());
    byRole.put("writer", writer.operations());
    byRole.put("admin", union(writer.operations(), maintenance.operations()));
    byRole.forEach((role, operations) -> {
      System.out.println("S3 operations of role " + role + ": " + operations);
      assertThat(operations).as(role + ": every request inside the store's prefix")
          .containsOnlyKeys(OperationRecorder.SCOPES);
    });
    assertThat(byRole.get("reader").values().stream().flatMap(Set::stream))
        .as("the reader role writes nothing").isNotEmpty().allMatch(READS::contains);

    Path recording = Path.of(RECORDING_PATH);
    Files.createDirectories(recording.getParent());
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(recording.toFile(), byRole);
  }

  // ---- the roles' workloads

  private void writerWorkload(byte[] small, byte[] large) throws Exception {
    ContentStore w1 = store(writer, b -> b);
    // A second build host, with the threshold lowered so that its commits copy in parts. One part
    // copy at a time, so that the injected failure of one leaves none in flight: S3Mock has lost
    // the object of a later upload to the same key when a part copy of an aborted one was still
    // running (seen once, under load).
    Fault copyFault = new Fault(r -> r instanceof UploadPartCopyRequest copy
        && copy.destinationKey().startsWith(prefix + "blobs/"));
    ContentStore w2 = store(writer, b -> b.multipartCopyThreshold(5 * MIB).copyPartSize(5 * MIB)
        .copyConcurrency(1), copyFault);
    Digest smallDigest = Digest.of(small);
    Digest largeDigest = Digest.of(large);

    step(writer, "commit a small blob with labels", List.of("blobs:PutObject[tagging]",
        "index:PutObject", "ingest:PutObject", "ingest:DeleteObject"), () -> {
          try (Writer w = w1.writer("small", Descriptor.UNKNOWN)) {
            w.write(small);
            w.commitAndRef(small.length, smallDigest, Map.of("team", "ci"));
          }
        });
    step(writer, "commit 12 MiB in parts, copied to its digest key", List.of(
        "ingest:CreateMultipartUpload", "ingest:UploadPart", "ingest:CompleteMultipartUpload",
        "ingest:CopyObject[source]", "blobs:CopyObject", "blobs:PutObjectTagging"), () -> {
          try (Writer w = w1.writer("large", Descriptor.of(largeDigest, large.length))) {
            w.write(large);
            w.commitAndRef(large.length, largeDigest, null);
          }
        });
    // A third host whose tagged writes of blobs are cut without an answer, as a server without
    // object tagging that closes the connection on the tagging header does to a large body: the
    // store then asks whether tagging works (GetObjectTagging), which the writer role must allow.
    Fault taggedCut = new Fault(r -> r instanceof PutObjectRequest put && put.tagging() != null
        && !put.tagging().isEmpty() && put.key().startsWith(prefix + "blobs/"));
    ContentStore w3 = store(writer, b -> b, taggedCut);
    step(writer, "a tagged write cut without an answer asks whether the server has tagging",
        List.of("blobs:GetObjectTagging"), () -> {
          taggedCut.arm(1);
          byte[] cut = "cut without an answer".getBytes(StandardCharsets.UTF_8);
          assertThatThrownBy(() -> w3.put(cut, null, Map.of()))
              .isInstanceOf(StoreException.class);
        });
    step(writer, "writeBlob of content already stored", List.of("index:GetObject"),
        () -> Content.writeBlob(w2, "small-again", new ByteArrayInputStream(small),
            Descriptor.of(smallDigest, small.length), Map.of()));

    byte[] resumed = S3StoreIT.random(11 * MIB + 77, 2);
    step(writer, "pause a multipart ingest", List.of("ingest:UploadPart",
        "ingest:CompleteMultipartUpload"), () -> {
          try (Writer w = w1.writer("resumed", Descriptor.UNKNOWN)) {
            w.write(resumed, 0, 6 * MIB);
          }
        });
    step(writer, "resume it on another host: read once, copied server-side, then copied in parts",
        List.of("ingest:GetObject", "ingest:UploadPartCopy[source]", "ingest:UploadPartCopy",
            "blobs:CreateMultipartUpload", "blobs:UploadPartCopy", "blobs:CompleteMultipartUpload"),
        () -> {
          try (Writer w = w2.writer("resumed", Descriptor.UNKNOWN)) {
            assertThat(w.status().offset()).isEqualTo(6 * MIB);
            assertThat(w.digest()).isEqualTo(Digest.of(Arrays.copyOf(resumed, 6 * MIB)));
            w.write(resumed, 6 * MIB, resumed.length - 6 * MIB);
            w.commitAndRef(resumed.length, Digest.of(resumed), null);
          }
          assertThat(Content.readBlob(w1, Descriptor.of(Digest.of(resumed)))).isEqualTo(resumed);
        });

    byte[] partial = S3StoreIT.random(3000, 3);
    step(writer, "pause a small ingest and resume it on another host", List.of("ingest:GetObject",
        "ingest:PutObject", "ingest:DeleteObject"), () -> {
          try (Writer w = w1.writer("small-resumed", Descriptor.UNKNOWN)) {
            w.write(partial, 0, 1000);
          }
          try (Writer w = w2.writer("small-resumed", Descriptor.UNKNOWN)) {
            assertThat(w.status().offset()).isEqualTo(1000);
            w.write(partial, 1000, 2000);
            w.commit(partial.length, Digest.of(partial), null);
          }
        });

    byte[] failing = S3StoreIT.random(11 * MIB, 4);
    Digest failingDigest = Digest.of(failing);
    step(writer, "a multipart copy that fails is aborted, the ingest kept",
        List.of("blobs:AbortMultipartUpload"), () -> {
          Writer w = w2.writer("copy-fails", Descriptor.UNKNOWN);
          w.write(failing);
          copyFault.arm(1);
          assertThatThrownBy(() -> w.commit(failing.length, failingDigest, null))
              .isInstanceOf(StoreException.class);
          assertThat(w2.status("copy-fails").offset()).isEqualTo(failing.length);
          try (Writer again = w2.writer("copy-fails", Descriptor.UNKNOWN)) {
            again.commit(failing.length, failingDigest, null);
          }
          assertThat(Content.readBlob(w1, Descriptor.of(failingDigest))).isEqualTo(failing);
        });

    crashedHostWorkload(w1);

    step(writer, "status, list and abort a paused ingest", List.of("ingest:GetObject",
        "list:ListObjectsV2", "ingest:DeleteObject"), () -> {
          try (Writer w = w1.writer("paused", Descriptor.UNKNOWN)) {
            w.write(new byte[10]);
          }
          assertThat(w1.status("paused").offset()).isEqualTo(10);
          assertThat(w1.listStatuses("ref==paused")).extracting(Status::ref)
              .containsExactly("paused");
          w1.abort("paused");
          assertThatThrownBy(() -> w1.status("paused")).isInstanceOf(NotFoundException.class);
        });
    step(writer, "labels, references and links", List.of("index:GetObject", "index:PutObject",
        "blobs:PutObjectTagging"), () -> {
          w1.update(Info.forUpdate(smallDigest, Map.of("team", "build")), "labels.team");
          w1.ref(smallDigest);
          w1.deref(smallDigest);
          w1.ref(largeDigest);
          w1.link(largeDigest, smallDigest);
          w1.unlink(largeDigest, smallDigest);
          assertThat(w1.info(largeDigest).refCount()).isEqualTo(1);
          assertThat(w1.info(smallDigest).labels()).isEqualTo(Map.of("team", "build"));
        });
    byte[] again = "deleted, then committed again".getBytes(StandardCharsets.UTF_8);
    Digest againDigest = Digest.of(again);
    step(writer, "delete a blob and commit its content again", List.of("blobs:HeadObject"), () -> {
      Content.writeBlob(w1, "again", new ByteArrayInputStream(again),
          Descriptor.of(againDigest, again.length), Map.of());
      w1.delete(againDigest);
      assertThatThrownBy(() -> w1.info(againDigest)).isInstanceOf(NotFoundException.class);
      Content.writeBlob(w1, "again", new ByteArrayInputStream(again),
          Descriptor.of(againDigest, again.length), Map.of());
      assertThat(Content.readBlob(w1, Descriptor.of(againDigest))).isEqualTo(again);
    });
    step(writer, "reads and walk", List.of("blobs:GetObject", "list:ListObjectsV2"), () -> {
      assertThat(Content.readBlob(w2, Descriptor.of(largeDigest))).isEqualTo(large);
      List<Digest> seen = new ArrayList<>();
      w2.walk(i -> seen.add(i.digest()));
      assertThat(seen).contains(smallDigest, largeDigest, againDigest);
    });
  }

  /** Ingests of a host that dies with a multipart upload under way, taken over by a writer. */
  private void crashedHostWorkload(ContentStore w1) throws Exception {
    Fault crash = new Fault(r -> true);
    ContentStore dead = store(null, b -> b.leaseDuration(Duration.ofSeconds(1)), crash);
    byte[] bytes = S3StoreIT.random(5 * MIB + 1000, 5);
    dead.writer("crashed", Descriptor.UNKNOWN).write(bytes);
    dead.writer("crashed-abort", Descriptor.UNKNOWN).write(bytes, 0, 5 * MIB);
    awaitUploadedParts(2);
    crash.arm(Integer.MAX_VALUE);

    step(writer, "resume a dead host's multipart ingest: its parts are recovered", List.of(
        "ingest:ListParts", "ingest:CompleteMultipartUpload"), () -> {
          try (Writer w = Content.openWriter(w1, "crashed", Descriptor.UNKNOWN,
              Duration.ofSeconds(60))) {
            assertThat(w.status().offset()).isEqualTo(5 * MIB);
            w.write(bytes, 5 * MIB, 1000);
            w.commit(bytes.length, Digest.of(bytes), null);
          }
          assertThat(Content.readBlob(w1, Descriptor.of(Digest.of(bytes)))).isEqualTo(bytes);
        });
    step(writer, "abort a dead host's multipart ingest", List.of("ingest:AbortMultipartUpload"),
        () -> {
          // Unavailable while the dead host's lease lasts.
          await("the dead host's lease expires").atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(100)).ignoreException(UnavailableException.class)
              .untilAsserted(() -> w1.abort("crashed-abort"));
          assertThatThrownBy(() -> w1.status("crashed-abort"))
              .isInstanceOf(NotFoundException.class);
        });
    // Its writers cannot reach S3 any more, and another host has taken their refs over.
    assertThatThrownBy(dead::close).isInstanceOf(StoreException.class);
  }

  private void readerWorkload(byte[] small, byte[] large) {
    ContentStore r = store(reader, b -> b.readChunkSize(MIB));
    Digest largeDigest = Digest.of(large);
    step(reader, "info, sequential and positional reads, walk", List.of("index:GetObject",
        "blobs:GetObject", "list:ListObjectsV2"), () -> {
          assertThat(r.info(largeDigest).size()).isEqualTo(large.length);
          assertThatThrownBy(() -> r.info(Digest.of(new byte[] {42})))
              .isInstanceOf(NotFoundException.class);
          assertThat(Content.readBlob(r, Descriptor.of(largeDigest))).isEqualTo(large);
          assertThat(Content.readBlob(r, Descriptor.of(Digest.of(small)))).isEqualTo(small);
          try (ReaderAt at = r.readerAt(Descriptor.of(largeDigest))) {
            byte[] some = new byte[100];
            assertThat(at.read(some, 0, some.length, 7L * MIB + 3)).isEqualTo(some.length);
            assertThat(some).isEqualTo(Arrays.copyOfRange(large, 7 * MIB + 3, 7 * MIB + 103));
          }
          List<Digest> seen = new ArrayList<>();
          r.walk(i -> seen.add(i.digest()), "labels.team==build");
          assertThat(seen).containsExactly(Digest.of(small));
        });
  }

  private void maintenanceWorkload() throws Exception {
    // The garbage is made by a build host; gc and fsck run on a host of their own.
    ContentStore w = store(writer, b -> b);
    // A short purge timeout, so that the orphan below is old enough for a repair to remove.
    ContentStore m = store(maintenance, b -> b.deletionGrace(Duration.ZERO)
        .leaseDuration(Duration.ofMillis(300)).purgeTimeout(Duration.ofSeconds(1)));
    Digest doomed = commitAndRef(w, "doomed", "dereferenced to zero");
    w.deref(doomed);
    Digest from = commitAndRef(w, "from", "links to a deleted blob");
    Digest to = commitAndRef(w, "to", "deleted while linked to");
    w.link(to, from);
    w.delete(to);
    try (Writer abandoned = w.writer("abandoned", Descriptor.UNKNOWN)) {
      abandoned.write(new byte[] {1, 2, 3});
    }
    String unnamed = prefix + "ingest/" + "0".repeat(64) + "/data/1-dead";
    plain.createMultipartUpload(b -> b.bucket(bucket).key(unnamed));
    Thread.sleep(400); // ages the upload past the maintenance host's lease: not a poll

    step(maintenance, "gc purges deleted blobs and removes abandoned ingests and uploads",
        List.of("list:ListObjectsV2", "ingest:GetObject", "ingest:DeleteObject",
            "bucket:ListMultipartUploads", "ingest:AbortMultipartUpload", "index:GetObject",
            "index:PutObject", "blobs:DeleteObject", "index:DeleteObject"), () -> {
          GcReport report = m.gc(new GcOptions(Duration.ZERO, false));
          assertThat(report.blobsPurged()).isEqualTo(2);
          assertThat(report.ingestsRemoved()).isEqualTo(1);
          assertThat(report.uploadsAborted()).isEqualTo(1);
          assertThat(exists(prefix + "blobs/sha256/" + doomed.hex())).isFalse();
          assertThat(exists(prefix + "index/sha256/" + to.hex())).isFalse();
        });
    // Tags that lag their record (a host died between the two writes), and content stored
    // without a record (a host died between storing the bytes and creating the record).
    plain.putObjectTagging(b -> b.bucket(bucket).key(prefix + "blobs/sha256/" + from.hex())
        .tagging(t -> t.tagSet(Tag.builder().key("refs").value("7").build())));
    byte[] orphan = "stored, never recorded".getBytes(StandardCharsets.UTF_8);
    Digest orphanDigest = Digest.of(orphan);
    plain.putObject(b -> b.bucket(bucket).key(prefix + "blobs/sha256/" + orphanDigest.hex()),
        RequestBody.fromBytes(orphan));
    Thread.sleep(2_500); // ages the orphan past the purge timeout and LastModified's second
    step(maintenance, "fsck repairs a dangling link, tag drift and an orphan blob",
        List.of("list:ListObjectsV2", "index:GetObject", "blobs:GetObjectTagging",
            "index:PutObject", "blobs:HeadObject", "blobs:PutObjectTagging", "blobs:DeleteObject",
            "index:DeleteObject"), () -> {
          assertThat(m.fsck(true).findings())
              .extracting(FsckReport.Finding::kind, FsckReport.Finding::subject,
                  FsckReport.Finding::repaired)
              .containsExactlyInAnyOrder(
                  tuple(FsckReport.Kind.DANGLING_LINK, from.toString(), true),
                  tuple(FsckReport.Kind.TAG_DRIFT, from.toString(), true),
                  tuple(FsckReport.Kind.BLOB_WITHOUT_RECORD, orphanDigest.toString(), true));
          assertThat(m.fsck(false).findings()).isEmpty();
          assertThat(exists(prefix + "blobs/sha256/" + orphanDigest.hex())).isFalse();
          assertThat(exists(prefix + "index/sha256/" + orphanDigest.hex())).isFalse();
        });
  }

  // ---- helpers

  /** An action the workload takes, with the scope:operation entries that prove its path ran. */
  private interface Action {
    void run() throws Exception;
  }

  private static void step(OperationRecorder role, String what, List<String> proof,
      Action action) {
    Map<String, Map<String, Integer>> before = role.counts();
    try {
      action.run();
    } catch (Exception e) {
      throw new AssertionError(what + " failed", e);
    }
    Map<String, Map<String, Integer>> after = role.counts();
    for (String entry : proof) {
      String scope = entry.substring(0, entry.indexOf(':'));
      String operation = entry.substring(entry.indexOf(':') + 1);
      assertThat(after.getOrDefault(scope, Map.of()).getOrDefault(operation, 0))
          .as("%s sends %s (recorded so far: %s)", what, entry, after)
          .isGreaterThan(before.getOrDefault(scope, Map.of()).getOrDefault(operation, 0));
    }
  }

  /** A store on this test's bucket and prefix whose clients record into {@code role} (if any). */
  private ContentStore store(OperationRecorder role, UnaryOperator<S3StoreConfig.Builder> tune,
      ExecutionInterceptor... more) {
    ExecutionInterceptor[] interceptors = Stream.concat(Stream.ofNullable(role), Stream.of(more))
        .toArray(ExecutionInterceptor[]::new);
    S3Client client = s3.client(interceptors);
    S3AsyncClient bulk = s3.asyncClient(interceptors);
    resources.add(client);
    resources.add(bulk);
    ContentStore store = S3Stores.builder()
        .config(tune.apply(s3.config(bucket, prefix).partSize(5 * MIB)).build())
        .client(client).bulkClient(bulk).build();
    resources.add(store);
    return store;
  }

  private static Digest commitAndRef(ContentStore store, String ref, String content) {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    try (Writer w = store.writer(ref, Descriptor.UNKNOWN)) {
      w.write(bytes);
      return w.commitAndRef(bytes.length, null, null).digest();
    }
  }

  private static Map<String, Set<String>> union(Map<String, Set<String>> a,
      Map<String, Set<String>> b) {
    Map<String, Set<String>> union = new TreeMap<>();
    Stream.of(a, b).forEach(m -> m.forEach((scope, operations) ->
        union.computeIfAbsent(scope, s -> new TreeSet<>()).addAll(operations)));
    return union;
  }

  private boolean exists(String key) {
    return s3.exists(bucket, key);
  }

  /** Waits until S3 lists {@code parts} uploaded parts under the store's ingests. */
  private void awaitUploadedParts(int parts) {
    await(parts + " parts uploaded").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50)).until(this::uploadedParts, listed -> listed >= parts);
  }

  private int uploadedParts() {
    int listed = 0;
    for (MultipartUpload upload : plain.listMultipartUploads(b -> b.bucket(bucket)
        .prefix(prefix + "ingest/")).uploads()) {
      listed += plain.listParts(b -> b.bucket(bucket).key(upload.key())
          .uploadId(upload.uploadId())).parts().size();
    }
    return listed;
  }

  /**
   * Fails the requests it matches while armed, before they are sent: a host that died, or a server
   * that fails one request.
   */
  private static final class Fault implements ExecutionInterceptor {
    private final Predicate<SdkRequest> matches;
    private final AtomicInteger remaining = new AtomicInteger();

    Fault(Predicate<SdkRequest> matches) {
      this.matches = matches;
    }

    /** Fails the next {@code times} matching requests. */
    void arm(int times) {
      remaining.set(times);
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context,
        ExecutionAttributes attributes) {
      if (matches.test(context.request())
          && remaining.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw SdkClientException.create("injected failure of " + context.request());
      }
    }
  }
}
