package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code bin/coffer} as a user runs it, in a copy of the project's layout under a temporary
 * directory: the launcher and its archive's training script, the built
 * {@code store-cli/target/coffer.jar} and its libraries, the command daemon's client's source,
 * and the README, without any class-data-sharing archive, so each test sees a first run after a
 * build. Commands run through {@code bash -c} with only the environment given (plus {@code PATH}),
 * and without the command daemon ({@code COFFER_DAEMON=0}) unless {@link #withDaemon()} is
 * called. {@link #close()} stops the daemons and a training the launcher started and waits for them
 * to end ({@link #awaitTraining()} lets a training finish), then removes the link to the libraries,
 * so the temporary directory's cleanup never meets a link to outside it nor a file being written.
 */
final class Launcher implements AutoCloseable {
  private final Path root;
  /** The daemon directories of the runs' environments, whose daemons {@link #close()} stops. */
  private final Set<Path> daemonDirs = new LinkedHashSet<>();
  private boolean daemon;

  private Launcher(Path root) {
    this.root = root;
  }

  static final String CLIENT_SOURCE = "store-cli/src/main/c/coffer-client.c";

  /** The project's root, from the build ({@code coffer.root}). */
  static Path projectRoot() {
    return Path.of(System.getProperty("coffer.root", "..")).toAbsolutePath().normalize();
  }

  /** Lays out a copy of the built tool under {@code dir}. */
  static Launcher copyInto(Path dir) throws IOException {
    Path project = projectRoot();
    Path jar = project.resolve("store-cli/target/coffer.jar");
    Path lib = project.resolve("store-cli/target/lib");
    assertThat(jar).as("the built tool (package store-cli first)").isRegularFile();
    Path root = dir.resolve("root");
    Files.createDirectories(root.resolve("bin"));
    Files.createDirectories(root.resolve("store-cli/target"));
    Files.copy(project.resolve("bin/coffer"), root.resolve("bin/coffer"));
    Files.copy(project.resolve("bin/coffer-put.directives.json"),
        root.resolve("bin/coffer-put.directives.json"));
    Files.copy(project.resolve("bin/coffer-cds-train"), root.resolve("bin/coffer-cds-train"));
    Files.createDirectories(root.resolve("store-cli/src/main/c"));
    Files.copy(project.resolve(CLIENT_SOURCE), root.resolve(CLIENT_SOURCE));
    for (String script : new String[] {"bin/coffer", "bin/coffer-cds-train"}) {
      Files.setPosixFilePermissions(root.resolve(script),
          PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.copy(jar, root.resolve("store-cli/target/coffer.jar"),
        StandardCopyOption.COPY_ATTRIBUTES);
    Files.createSymbolicLink(root.resolve("store-cli/target/lib"), lib);
    Files.copy(project.resolve("README.md"), root.resolve("README.md"));
    return new Launcher(root);
  }

  Path root() {
    return root;
  }

  /** Lets later runs use the command daemon as a user's would: {@code COFFER_DAEMON} unset. */
  Launcher withDaemon() {
    daemon = true;
    return this;
  }

  /**
   * Whether this machine has the 4 GiB of memory (or container limit) above which {@code
   * bin/coffer} gives put, get and the daemon a young generation of 256 MiB.
   */
  static boolean fourGibOrMore() {
    return ((com.sun.management.OperatingSystemMXBean)
        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize() >= 4L << 30;
  }

  /** The daemon directory of a run with {@code env}: {@code $COFFER_HOME/daemon}. */
  static Path daemonDir(Map<String, String> env) {
    String home = env.get("COFFER_HOME");
    return home != null ? Path.of(home, "daemon") : Path.of(env.get("HOME"), ".coffer/daemon");
  }

  /**
   * The command daemons alive in {@code dir}, by their pid files ({@code <key>.pid}), by key.
   */
  static Map<String, ProcessHandle> daemons(Path dir) throws IOException {
    Map<String, ProcessHandle> found = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return found;
    }
    try (var files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".pid")).toList()) {
        String name = file.getFileName().toString();
        String pid;
        try {
          pid = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (NoSuchFileException e) {
          continue; // it ended meanwhile
        }
        if (pid.matches("\\d+")) {
          ProcessHandle.of(Long.parseLong(pid))
              .filter(p -> p.info().commandLine().orElse("").contains("dev.coffer.cli.Daemon"))
              .ifPresent(p -> found.put(name.substring(0, name.length() - 4), p));
        }
      }
    }
    return found;
  }

  @Override
  public void close() throws IOException {
    try {
      stopDaemons();
      stopTraining();
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      throw new IOException("the archive's training or a daemon did not stop", e);
    } finally {
      Files.deleteIfExists(root.resolve("store-cli/target/lib"));
    }
  }

  /** Stops the command daemons the runs started (SIGTERM) and waits for them to end. */
  private void stopDaemons() throws IOException, InterruptedException, ExecutionException,
      TimeoutException {
    for (Path dir : daemonDirs) {
      for (ProcessHandle daemon : daemons(dir).values()) {
        daemon.destroy();
        daemon.onExit().get(1, TimeUnit.MINUTES);
      }
    }
  }

  /**
   * Waits for the class-data-sharing archive's training, if the launcher started one, to end: its
   * claim is {@code store-cli/target/coffer.jsa.PID}, PID the training's.
   */
  void awaitTraining() throws IOException, InterruptedException, ExecutionException,
      TimeoutException {
    for (ProcessHandle training : trainings()) {
      training.onExit().get(5, TimeUnit.MINUTES);
    }
  }

  /**
   * Stops a training still running (its commands, then the script, whose exit stops its embedded
   * server and removes its files) and waits for it to end: a test that does not look at the
   * archive does not wait the half minute a training takes.
   */
  private void stopTraining() throws IOException, InterruptedException, ExecutionException,
      TimeoutException {
    for (ProcessHandle training : trainings()) {
      training.descendants().forEach(ProcessHandle::destroy);
      training.destroy();
      training.onExit().get(1, TimeUnit.MINUTES);
    }
  }

  /** The trainings the launcher started that are still running. */
  private List<ProcessHandle> trainings() throws IOException {
    try (var files = Files.list(root.resolve("store-cli/target"))) {
      return files.map(f -> f.getFileName().toString())
          .filter(name -> name.matches("coffer\\.jsa\\.\\d+"))
          .map(name -> ProcessHandle.of(Long.parseLong(name.substring(name.lastIndexOf('.') + 1))))
          .flatMap(Optional::stream).toList();
    }
  }

  record Run(int code, byte[] stdout, String stderr) {
    List<String> errLines() {
      return stderr.lines().toList();
    }
  }

  /** Runs {@code script} with {@code bash -c} in the root, with {@code env} and the PATH only. */
  Run bash(String script, Map<String, String> env) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", "-c", script));
    return run(command, env);
  }

  /** Runs {@code command} in the root, with {@code env} and the PATH only. */
  Run run(List<String> command, Map<String, String> env) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile());
    builder.environment().clear();
    builder.environment().put("PATH", System.getenv("PATH"));
    if (!daemon) {
      builder.environment().put("COFFER_DAEMON", "0");
    }
    builder.environment().putAll(env);
    if (env.containsKey("HOME") || env.containsKey("COFFER_HOME")) {
      daemonDirs.add(daemonDir(env));
    }
    Path out = Files.createTempFile(root, "stdout", ".txt");
    Path err = Files.createTempFile(root, "stderr", ".txt");
    Process process = builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
        "/dev/null"))).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("%s finished", command).isTrue();
    return new Run(process.exitValue(), Files.readAllBytes(out),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** Stops the embedded server a run started under {@code home}, if any, and waits for it. */
  static void stopEmbeddedServer(Path home) throws Exception {
    Path state = home.resolve(".coffer/embedded/server.json");
    if (!Files.exists(state)) {
      return;
    }
    long pid = new ObjectMapper().readTree(state.toFile()).path("pid").asLong();
    var handle = ProcessHandle.of(pid);
    if (handle.isPresent()) {
      handle.get().destroy();
      handle.get().onExit().get(60, TimeUnit.SECONDS);
    }
  }
}
