package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command daemon through {@code bin/coffer} as a user runs it, in a fresh home: the first
 * command runs in its own JVM and starts a daemon; the next ones run in the daemon. That a command
 * ran in the daemon is shown by a JVM option no JVM accepts ({@code JAVA_TOOL_OPTIONS}, a variable
 * the daemon's key and check leave out): a JVM started for the command fails, the daemon serves it.
 */
class LauncherDaemonIT {

  /** What makes any JVM started for a command fail at once. */
  private static final Map<String, String> NO_NEW_JVM =
      Map.of("JAVA_TOOL_OPTIONS", "-XX:+CofferNoSuchOption");

  @TempDir
  Path tmp;

  @Test
  void theFirstCommandStartsADaemonThatServesTheNextOnes() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0");
    Path dir = Launcher.daemonDir(env);
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      Path readme = launcher.root().resolve("README.md");
      Launcher.Run first = launcher.bash("bin/coffer put README.md", env);
      assertThat(first.code()).as(first.stderr()).isZero();
      String digest = text(first.stdout());
      assertThat(digest).isEqualTo("sha256:" + sha256(Files.readAllBytes(readme)));
      assertThat(first.stderr()).doesNotContain("daemon");
      String key = awaitOneDaemon(dir);

      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
          .isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(
          Files.getPosixFilePermissions(dir.resolve(key + ".sock")))).isEqualTo("rw-------");

      Map<String, String> served = with(env, NO_NEW_JVM);
      Launcher.Run plain = launcher.bash("COFFER_DAEMON=0 bin/coffer get " + digest, served);
      assertThat(plain.code()).as("a JVM of its own cannot start").isNotZero();
      assertThat(plain.stderr()).contains("CofferNoSuchOption");

      Launcher.Run get = launcher.bash("bin/coffer get " + digest, served);
      assertThat(get.code()).as(get.stderr()).isZero();
      assertThat(get.stdout()).isEqualTo(Files.readAllBytes(readme));

      // Paths as typed, from another working directory.
      Path work = Files.createDirectories(launcher.root().resolve("work"));
      byte[] small = "relative to the command's own directory\n".getBytes(StandardCharsets.UTF_8);
      Files.write(work.resolve("a.txt"), small);
      Launcher.Run relative = launcher.bash("cd work && ../bin/coffer put a.txt"
          + " && ../bin/coffer get -o b.txt sha256:" + sha256(small), served);
      assertThat(relative.code()).as(relative.stderr()).isZero();
      assertThat(text(relative.stdout())).isEqualTo("sha256:" + sha256(small));
      assertThat(work.resolve("b.txt")).hasBinaryContent(small);

      // stdin, pulled through the client.
      byte[] big = new byte[24 << 20];
      new Random(7).nextBytes(big);
      Files.write(tmp.resolve("big.bin"), big);
      Launcher.Run put = launcher.bash("bin/coffer put - <" + tmp.resolve("big.bin"), served);
      assertThat(put.code()).as(put.stderr()).isZero();
      assertThat(text(put.stdout())).isEqualTo("sha256:" + sha256(big));
      Launcher.Run getBig = launcher.bash("bin/coffer get sha256:" + sha256(big), served);
      assertThat(getBig.code()).as(getBig.stderr()).isZero();
      assertThat(getBig.stdout()).isEqualTo(big);

      // A failure: the same exit code and message as a plain run.
      String missing = "bin/coffer get sha256:" + "0".repeat(64);
      Launcher.Run failedPlain = launcher.bash("COFFER_DAEMON=0 " + missing, env);
      Launcher.Run failed = launcher.bash(missing, served);
      assertThat(failedPlain.code()).isNotZero();
      assertThat(failed.code()).as(failed.stderr()).isEqualTo(failedPlain.code());
      assertThat(failed.stderr()).isEqualTo(failedPlain.stderr());
      assertThat(failed.stdout()).isEmpty();

      // A reader that stops early ends the command; the daemon serves the next one.
      Launcher.Run head = launcher.bash(
          "bin/coffer get sha256:" + sha256(big) + " | head -c 1; echo \" ${PIPESTATUS[0]}\"",
          served);
      assertThat(head.code()).as(head.stderr()).isZero();
      byte[] expected = (" 141\n").getBytes(StandardCharsets.US_ASCII);
      assertThat(head.stdout()).hasSize(1 + expected.length).startsWith(big[0]).endsWith(expected);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        Launcher.Run next = launcher.bash("bin/coffer get " + digest, served);
        assertThat(next.code()).as(next.stderr()).isZero();
        assertThat(next.stdout()).isEqualTo(Files.readAllBytes(readme));
      });

      ProcessHandle daemon = Launcher.daemons(dir).get(key);
      Launcher.Run status = launcher.bash("bin/coffer daemon status", env);
      assertThat(status.code()).as(status.stderr()).isZero();
      assertThat(text(status.stdout())).startsWith(daemon.pid() + " " + key + " idle since ");

      Launcher.Run stop = launcher.bash("bin/coffer daemon stop", env);
      assertThat(stop.code()).as(stop.stderr()).isZero();
      assertThat(text(stop.stdout()))
          .isEqualTo("coffer: stopped the command daemon " + daemon.pid() + " (" + key + ")");
      assertThat(dir.resolve(key + ".sock")).doesNotExist();
      assertThat(dir.resolve(key + ".pid")).doesNotExist();
      // Ended; the process table may keep it a moment longer, until it is reaped.
      daemon.onExit().get(1, TimeUnit.MINUTES);
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  /**
   * A first put waits for the daemon it starts and runs in it, so that what it compiles serves the
   * next commands: one JVM in all (each JVM logs to a file named by its pid, {@code pidN.log}).
   */
  @Test
  void theFirstPutRunsInTheDaemonItStarts() throws Exception {
    Path logs = Files.createDirectories(tmp.resolve("vm-logs"));
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of(
        "HOME", home.toString(),
        "COFFER_CDS", "0",
        "COFFER_JAVA_OPTS", "-XX:+UnlockDiagnosticVMOptions -XX:+LogVMOutput -XX:LogFile=" + logs
            + "/%p.log");
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      Launcher.Run put = launcher.bash("bin/coffer put README.md", env);
      assertThat(put.code()).as(put.stderr()).isZero();
      assertThat(text(put.stdout())).isEqualTo(
          "sha256:" + sha256(Files.readAllBytes(launcher.root().resolve("README.md"))));
      Path dir = Launcher.daemonDir(env);
      long daemon = Launcher.daemons(dir).get(awaitOneDaemon(dir)).pid();
      try (var files = Files.list(logs)) {
        assertThat(files.map(f -> f.getFileName().toString()).toList())
            .containsExactly("pid" + daemon + ".log");
      }
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  /**
   * The daemon runs put and get's compiler settings and the parallel collector with a young
   * generation of 256 MiB (where there are 4 GiB of memory or more); a collector named in
   * COFFER_JAVA_OPTS replaces that one (two would stop the VM from starting) and the daemon still
   * starts.
   */
  @Test
  void theDaemonRunsTheRequestPathsCompilerAndABoundedYoungGeneration() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Path home2 = Files.createDirectories(tmp.resolve("home2"));
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0");
      Launcher.Run first = launcher.bash("bin/coffer put README.md", env);
      assertThat(first.code()).as(first.stderr()).isZero();
      List<String> args = daemonArguments(Launcher.daemonDir(env));
      assertThat(args).contains("-XX:+UseParallelGC", "-XX:Tier4InvocationThreshold=500",
          "-XX:Tier4MinInvocationThreshold=100", "-XX:Tier4CompileThreshold=1000");
      if (Launcher.fourGibOrMore()) {
        assertThat(args).contains("-XX:MaxNewSize=256m", "-XX:NewSize=256m");
      }
      assertThat(args).anyMatch(a -> a.startsWith("-XX:CompilerDirectivesFile=")
          && a.endsWith("/bin/coffer-put.directives.json"));

      Map<String, String> own = Map.of("HOME", home2.toString(), "COFFER_CDS", "0",
          "COFFER_JAVA_OPTS", "-XX:+UseSerialGC");
      Launcher.Run put = launcher.bash("bin/coffer put README.md", own);
      assertThat(put.code()).as(put.stderr()).isZero();
      assertThat(text(put.stdout())).isEqualTo(text(first.stdout()));
      List<String> ownArgs = daemonArguments(Launcher.daemonDir(own));
      assertThat(ownArgs).contains("-XX:+UseSerialGC", "-XX:Tier4InvocationThreshold=500")
          .doesNotContain("-XX:+UseParallelGC", "-XX:NewSize=256m");
    } finally {
      Launcher.stopEmbeddedServer(home);
      Launcher.stopEmbeddedServer(home2);
    }
  }

  /**
   * A command creates files and directories with the permissions the client's umask gives, as in
   * a JVM of its own, whatever the umask the daemon was started with: a daemon started under umask
   * 022, asked directly by a client under 077, declines (nothing done, exit 125); under 077, {@code
   * get -o FILE}, {@code get -r TREE -o DIR} and {@code get DIGEST... -o DIR} make files 0600 and
   * directories 0700 (a tree's entries keep the modes stored with them: here 0600 and 0700), in a
   * daemon of their own (the key names the umask). A client under the first daemon's umask is
   * still served by it.
   */
  @Test
  void filesGetTheClientsUmaskNotTheDaemons() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0");
    Path dir = Launcher.daemonDir(env);
    Path tree = Files.createDirectories(tmp.resolve("tree/sub")).getParent();
    byte[] a = "a private file\n".getBytes(StandardCharsets.UTF_8);
    byte[] b = "another, one directory down\n".getBytes(StandardCharsets.UTF_8);
    Files.write(tree.resolve("a.txt"), a);
    Files.write(tree.resolve("sub/b.txt"), b);
    for (Path file : List.of(tree.resolve("a.txt"), tree.resolve("sub/b.txt"))) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
    for (Path d : List.of(tree.resolve("sub"), tree)) {
      Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
    }
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      // The first put starts the daemon under umask 022 and runs in it.
      Launcher.Run putTree = launcher.bash("umask 022 && bin/coffer put -r " + tree, env);
      assertThat(putTree.code()).as(putTree.stderr()).isZero();
      String treeDigest = text(putTree.stdout());
      String key = awaitOneDaemon(dir);

      Launcher.Run declined = launcher.bash("umask 077 && store-cli/target/coffer-client "
          + dir.resolve(key + ".sock") + " --version", env);
      assertThat(declined.code()).as("declined: nothing done").isEqualTo(125);
      assertThat(declined.stdout()).isEmpty();

      Path work = Files.createDirectories(tmp.resolve("work"));
      Launcher.Run get = launcher.bash("umask 077 && cd " + work + " && " + launcher.root()
          + "/bin/coffer get -o secret.bin sha256:" + sha256(a), env);
      assertThat(get.code()).as(get.stderr()).isZero();
      assertThat(work.resolve("secret.bin")).hasBinaryContent(a);
      assertThat(mode(work.resolve("secret.bin"))).isEqualTo("rw-------");

      Launcher.Run getTree = launcher.bash("umask 077 && cd " + work + " && " + launcher.root()
          + "/bin/coffer get -r " + treeDigest + " -o restored/tree", env);
      assertThat(getTree.code()).as(getTree.stderr()).isZero();
      Path restored = work.resolve("restored/tree");
      assertThat(restored.resolve("a.txt")).hasBinaryContent(a);
      assertThat(restored.resolve("sub/b.txt")).hasBinaryContent(b);
      for (Path d : List.of(work.resolve("restored"), restored, restored.resolve("sub"))) {
        assertThat(mode(d)).as("%s", d).isEqualTo("rwx------");
      }
      for (Path file : List.of(restored.resolve("a.txt"), restored.resolve("sub/b.txt"))) {
        assertThat(mode(file)).as("%s", file).isEqualTo("rw-------");
      }

      Launcher.Run getBlobs = launcher.bash("umask 077 && cd " + work + " && " + launcher.root()
          + "/bin/coffer get -o blobs sha256:" + sha256(a) + " sha256:" + sha256(b), env);
      assertThat(getBlobs.code()).as(getBlobs.stderr()).isZero();
      assertThat(mode(work.resolve("blobs"))).isEqualTo("rwx------");
      for (byte[] bytes : List.of(a, b)) {
        Path blob = work.resolve("blobs").resolve(sha256(bytes));
        assertThat(blob).hasBinaryContent(bytes);
        assertThat(mode(blob)).as("%s", blob).isEqualTo("rw-------");
      }

      assertThat(Launcher.daemons(dir)).as("one daemon a umask").hasSize(2).containsKey(key);
      // Under the first daemon's umask, served: no JVM of its own could start.
      Launcher.Run served = launcher.bash("umask 022 && cd " + work + " && " + launcher.root()
          + "/bin/coffer get -o shared.bin sha256:" + sha256(a), with(env, NO_NEW_JVM));
      assertThat(served.code()).as(served.stderr()).isZero();
      assertThat(work.resolve("shared.bin")).hasBinaryContent(a);
      assertThat(mode(work.resolve("shared.bin"))).isEqualTo("rw-r--r--");
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  private static String mode(Path path) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
  }

  /** The JVM arguments of the one daemon of {@code dir}, once it listens. */
  private static List<String> daemonArguments(Path dir) throws IOException {
    String key = awaitOneDaemon(dir);
    return List.of(Launcher.daemons(dir).get(key).info().arguments().orElseThrow());
  }

  @Test
  void anotherEnvironmentIsNotServedByTheFirstDaemon() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0");
    Path dir = Launcher.daemonDir(env);
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      Launcher.Run first = launcher.bash("bin/coffer --version", env);
      assertThat(first.code()).as(first.stderr()).isZero();
      String key = awaitOneDaemon(dir);

      Map<String, String> other = with(env, Map.of("COFFER_PREFIX", "other/"));
      Launcher.Run notServed = launcher.bash("bin/coffer --version", with(other, NO_NEW_JVM));
      assertThat(notServed.code()).as("run in a JVM of its own").isNotZero();
      assertThat(notServed.stderr()).contains("CofferNoSuchOption");
      // Even asked directly, the first daemon declines: nothing done, exit 125.
      Launcher.Run declined = launcher.bash("store-cli/target/coffer-client "
          + dir.resolve(key + ".sock") + " --version", other);
      assertThat(declined.code()).isEqualTo(125);
      assertThat(declined.stdout()).isEmpty();
      assertThat(declined.stderr()).isEmpty();

      Launcher.Run second = launcher.bash("bin/coffer --version", other);
      assertThat(second.code()).as(second.stderr()).isZero();
      await().atMost(Duration.ofMinutes(1))
          .until(() -> Launcher.daemons(dir).size() == 2 && Files.exists(
              dir.resolve(otherKey(dir, key) + ".sock")));
    }
  }

  @Test
  void aRebuiltJarEndsTheOldDaemon() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0");
    Path dir = Launcher.daemonDir(env);
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      Launcher.Run first = launcher.bash("bin/coffer --version", env);
      assertThat(first.code()).as(first.stderr()).isZero();
      String key = awaitOneDaemon(dir);
      ProcessHandle daemon = Launcher.daemons(dir).get(key);

      Path jar = launcher.root().resolve("store-cli/target/coffer.jar");
      Files.setLastModifiedTime(jar,
          FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
      Launcher.Run rebuilt = launcher.bash("bin/coffer --version", with(env, NO_NEW_JVM));
      assertThat(rebuilt.code()).as("run in a JVM of its own").isNotZero();
      // The old daemon, asked directly, sees the jar changed: it declines and exits.
      Launcher.Run old = launcher.bash("store-cli/target/coffer-client "
          + dir.resolve(key + ".sock") + " --version", env);
      assertThat(old.code()).isEqualTo(125);
      daemon.onExit().get(1, TimeUnit.MINUTES);
      assertThat(dir.resolve(key + ".sock")).doesNotExist();
    }
  }

  @Test
  void twoCommandsStartedTogetherStartOneDaemonWhichEndsWhenIdle() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    // Every JVM says on its stderr that it picked the variable up: the daemon's, in its log.
    Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0",
        "COFFER_DAEMON_IDLE", "3s", "JAVA_TOOL_OPTIONS", "-Dcoffer.it=1");
    Path dir = Launcher.daemonDir(env);
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      Launcher.Run both = launcher.bash(
          "bin/coffer --version & a=$!; bin/coffer --version & b=$!; wait $a && wait $b", env);
      assertThat(both.code()).as(both.stderr()).isZero();
      assertThat(text(both.stdout()).lines()).hasSize(2);
      String key = awaitOneDaemon(dir);
      ProcessHandle daemon = Launcher.daemons(dir).get(key);
      assertThat(Files.readString(dir.resolve(key + ".log")))
          .containsOnlyOnce("Picked up JAVA_TOOL_OPTIONS");

      daemon.onExit().get(1, TimeUnit.MINUTES);
      assertThat(dir.resolve(key + ".sock")).doesNotExist();
      assertThat(dir.resolve(key + ".pid")).doesNotExist();
      assertThat(Files.readString(dir.resolve(key + ".log"))).contains("idle");
    }
  }

  @Test
  void withTheDaemonOffNoDaemonOrClientIsMade() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0",
        "COFFER_DAEMON", "0");
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      Launcher.Run run = launcher.bash("bin/coffer put README.md | xargs bin/coffer get", env);
      assertThat(run.code()).as(run.stderr()).isZero();
      assertThat(run.stdout())
          .isEqualTo(Files.readAllBytes(launcher.root().resolve("README.md")));
      assertThat(Launcher.daemonDir(env)).doesNotExist();
      assertThat(launcher.root().resolve("store-cli/target/coffer-client")).doesNotExist();
    } finally {
      Launcher.stopEmbeddedServer(home);
    }
  }

  @Test
  void theKeyNamesTheJarAndTheCheckedVariablesOnly() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of("HOME", home.toString());
    Path dir = Files.createDirectories(Launcher.daemonDir(env),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      compileClient(launcher);
      String key = key(launcher, dir, "store-cli/target/coffer.jar", env);
      assertThat(key).matches("[0-9a-f]{16}");
      assertThat(key(launcher, dir, "store-cli/target/coffer.jar", env)).isEqualTo(key);
      // The jar by another path to it: the same jar, the same key.
      assertThat(key(launcher, dir, "bin/../store-cli/target/coffer.jar", env)).isEqualTo(key);
      assertThat(key(launcher, dir, launcher.root().resolve("store-cli/target/coffer.jar")
          .toString(), env)).isEqualTo(key);
      // Variables no library reads, and the launcher's own, leave it alone.
      assertThat(key(launcher, dir, "store-cli/target/coffer.jar", with(env, Map.of("FOO", "1"))))
          .isEqualTo(key);
      assertThat(key(launcher, dir, "store-cli/target/coffer.jar",
          with(env, Map.of("COFFER_DAEMON_IDLE", "3s", "JAVA_TOOL_OPTIONS", "-Dx=1"))))
          .isEqualTo(key);

      String region = key(launcher, dir, "store-cli/target/coffer.jar",
          with(env, Map.of("AWS_REGION", "eu-west-1")));
      String otherRegion = key(launcher, dir, "store-cli/target/coffer.jar",
          with(env, Map.of("AWS_REGION", "eu-west-2")));
      String prefix = key(launcher, dir, "store-cli/target/coffer.jar",
          with(env, Map.of("COFFER_PREFIX", "other/")));
      String locale = key(launcher, dir, "store-cli/target/coffer.jar",
          with(env, Map.of("LC_ALL", "C")));
      assertThat(List.of(key, region, otherRegion, prefix, locale)).doesNotHaveDuplicates();

      Path jar = launcher.root().resolve("store-cli/target/coffer.jar");
      Files.setLastModifiedTime(jar,
          FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
      String rebuilt = key(launcher, dir, "store-cli/target/coffer.jar", env);
      assertThat(rebuilt).isNotEqualTo(key).matches("[0-9a-f]{16}");

      // The umask: a client under another one finds a daemon of its own.
      String keyCommand = "store-cli/target/coffer-client --key " + dir
          + " store-cli/target/coffer.jar";
      List<String> byUmask = new ArrayList<>();
      for (String umask : List.of("022", "077", "022")) {
        Launcher.Run run = launcher.bash("umask " + umask + " && " + keyCommand, env);
        assertThat(run.code()).as(run.stderr()).isZero();
        byUmask.add(text(run.stdout()));
      }
      assertThat(byUmask.get(0)).matches("[0-9a-f]{16}").isEqualTo(byUmask.get(2))
          .isNotEqualTo(byUmask.get(1));
    }
  }

  @Test
  void aDaemonDirectoryOthersMayEnterMeansNoDaemon() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = Map.of("HOME", home.toString(), "COFFER_CDS", "0");
    Path dir = Files.createDirectories(Launcher.daemonDir(env));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
    try (Launcher launcher = Launcher.copyInto(tmp).withDaemon()) {
      for (int i = 0; i < 2; i++) {
        Launcher.Run run = launcher.bash("bin/coffer --version", env);
        assertThat(run.code()).as(run.stderr()).isZero();
        assertThat(text(run.stdout())).startsWith("coffer ");
      }
      // The launcher compiled the client, which refuses the directory: nothing done, exit 125.
      for (String mode : List.of("--key", "--run")) {
        Launcher.Run client = launcher.bash("store-cli/target/coffer-client " + mode + " " + dir
            + " store-cli/target/coffer.jar --version", env);
        assertThat(client.code()).as(mode).isEqualTo(125);
        assertThat(client.stdout()).isEmpty();
        assertThat(client.stderr()).isEmpty();
      }
      assertThat(dir).isEmptyDirectory();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
          .isEqualTo("rwxr-x---");
    }
  }

  /** Compiles the client as the launcher does on first use. */
  private static void compileClient(Launcher launcher) throws Exception {
    Launcher.Run cc = launcher.bash(
        "cc -O2 -o store-cli/target/coffer-client " + Launcher.CLIENT_SOURCE, Map.of());
    assertThat(cc.code()).as(cc.stderr()).isZero();
  }

  /** The key the client prints for {@code jar} (a path from the root) and {@code env}. */
  private static String key(Launcher launcher, Path dir, String jar, Map<String, String> env)
      throws Exception {
    Launcher.Run run = launcher.run(List.of(launcher.root().resolve(
        "store-cli/target/coffer-client").toString(), "--key", dir.toString(), jar), env);
    assertThat(run.code()).as(run.stderr()).isZero();
    assertThat(run.stderr()).isEmpty();
    return text(run.stdout());
  }

  /** Waits for the first command's daemon to listen; returns its key. */
  private static String awaitOneDaemon(Path dir) {
    return await().atMost(Duration.ofMinutes(1)).until(() -> {
      Map<String, ProcessHandle> daemons = Launcher.daemons(dir);
      return daemons.size() == 1 && Files.exists(dir.resolve(daemons.keySet().iterator().next()
          + ".sock")) ? daemons.keySet().iterator().next() : null;
    }, key -> key != null);
  }

  private static String otherKey(Path dir, String key) throws Exception {
    return Launcher.daemons(dir).keySet().stream().filter(k -> !k.equals(key)).findFirst()
        .orElse("none");
  }

  private static Map<String, String> with(Map<String, String> env, Map<String, String> more) {
    Map<String, String> all = new HashMap<>(env);
    all.putAll(more);
    return all;
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8).strip();
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
