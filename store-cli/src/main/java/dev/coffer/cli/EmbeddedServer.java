package dev.coffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.s3server.Credentials;
import dev.coffer.s3server.Main;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The embedded S3 server the CLI uses when no bucket is configured: s3-server's {@code Main} (the
 * simulated S3's semantics, every request atomic, over HTTP on 127.0.0.1 only, SigV4 required) run
 * as a background process keeping its data under {@code <home>/embedded/s3}, so blobs survive
 * between runs; a later run finds it through {@code <home>/embedded/server.json} and reuses it, so
 * only the first command pays the start cost.
 *
 * <p>Its credentials are this installation's own, random, created once in {@code
 * <home>/embedded/credentials} (0600, AWS shared-credentials format; invariant SEC-10 of
 * docs/architecture.md); the CLI signs with them and the server accepts nothing else (SEC-8).
 *
 * <p>Its port is chosen once, kept in {@code <home>/embedded/port} beside the data, and used on
 * every start, so other clients pointed at the server keep working across restarts; the file holds
 * only a number, so it outlives a change of the server program. One process at a time starts the
 * server ({@code <home>/embedded/lock}). Invariant CLI-4 of docs/architecture.md.
 */
final class EmbeddedServer {
  static final String BUCKET = "coffer";
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  static final String PORT_FILE = "port";
  static final String CREDENTIALS_FILE = "credentials";
  static final String DATA_DIR = "s3";
  /**
   * Reads and writes {@code server.json}: made once, not by every command that looks for the
   * server (in the command daemon, each command would build one). Thread-safe: never
   * reconfigured.
   */
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where the running server is and how to sign for it. */
  record Endpoint(URI uri, Credentials credentials) {}

  private final Path dir;

  EmbeddedServer(Path home) {
    this.dir = home.resolve("embedded");
  }

  /**
   * The server's endpoint, starting the server first if none is running. Starting says so on
   * {@code notices} (what, where, and when it is up); finding it running says nothing.
   *
   * @throws ConfigException if the server cannot be started or its credentials read, naming why
   *     and what to do
   */
  Endpoint ensureRunning(PrintStream notices) throws IOException {
    Files.createDirectories(dir);
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system; permissions are the platform's default.
    }
    try (FileChannel lockFile = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
      Credentials credentials;
      try {
        credentials = Credentials.loadOrCreate(dir.resolve(CREDENTIALS_FILE));
      } catch (IOException e) {
        throw new ConfigException("cannot use the embedded server's credentials: "
            + e.getMessage());
      }
      URI running = running();
      return new Endpoint(running != null ? running : start(notices), credentials);
    }
  }

  private URI running() {
    Path state = dir.resolve("server.json");
    if (!Files.exists(state)) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(state.toFile());
      long pid = node.path("pid").asLong();
      int port = node.path("port").asInt();
      boolean alive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
      if (alive && answers(port)) {
        return endpoint(port);
      }
    } catch (IOException | RuntimeException e) {
      // An unreadable or stale state file: start a new server.
    }
    return null;
  }

  private URI start(PrintStream notices) throws IOException {
    Path data = dir.resolve(DATA_DIR);
    int port = port();
    if (!bindable(port)) {
      long last = lastServer().path("pid").asLong();
      if (last > 0 && ProcessHandle.of(last).map(ProcessHandle::isAlive).orElse(false)) {
        throw new ConfigException("the embedded server (pid " + last + ") holds port " + port
            + " but does not answer as this version's server does (see "
            + dir.resolve("server.log") + "); stop it with: kill " + last);
      }
      throw new ConfigException("port " + port + " of the embedded server (kept in "
          + dir.resolve(PORT_FILE) + ") is taken by another program; stop that program, or"
          + " delete the file to choose a new port");
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      command.add("/usr/bin/setsid"); // detach from the terminal's signals: the server outlives us
    }
    // Request bodies are held whole (a part, up to 512 MiB): room for two at once.
    command.addAll(List.of(java, "-Xmx2g", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--data", data.toString(),
        "--credentials", dir.resolve(CREDENTIALS_FILE).toString(),
        "--port", Integer.toString(port),
        "--bucket", BUCKET));
    notices.printf("coffer: no bucket configured; starting the embedded S3 server on %s (this"
        + " machine only; credentials in %s) with its data in %s (set COFFER_BUCKET to use S3)%n",
        endpoint(port), dir.resolve(CREDENTIALS_FILE), data);
    Path log = dir.resolve("server.log");
    long t0 = System.nanoTime();
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!answers(port)) {
      if (!process.isAlive()) {
        throw new ConfigException("the embedded server failed to start; see " + log);
      }
      if (System.nanoTime() > deadline) {
        process.destroy();
        throw new ConfigException("the embedded server did not answer within "
            + START_TIMEOUT.toSeconds() + " s; see " + log);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ConfigException("interrupted while starting the embedded server");
      }
    }
    long pid = process.pid();
    Files.writeString(dir.resolve("server.json"), JSON.writeValueAsString(
        Map.of("pid", pid, "port", port, "data", data.toString())));
    notices.printf(Locale.ROOT, "coffer: the embedded server is up after %.1f s; it keeps running"
        + " for later commands (stop it with: kill %d)%n", (System.nanoTime() - t0) / 1e9, pid);
    return endpoint(port);
  }

  /**
   * The server's port: the one kept in {@code port}; else, for a server started before the file
   * existed, the port of its last run; else a free port, which is then kept.
   */
  private int port() throws IOException {
    Path file = dir.resolve(PORT_FILE);
    if (Files.exists(file)) {
      String text = Files.readString(file).trim();
      try {
        int port = Integer.parseInt(text);
        if (port > 0 && port < 65536) {
          return port;
        }
      } catch (NumberFormatException e) {
        // Reported below.
      }
      throw new ConfigException("invalid port \"" + text + "\" in " + file
          + "; delete the file to choose a new port");
    }
    int port = lastPort();
    if (port <= 0) {
      port = freePort(0);
    }
    Path temp = dir.resolve(PORT_FILE + ".tmp");
    Files.writeString(temp, port + "\n");
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return port;
  }

  private int lastPort() {
    return lastServer().path("port").asInt();
  }

  /** What {@code server.json} says of the last server started, or an empty node. */
  private JsonNode lastServer() {
    try {
      return JSON.readTree(dir.resolve("server.json").toFile());
    } catch (IOException | RuntimeException e) {
      return JSON.createObjectNode();
    }
  }

  /** Whether this version's server answers on the port (see {@link ServerIdentity}). */
  private static boolean answers(int port) {
    return ServerIdentity.answers(port, BUCKET);
  }

  private static URI endpoint(int port) {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** A free loopback port other than {@code other}. */
  private static int freePort(int other) throws IOException {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (socket.getLocalPort() != other) {
          return socket.getLocalPort();
        }
      }
    }
  }

  /** Whether a server could listen on the loopback port now. */
  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
