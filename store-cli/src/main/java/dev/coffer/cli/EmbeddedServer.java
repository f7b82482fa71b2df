package dev.coffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The embedded S3-compatible server (S3Mock) the CLI uses when no bucket is configured. It runs as a
 * background process keeping its data under {@code <home>/embedded/data}, so blobs survive between
 * runs; a later run finds it through {@code <home>/embedded/server.json} and reuses it, so only the
 * first command pays the start cost.
 */
final class EmbeddedServer {
  static final String BUCKET = "coffer";
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  private final Path dir;

  EmbeddedServer(Path home) {
    this.dir = home.resolve("embedded");
  }

  /** The server's endpoint, starting the server first if none is running. */
  URI ensureRunning(PrintStream notices) throws IOException {
    Files.createDirectories(dir);
    try (FileChannel lockFile = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
      URI running = running();
      if (running != null) {
        return running;
      }
      return start(notices);
    }
  }

  private URI running() {
    Path state = dir.resolve("server.json");
    if (!Files.exists(state)) {
      return null;
    }
    try {
      JsonNode node = new ObjectMapper().readTree(state.toFile());
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
    Path jar = serverJar();
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system; permissions are the platform's default.
    }
    int port = freePort();
    int adminPort = freePort();
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      command.add("/usr/bin/setsid"); // detach from the terminal's signals: the server outlives us
    }
    command.addAll(List.of(java, "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-jar", jar.toString(),
        "--com.adobe.testing.s3mock.httpPort=" + port,
        "--server.port=" + adminPort,
        "--server.address=127.0.0.1",
        "--com.adobe.testing.s3mock.store.root=" + data,
        "--com.adobe.testing.s3mock.store.retainFilesOnExit=true",
        "--com.adobe.testing.s3mock.store.initialBuckets=" + BUCKET));
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
    Files.writeString(dir.resolve("server.json"), new ObjectMapper().writeValueAsString(
        Map.of("pid", pid, "port", port, "data", data.toString())));
    notices.printf("coffer: started the embedded server on 127.0.0.1:%d in %.1f s (data in %s;"
        + " stop it with: kill %d)%n", port, (System.nanoTime() - t0) / 1e9, data, pid);
    return endpoint(port);
  }

  /** Whether an S3 server answers HTTP on the port (any status: it is up). */
  private static boolean answers(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
    } catch (IOException e) {
      return false;
    }
    try {
      HttpResponse<Void> response = HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(1)).build()
          .send(HttpRequest.newBuilder(endpoint(port).resolve("/" + BUCKET))
              .method("HEAD", HttpRequest.BodyPublishers.noBody())
              .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
      return response.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static URI endpoint(int port) {
    return URI.create("http://127.0.0.1:" + port);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /**
   * The S3Mock executable jar: the {@code coffer.s3mock.jar} system property (set by the launcher),
   * else {@code lib/s3mock.jar} beside the CLI's jar.
   */
  static Path serverJar() {
    String property = System.getProperty("coffer.s3mock.jar");
    if (property != null && Files.isRegularFile(Path.of(property))) {
      return Path.of(property);
    }
    try {
      Path self = Path.of(EmbeddedServer.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI());
      Path beside = self.getParent()
          .resolve("lib").resolve("s3mock.jar");
      if (Files.isRegularFile(beside)) {
        return beside;
      }
    } catch (java.net.URISyntaxException | RuntimeException e) {
      // Fall through to the error below.
    }
    throw new ConfigException("no bucket configured and the embedded server's jar was not found;"
        + " set COFFER_BUCKET, or build with: mvn -B -DskipTests package -pl store-cli -am");
  }
}
