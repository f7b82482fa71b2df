package dev.coffer.benchmarks.macro;

import dev.coffer.benchmarks.macro.Contender.Counting;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The tree case: a build directory of {@code treeFiles} files, sizes log-uniform from 100 B to
 * 8 MiB plus a few of 20 MiB (above one 16 MiB part), moved by {@code coffer put -r} / {@code get
 * -r}, {@code aws s3 sync} and {@code rclone copy} to and from the same server: a first upload, a
 * second after 1 % of the files changed, and a download into an empty directory. Each tool has its
 * own prefix; coffer runs with {@code --no-cache}, so its second upload finds what is stored by
 * asking the bucket, as the others do, rather than remembering it.
 *
 * <p>A peer whose executable is missing is skipped, and the log says so.
 */
final class TreeCase {
  static final String UPLOAD = "tree upload";
  static final String REUPLOAD = "tree upload, 1% changed";
  static final String DOWNLOAD = "tree download";
  static final String COFFER_PUT = "coffer put -r (CLI)";
  static final String COFFER_GET = "coffer get -r (CLI)";
  static final String AWS = "aws s3 sync";
  static final String RCLONE = "rclone copy";
  private static final long MIN = 100;
  private static final long MAX = 8L << 20;
  private static final int LARGE = 20 << 20;

  private final HarnessConfig config;
  private final Commands commands;
  private final PeerCommands peers;
  private final PrintStream log;
  final Path original;
  final Path changed;
  final long bytes;
  /** How many times {@link #change()} has changed the copy. */
  private int changes;

  /** Lays out the directory and its 1 %-changed copy in the scratch directory. */
  TreeCase(HarnessConfig config, Commands commands, List<String> coffer, Path awsConfig,
      PrintStream log) throws IOException {
    this.config = config;
    this.commands = commands;
    this.peers = new PeerCommands(config, coffer, awsConfig);
    this.log = log;
    original = config.work().resolve("tree/original");
    changed = config.work().resolve("tree/changed");
    SplittableRandom random = new SplittableRandom(10_000);
    int n = config.treeFiles();
    int large = Math.max(1, n / 2000);
    long total = 0;
    byte[] buffer = new byte[1 << 20];
    for (int i = 0; i < n; i++) {
      long size = i < large ? LARGE
          : Math.round(MIN * Math.pow((double) MAX / MIN, random.nextDouble()));
      Path file = original.resolve("d" + i % 37).resolve("f" + i + ".bin");
      Files.createDirectories(file.getParent());
      try (OutputStream out = Files.newOutputStream(file)) {
        for (long left = size; left > 0; left -= buffer.length) {
          random.nextBytes(buffer);
          out.write(buffer, 0, (int) Math.min(buffer.length, left));
        }
      }
      total += size;
    }
    bytes = total;
    copy(original, changed);
    change();
  }

