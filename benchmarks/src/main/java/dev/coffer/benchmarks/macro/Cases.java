package dev.coffer.benchmarks.macro;

import dev.coffer.benchmarks.macro.Contender.Action;
import dev.coffer.benchmarks.macro.Contender.Counting;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Writer;
import dev.coffer.store.cache.CacheConfig;
import dev.coffer.store.cache.CachingStores;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.FileRequestBodyConfiguration;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The contenders of each case but the small blobs' ({@link SmallBlobCases}). In-process contenders share one {@link Venue}'s clients; the
 * command-line ones run as child processes with the same endpoint and credentials. Part size and
 * parts in flight are the store's defaults (16 MiB, 4) for every uploader: the raw SDK upload uses
 * them, and awscli and rclone are configured to.
 */
final class Cases {
  static final int CHUNK = 1 << 20;
  static final long PART = 16L << 20;
  static final int PARTS_IN_FLIGHT = 4;
  /** Record reads a walk runs at once in the store; the raw equivalent uses as many. */
  static final int RECORD_READS = 16;
  static final String LABEL_FILTER = "labels.group==g3";
  /** The contender that only starts the command-line tool's JVM: it moves no bytes. */
  static final String JVM_START = "coffer --version (JVM start only)";

  private final HarnessConfig config;
  private final Commands commands;
  private final PeerCommands peers;

  Cases(HarnessConfig config, Commands commands, List<String> coffer, Path awsConfig) {
    this.config = config;
    this.commands = commands;
    this.peers = new PeerCommands(config, coffer, awsConfig);
  }

  // ---- 1. ingest of one large file ----------------------------------------------------------

  List<Contender> ingest(Venue v, Path file, boolean withCli, boolean withPeers) {
    List<Contender> list = new ArrayList<>();
    if (withCli) {
      list.add(Contender.of("coffer put (CLI)", Counting.SERVER,
          // As users run it: a file without --ref goes straight to its digest key (PROTO-12).
          round -> commands.run(peers.cli("put", file.toString()),
              v.cliEnvironment("ingest-cli/", peers.home(v)), null),
          round -> v.purge("ingest-cli/")));
    }
    list.add(Contender.of("library Writer", Counting.CLIENT,
        round -> writeFile(v, "ingest-lib/", file),
        round -> v.purge("ingest-lib/")));
    list.add(Contender.of("raw SDK multipart", Counting.CLIENT,
        round -> rawMultipart(v, "ingest-raw/blob", file),
        round -> v.purge("ingest-raw/")));
    if (withPeers) {
      if (awsUploadsWork(v)) {
        list.add(Contender.of("aws s3 cp", Counting.SERVER,
            round -> commands.run(peers.aws(v, "s3", "cp", file.toString(),
                "s3://" + v.bucket + "/ingest-aws/blob"), peers.awsEnvironment(v), null),
            round -> v.purge("ingest-aws/")));
      }
      list.add(Contender.of("rclone copyto", Counting.SERVER,
          round -> commands.run(peers.rclone("copyto", "--ignore-times",
              "--s3-upload-cutoff", PART / (1 << 20) + "M",
              "--s3-chunk-size", PART / (1 << 20) + "M",
              "--s3-upload-concurrency", Integer.toString(PARTS_IN_FLIGHT),
              file.toString(), "bench:" + v.bucket + "/ingest-rclone/blob"),
              v.cliEnvironment("", peers.home(v)), null),
          round -> v.purge("ingest-rclone/")));
    }
    return list;
  }

  /**
   * awscli sends {@code Expect: 100-continue} on UploadPart and S3Mock closes the connection, so
   * its multipart uploads fail there; it uploads to S3Proxy, which is why the peers run there.
   */
  static boolean awsUploadsWork(Venue v) {
    return !v.server.name().equals("S3Mock");
  }

  /** The library: a Writer fed from the file in 1 MiB writes, committed. */
  static Digest writeFile(Venue v, String prefix, Path file) throws IOException {
    try (ContentStore store = v.store(prefix);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        Writer writer = store.writer("bench-ingest", Descriptor.UNKNOWN)) {
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      while (channel.read(buffer) >= 0) {
        buffer.flip();
        while (buffer.hasRemaining()) {
          writer.write(buffer);
        }
        buffer.clear();
      }
      Digest digest = writer.digest();
      writer.commit(channel.size(), null, Map.of());
      return digest;
    }
  }

