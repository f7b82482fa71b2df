package dev.coffer.benchmarks.macro;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One S3-compatible server in a child process on a loopback port, with its data in a directory of
 * the harness's scratch space. S3Mock writes a Tomcat access log, one line per request, so the
 * requests of any client (command-line peers included) can be counted on the server; S3Proxy has
 * no such log and {@link #requestsServed()} is -1 there.
 *
 * <p>Not thread-safe; {@link #close()} is idempotent.
 */
final class S3Server implements AutoCloseable {
  static final String ACCESS_KEY = "coffer";
  static final String SECRET_KEY = "coffersecret";

  private final String name;
  private final String version;
  private final Process process;
  private final int port;
  private final Path accessLog;

  private S3Server(String name, String version, Process process, int port, Path accessLog) {
    this.name = name;
    this.version = version;
    this.process = process;
    this.port = port;
    this.accessLog = accessLog;
  }

  /** Starts S3Mock from its exec jar, with an unbuffered access log. */
  static S3Server s3mock(Path jar, Path directory, String version) throws IOException {
    int port = freePort();
    int tlsPort = freePort();
    Path data = Files.createDirectories(directory.resolve("data"));
    Path logs = Files.createDirectories(directory.resolve("logs"));
    List<String> command = List.of(java(), "-Xmx1g", "-jar", jar.toString(),
        "--com.adobe.testing.s3mock.httpPort=" + port,
        "--server.port=" + tlsPort,
        "--com.adobe.testing.s3mock.store.root=" + data,
        "--server.tomcat.accesslog.enabled=true",
        "--server.tomcat.accesslog.directory=" + logs,
        "--server.tomcat.accesslog.prefix=access",
        "--server.tomcat.accesslog.suffix=.log",
        "--server.tomcat.accesslog.rotate=false",
        "--server.tomcat.accesslog.buffered=false",
        "--logging.level.root=WARN");
    return start("S3Mock", version, command, directory, port, logs.resolve("access.log"));
  }

  /** Starts S3Proxy on its filesystem backend, checking SigV4 signatures. */
  static S3Server s3proxy(Path jar, Path directory, String version) throws IOException {
    int port = freePort();
    Path data = Files.createDirectories(directory.resolve("data"));
    Path properties = directory.resolve("s3proxy.properties");
    Files.writeString(properties, String.join("\n",
        "s3proxy.endpoint=http://127.0.0.1:" + port,
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + ACCESS_KEY,
        "s3proxy.credential=" + SECRET_KEY,
        "jclouds.provider=filesystem",
        "jclouds.filesystem.basedir=" + data, ""));
    List<String> command = List.of(java(), "-Xmx1g", "-jar", jar.toString(),
        "--properties", properties.toString());
    return start("S3Proxy", version, command, directory, port, null);
  }

  private static S3Server start(String name, String version, List<String> command,
      Path directory, int port, Path accessLog) throws IOException {
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(directory.resolve("server.out").toFile())
        .start();
    S3Server server = new S3Server(name, version, process, port, accessLog);
    // A harness stopped by a signal still stops its servers.
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, name + "-stop"));
    try {
      server.awaitPort(120_000);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  String name() {
    return name;
  }

  String version() {
    return version;
  }

  URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** Requests the server has logged so far, or -1 if it keeps no access log. */
  long requestsServed() {
    if (accessLog == null) {
      return -1;
    }
    try {
      // Tomcat writes a line once the response is complete: give the last one a moment.
      Thread.sleep(100);
      if (!Files.exists(accessLog)) {
        return 0;
      }
      try (var lines = Files.lines(accessLog)) {
        return lines.count();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while counting requests", e);
    }
  }

  private void awaitPort(long timeoutMillis) throws IOException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(name + " exited with status " + process.exitValue()
            + " before it listened on port " + port);
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for " + name, e);
        }
      }
    }
    throw new IOException(name + " did not listen on port " + port + " within "
        + timeoutMillis / 1000 + " s");
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  @Override
  public String toString() {
    return name + " " + version + " at " + endpoint();
  }
}