  /**
   * Gives 1 % of the changed copy's files (every hundredth) new bytes at their start, other than
   * any they had before: each second upload stores content its prefix has never held, as a build's
   * changed outputs are (content stored before and released, whose objects a store keeps until its
   * gc, takes coffer two requests more a file: docs/benchmarks.md).
   */
  void change() throws IOException {
    changes++;
    for (int i = 0; i < config.treeFiles(); i += 100) {
      Path file = changed.resolve("d" + i % 37).resolve("f" + i + ".bin");
      byte[] bytes = Files.readAllBytes(file);
      byte[] mark = ("changed " + i + " " + changes + " ")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      System.arraycopy(mark, 0, bytes, 0, Math.min(mark.length, bytes.length));
      Files.write(file, bytes);
      // Same size: a tool comparing size and time (aws s3 sync) must see a newer file than the
      // object it uploaded from the original in between, or it uploads nothing.
      Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
          java.time.Instant.now().plus(java.time.Duration.ofDays(1))));
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.sorted().toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Whether {@code executable} runs; if not, says which contender is skipped and why. */
  boolean available(String executable, String contender) {
    boolean ok = Files.isExecutable(Path.of(executable)) || Stream.of(
        System.getenv().getOrDefault("PATH", "").split(":"))
        .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, executable)));
    if (!ok) {
      log.println("  tree: " + contender + " skipped: " + executable + " not found (set "
          + (contender.startsWith("aws") ? "BENCH_AWS" : "BENCH_RCLONE") + ", or let run.sh"
          + " install it)");
    }
    return ok;
  }

  /**
   * One upload of {@code dir} by each tool, each into its own prefix. A second upload by coffer is
   * a delta over {@code base}, the first upload's tree (the peers compare with their destination
   * prefix); after it, its tree is released ({@code coffer deref}) and the changed files change
   * again, so that the next round stores a delta of new content rather than finding it.
   */
  private List<Contender> uploads(Venue v, boolean reupload, String base) {
    List<Contender> list = new ArrayList<>();
    Map<String, String> env = v.cliEnvironment("tree-coffer/", peers.home(v));
    Path out = config.work().resolve("tree.out");
    List<String> put = reupload ? secondPut(base) : List.of("put", "-q", "--no-cache", "-r",
        original.toString(), "--jobs", "16");
    list.add(Contender.of(COFFER_PUT, Counting.SERVER,
        round -> commands.run(peers.cli(put.toArray(String[]::new)), env, out),
        round -> after(v, "tree-coffer/", reupload, r -> {
          commands.run(peers.cli("deref", "-q", "--no-cache", Files.readString(out).strip()),
              env, null);
          commands.run(peers.cli("put", "-q", "--no-cache", "-r", original.toString(), "--jobs",
              "16"), env, null);
        })));
    for (CliVariant variant : config.cliVariants()) {
      list.add(variantUpload(v, variant, reupload, base));
    }
    if (available(config.awsCli(), AWS)) {
      list.add(Contender.of(AWS, Counting.SERVER,
          round -> commands.run(peers.aws(v, "s3", "sync", dir(reupload).toString(),
              "s3://" + v.bucket + "/tree-aws/"), peers.awsEnvironment(v), null),
          round -> after(v, "tree-aws/", reupload, r -> commands.run(peers.aws(v, "s3", "sync",
              original.toString(), "s3://" + v.bucket + "/tree-aws/"), peers.awsEnvironment(v),
              null))));
    }
    if (available(config.rclone(), RCLONE)) {
      list.add(Contender.of(RCLONE, Counting.SERVER,
          round -> commands.run(peers.rclone("copy", "--transfers", "16", "--checkers", "16",
              dir(reupload).toString(), "bench:" + v.bucket + "/tree-rclone"),
              v.cliEnvironment("", peers.home(v)), null),
          round -> after(v, "tree-rclone/", reupload, r -> commands.run(peers.rclone("copy",
              "--transfers", "16", "--checkers", "16", original.toString(),
              "bench:" + v.bucket + "/tree-rclone"), v.cliEnvironment("", peers.home(v)), null))));
    }
    return list;
  }

  /**
   * A variant's upload ({@code BENCH_CLI_VARIANTS}): a first upload into a prefix of its own,
   * emptied after each round; a second upload over the same base in coffer's prefix, with a cache
   * directory of its own (its hash index warmed by {@link #warmHashIndex}), its tree released after
   * each round as coffer's is.
   */
  private Contender variantUpload(Venue v, CliVariant variant, boolean reupload, String base) {
    String prefix = reupload ? "tree-coffer/" : "tree-coffer-" + variant.label() + "/";
    Map<String, String> env = PeerCommands.environment(variant,
        v.cliEnvironment(prefix, peers.home(v)));
    Path out = config.work().resolve("tree-" + variant.label() + ".out");
    List<String> put = reupload ? secondPut(base, variant) : List.of("put", "-q", "--no-cache",
        "-r", original.toString(), "--jobs", "16");
    return Contender.of(variantName(COFFER_PUT, variant), Counting.SERVER,
        round -> commands.run(peers.cli(variant, put.toArray(String[]::new)), env, out),
        round -> {
          if (reupload) {
            commands.run(peers.cli(variant, "deref", "-q", "--no-cache",
                Files.readString(out).strip()), env, null);
            change();
          } else {
            v.purge(prefix);
          }
        });
  }

  /** The contender {@code name} of a variant: {@code coffer put -r (CLI, LABEL)}. */
  static String variantName(String name, CliVariant variant) {
    return name.replace("(CLI)", "(CLI, " + variant.label() + ")");
  }

  private Path dir(boolean reupload) {
    return reupload ? changed : original;
  }

  /**
   * Coffer's second upload: a delta over {@code base}, with its cache directory (not {@code
   * --no-cache}) so that it keeps the hash index of the directory, as a build's second put of its
   * output directory does; the peers likewise compare each file's size and time, not its bytes.
   */
  private List<String> secondPut(String base) {
    return new ArrayList<>(List.of("put", "-q", "--cache-dir", cacheDir().toString(), "-r",
        changed.toString(), "--jobs", "16", "--base", base));
  }

  private List<String> secondPut(String base, CliVariant variant) {
    List<String> put = secondPut(base);
    put.set(put.indexOf(cacheDir().toString()), cacheDir(variant).toString());
    return put;
  }

  private Path cacheDir() {
    return config.work().resolve("tree/coffer-cache");
  }

  private Path cacheDir(CliVariant variant) {
    return config.work().resolve("tree/coffer-cache-" + variant.label());
  }

  /**
   * Puts the changed directory once by coffer, unmeasured, and releases what it stored: its hash
   * index then knows the directory (the state after a build's earlier put of it), and the store is
   * as before; the changed files then change again, so that the measured second uploads store new
   * content and hash those files again, as after a build.
   */
  void warmHashIndex(Venue v, String base) throws Exception {
    Map<String, String> env = v.cliEnvironment("tree-coffer/", peers.home(v));
    Path out = config.work().resolve("tree-warm.out");
    commands.run(peers.cli(secondPut(base).toArray(String[]::new)), env, out);
    commands.run(peers.cli("deref", "-q", "--no-cache", Files.readString(out).strip()), env,
        null);
    for (CliVariant variant : config.cliVariants()) {
      Map<String, String> variantEnv = PeerCommands.environment(variant,
          v.cliEnvironment("tree-coffer/", peers.home(v)));
      commands.run(peers.cli(variant, secondPut(base, variant).toArray(String[]::new)),
          variantEnv, out);
      commands.run(peers.cli(variant, "deref", "-q", "--no-cache",
          Files.readString(out).strip()), variantEnv, null);
    }
    change();
  }

  /**
   * After a first upload: the prefix is emptied for the next round. After a second: the original
   * is uploaded again (unmeasured), so the next round's second upload starts from the same state,
   * and the changed files change again ({@link #change()}).
   */
  private void after(Venue v, String prefix, boolean reupload, Contender.Action restore)
      throws Exception {
    if (reupload) {
      restore.accept(0);
      change();
    } else {
      v.purge(prefix);
    }
  }

  /** The first uploads; each round starts from an empty prefix. */
  List<Contender> firstUpload(Venue v) {
    return uploads(v, false, null);
  }

  /**
   * The second uploads; the caller has uploaded the original by every tool beforehand, by coffer
   * as tree {@code base}.
   */
  List<Contender> secondUpload(Venue v, String base) {
    return uploads(v, true, base);
  }

  /** Uploads the original by every tool, unmeasured: the state of the second upload and download. */
  void prepare(Venue v) throws Exception {
    for (Contender c : firstUpload(v)) {
      c.run(0);
    }
  }

  /** Downloads into an empty directory, which is deleted after each run. */
  List<Contender> download(Venue v, String tree) {
    Path out = config.work().resolve("tree/download");
    List<Contender> list = new ArrayList<>();
    Contender.Action clean = round -> delete(out);
    list.add(Contender.of(COFFER_GET, Counting.SERVER,
        round -> commands.run(peers.cli("get", "-q", "--no-cache", "-r", tree, "-o", out.toString(),
            "--jobs", "16"), v.cliEnvironment("tree-coffer/", peers.home(v)), null), clean));
    for (CliVariant variant : config.cliVariants()) {
      list.add(Contender.of(variantName(COFFER_GET, variant), Counting.SERVER,
          round -> commands.run(peers.cli(variant, "get", "-q", "--no-cache", "-r", tree, "-o",
              out.toString(), "--jobs", "16"), PeerCommands.environment(variant,
              v.cliEnvironment("tree-coffer/", peers.home(v))), null), clean));
    }
    if (available(config.awsCli(), AWS)) {
      list.add(Contender.of(AWS, Counting.SERVER,
          round -> commands.run(peers.aws(v, "s3", "sync", "s3://" + v.bucket + "/tree-aws/",
              out.toString()), peers.awsEnvironment(v), null), clean));
    }
    if (available(config.rclone(), RCLONE)) {
      list.add(Contender.of(RCLONE, Counting.SERVER,
          round -> commands.run(peers.rclone("copy", "--transfers", "16", "--checkers", "16",
              "bench:" + v.bucket + "/tree-rclone", out.toString()),
              v.cliEnvironment("", peers.home(v)), null), clean));
    }
    return list;
  }
}