  /** Raw SDK: the file in 16 MiB parts straight from disk, 4 in flight, on the bulk client. */
  static void rawMultipart(Venue v, String key, Path file) throws IOException {
    long size = java.nio.file.Files.size(file);
    String id = v.bulk.createMultipartUpload(b -> b.bucket(v.bucket).key(key)).join().uploadId();
    Semaphore inFlight = new Semaphore(PARTS_IN_FLIGHT);
    List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
    int number = 1;
    for (long at = 0; at < size || number == 1; at += PART, number++) {
      inFlight.acquireUninterruptibly();
      int n = number;
      long length = Math.min(PART, size - at);
      AsyncRequestBody body = AsyncRequestBody.fromFile(FileRequestBodyConfiguration.builder()
          .path(file).position(at).numBytesToRead(length).build());
      parts.add(v.bulk.uploadPart(b -> b.bucket(v.bucket).key(key).uploadId(id).partNumber(n)
              .contentLength(length), body)
          .thenApply(r -> CompletedPart.builder().partNumber(n).eTag(r.eTag()).build())
          .whenComplete((r, e) -> inFlight.release()));
    }
    List<CompletedPart> done = parts.stream().map(CompletableFuture::join).toList();
    v.bulk.completeMultipartUpload(b -> b.bucket(v.bucket).key(key).uploadId(id)
        .multipartUpload(m -> m.parts(done))).join();
  }

  // ---- 2. cold read of the committed blob ----------------------------------------------------

  List<Contender> coldRead(Venue v, String prefix, Digest digest, long size) {
    String key = prefix + "blobs/" + digest.algorithm().label() + "/" + digest.hex();
    List<Contender> list = new ArrayList<>();
    list.add(Contender.of("coffer get --no-cache (CLI)", Counting.SERVER,
        round -> commands.run(peers.cli("get", "--no-cache", digest.toString(), "-o", "/dev/null"),
            v.cliEnvironment(prefix, peers.home(v)), null), Action.NOTHING));
    for (CliVariant variant : config.cliVariants()) {
      list.add(Contender.of("coffer get --no-cache (CLI, " + variant.label() + ")",
          Counting.SERVER, round -> commands.run(peers.cli(variant, "get", "--no-cache",
              digest.toString(), "-o", "/dev/null"), peers.environment(variant,
              v.cliEnvironment(prefix, peers.home(v))), null), Action.NOTHING));
    }
    list.add(Contender.of("library readerAt", Counting.CLIENT, round -> {
      try (ContentStore store = v.store(prefix)) {
        expect(size, readAll(store, digest));
      }
    }, Action.NOTHING));
    list.add(Contender.of("raw SDK GET", Counting.CLIENT, round -> {
      try (InputStream in = v.control.getObject(b -> b.bucket(v.bucket).key(key))) {
        expect(size, drain(in));
      }
    }, Action.NOTHING));
    list.add(Contender.of("aws s3 cp - (stdout)", Counting.SERVER,
        round -> commands.run(peers.aws(v, "s3", "cp", "s3://" + v.bucket + "/" + key, "-"),
            peers.awsEnvironment(v), null), Action.NOTHING));
    list.add(Contender.of("rclone cat", Counting.SERVER,
        round -> commands.run(peers.rclone("cat", "bench:" + v.bucket + "/" + key),
            v.cliEnvironment("", peers.home(v)), null), Action.NOTHING));
    return list;
  }

  static long readAll(ContentStore store, Digest digest) {
    try (ReaderAt reader = store.readerAt(digest)) {
      ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
      long position = 0;
      int n;
      while ((n = reader.read(buffer, position)) > 0) {
        position += n;
        buffer.clear();
      }
      return position;
    }
  }

  private static long drain(InputStream in) throws IOException {
    byte[] buffer = new byte[CHUNK];
    long total = 0;
    int n;
    while ((n = in.read(buffer)) >= 0) {
      total += n;
    }
    return total;
  }

  private static void expect(long size, long read) {
    if (size != read) {
      throw new IllegalStateException("read " + read + " bytes of " + size);
    }
  }

  // ---- 3. hot read through the cache ---------------------------------------------------------

  /** Contenders of the hot read; the cache store is warmed by the caller and closed by it. */
  List<Contender> hotRead(Venue v, String prefix, ContentStore cache, Digest digest, Path copy,
      long size) {
    List<Contender> list = new ArrayList<>();
    list.add(Contender.of("cache readerAt (library)", Counting.NONE,
        round -> expect(size, readAll(cache, digest)), Action.NOTHING));
    list.add(Contender.of("FileChannel of a local copy", Counting.NONE, round -> {
      try (FileChannel channel = FileChannel.open(copy, StandardOpenOption.READ)) {
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        long total = 0;
        int n;
        while ((n = channel.read(buffer)) >= 0) {
          total += n;
          buffer.clear();
        }
        expect(size, total);
      }
    }, Action.NOTHING));
    list.add(Contender.of("coffer get (CLI, cache hot)", Counting.NONE,
        round -> commands.run(peers.cli("get", digest.toString(), "-o", "/dev/null"),
            v.cliEnvironment(prefix, peers.home(v)), null), Action.NOTHING));
    list.add(Contender.of("cat of a local copy", Counting.NONE,
        round -> commands.run(List.of("cat", copy.toString()), Map.of(), null), Action.NOTHING));
    // What every command-line figure above includes before it moves a byte.
    list.add(Contender.of(JVM_START, Counting.NONE,
        round -> commands.run(peers.cli("--version"), Map.of(), null), Action.NOTHING));
    return list;
  }

  /** The caching store of the hot-read case, in {@code directory}. */
  static ContentStore cache(Venue v, String prefix, Path directory) {
    return CachingStores.builder(v.store(prefix))
        .config(CacheConfig.builder().directory(directory).build()).build();
  }

  // ---- 5. walk and ls --filter ---------------------------------------------------------------

  List<Contender> walk(Venue v, String prefix, int expected) {
    List<Contender> list = new ArrayList<>();
    list.add(Contender.of("library walk", Counting.CLIENT, round -> {
      try (ContentStore store = v.store(prefix)) {
        AtomicLong n = new AtomicLong();
        store.walk(info -> n.incrementAndGet());
        expect(expected, n.get());
      }
    }, Action.NOTHING));
    list.add(Contender.of("coffer ls --filter (CLI)", Counting.SERVER, round -> {
      Path listing = config.work().resolve("ls.out");
      commands.run(peers.cli("ls", "--no-cache", "--filter", LABEL_FILTER),
          v.cliEnvironment(prefix, peers.home(v)), listing);
      try (var lines = java.nio.file.Files.lines(listing)) {
        expect(expected / 10 + (expected % 10 > 3 ? 1 : 0), lines.count());
      }
    }, Action.NOTHING));
    for (CliVariant variant : config.cliVariants()) {
      list.add(Contender.of("coffer ls --filter (CLI, " + variant.label() + ")", Counting.SERVER,
          round -> {
            Path listing = config.work().resolve("ls.out");
            commands.run(peers.cli(variant, "ls", "--no-cache", "--filter", LABEL_FILTER),
                peers.environment(variant, v.cliEnvironment(prefix, peers.home(v))), listing);
            try (var lines = java.nio.file.Files.lines(listing)) {
              expect(expected / 10 + (expected % 10 > 3 ? 1 : 0), lines.count());
            }
          }, Action.NOTHING));
    }
    list.add(Contender.of("raw SDK list + GET records", Counting.CLIENT, round -> {
      List<String> keys = list(v, prefix + "index/");
      expect(expected, keys.size());
      ExecutorService pool = Executors.newFixedThreadPool(RECORD_READS);
      try {
        List<Future<Integer>> reads = new ArrayList<>();
        for (String k : keys) {
          reads.add(pool.submit(() ->
              v.control.getObjectAsBytes(b -> b.bucket(v.bucket).key(k)).asByteArray().length));
        }
        for (Future<Integer> r : reads) {
          r.get();
        }
      } finally {
        pool.shutdownNow();
      }
    }, Action.NOTHING));
    list.add(Contender.of("raw SDK list only", Counting.CLIENT,
        round -> expect(expected, list(v, prefix + "index/").size()), Action.NOTHING));
    return list;
  }

  private static List<String> list(Venue v, String prefix) {
    List<String> keys = new ArrayList<>();
    for (ListObjectsV2Response page : v.control.listObjectsV2Paginator(
        b -> b.bucket(v.bucket).prefix(prefix))) {
      page.contents().stream().map(S3Object::key).forEach(keys::add);
    }
    return keys;
  }

  // ---- scaling view --------------------------------------------------------------------------

  List<Contender> scaling(Venue v, Path file) {
    return ingest(v, file, false, false);
  }

  // ---- commands ------------------------------------------------------------------------------

  /**
   * Runs {@code coffer ls} twice on an empty prefix, then waits (up to five minutes) for each
   * copy's class-data-sharing archive ({@link CliArchive}): the start of every later command is
   * warm, and no recording runs beside a measurement.
   */
  void warmCli(Venue v) throws Exception {
    List<List<String>> ls = new ArrayList<>(List.of(peers.cli("ls", "--no-cache")));
    List<Map<String, String>> envs = new ArrayList<>(
        List.of(v.cliEnvironment("warm/", peers.home(v))));
    for (CliVariant variant : config.cliVariants()) {
      ls.add(peers.cli(variant, "ls", "--no-cache"));
      envs.add(peers.environment(variant, v.cliEnvironment("warm/", peers.home(v))));
    }
    for (int i = 0; i < 2; i++) {
      for (int c = 0; c < ls.size(); c++) {
        commands.run(ls.get(c), envs.get(c), null);
      }
    }
    for (int c = 0; c < ls.size(); c++) {
      List<String> command = ls.get(c);
      Map<String, String> env = envs.get(c);
      if (!CliArchive.await(Path.of(command.get(0)), () -> {
        commands.run(command, env, null);
        return null;
      }, Duration.ofSeconds(2), Duration.ofMinutes(5))) {
        System.err.println("no class-data-sharing archive for " + command.get(0)
            + ": its commands start without one");
      }
    }
  }
}
