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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One S3-compatible server in a child process on a loopback port, with its data in a directory of
 * the harness's scratch space. Each writes a line per request it receives (S3Mock a Tomcat access
 * log; S3Proxy its request handler's debug line, sent alone to a file by a logging configuration
 * of the harness), so the requests of any client, command-line peers included, are counted on the
 * server.
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
  /** What starts a request's line in {@link #accessLog}; empty: every line is one. */
  private final String linePrefix;

  private S3Server(String name, String version, Process process, int port, Path accessLog,
      String linePrefix) {
    this.name = name;
    this.version = version;
    this.process = process;
    this.port = port;
    this.accessLog = accessLog;
    this.linePrefix = linePrefix;
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
        // The HTTPS connector on loopback; S3Mock 5.2.0's HTTP connector binds every interface
        // whatever it is told (see the README's Security section). S3Proxy below binds loopback.
        "--server.address=127.0.0.1",
        "--com.adobe.testing.s3mock.store.root=" + data,
        "--server.tomcat.accesslog.enabled=true",
        "--server.tomcat.accesslog.directory=" + logs,
        "--server.tomcat.accesslog.prefix=access",
        "--server.tomcat.accesslog.suffix=.log",
        "--server.tomcat.accesslog.rotate=false",
        "--server.tomcat.accesslog.buffered=false",
        "--logging.level.root=WARN");
    return start("S3Mock", version, command, directory, port, logs.resolve("access.log"), "");
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
    // S3ProxyHandler logs "request: ..." at debug level once per request: that logger alone, at
    // debug, into its own unbuffered file; everything else at warn to the console.
    Path requests = directory.resolve("requests.log");
    Path logging = directory.resolve("logback.xml");
    Files.writeString(logging, String.join("\n",
        "<configuration>",
        "  <appender name=\"REQUESTS\" class=\"ch.qos.logback.core.FileAppender\">",
        "    <file>" + requests + "</file>",
        "    <immediateFlush>true</immediateFlush>",
        "    <encoder><pattern>%m%n</pattern></encoder>",
        "  </appender>",
        "  <appender name=\"STDOUT\" class=\"ch.qos.logback.core.ConsoleAppender\">",
        "    <encoder><pattern>%-5p %c{30} %m%n</pattern></encoder>",
        "  </appender>",
        "  <logger name=\"org.gaul.s3proxy.S3ProxyHandler\" level=\"DEBUG\" additivity=\"false\">",
        "    <appender-ref ref=\"REQUESTS\"/>",
        "  </logger>",
        "  <root level=\"WARN\"><appender-ref ref=\"STDOUT\"/></root>",
        "</configuration>", ""));
    List<String> command = List.of(java(), "-Xmx1g",
        "-Dlogback.configurationFile=" + logging, "-jar", jar.toString(),
        "--properties", properties.toString());
    return start("S3Proxy", version, command, directory, port, requests, "request: ");
  }

  private static S3Server start(String name, String version, List<String> command,
      Path directory, int port, Path accessLog, String linePrefix) throws IOException {
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(directory.resolve("server.out").toFile())
        .start();
    S3Server server = new S3Server(name, version, process, port, accessLog, linePrefix);
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

  /** Requests the server has logged so far. */
  long requestsServed() {
    try {
      // Tomcat writes a line once the response is complete: give the last one a moment.
      Thread.sleep(100);
      if (!Files.exists(accessLog)) {
        return 0;
      }
      try (var lines = Files.lines(accessLog)) {
        return lines.filter(l -> l.startsWith(linePrefix)).count();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while counting requests", e);
    }
  }

  /**
   * Requests the server has logged so far, by S3 operation as far as a log line tells it (method,
   * path and query): a copy is logged as the PUT it is, so CopyObject and UploadPartCopy count as
   * PutObject and UploadPart, which S3 prices alike.
   */
  Map<String, Long> requestsServedByOperation() {
    try {
      Thread.sleep(100);
      if (!Files.exists(accessLog)) {
        return Map.of();
      }
      try (var lines = Files.lines(accessLog)) {
        return lines.filter(l -> l.startsWith(linePrefix)).map(S3Server::operation)
            .collect(Collectors.groupingBy(o -> o, TreeMap::new, Collectors.counting()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while counting requests", e);
    }
  }

  private static final Pattern REQUEST_LINE =
      Pattern.compile("\\b(GET|PUT|POST|HEAD|DELETE)(?:@[0-9a-f]+)? (?:https?://[^/\\s]+)?"
          + "(/[^\\s)}]*)");

  /**
   * The S3 operation of one logged request: Tomcat's {@code "GET /bucket/key?x HTTP/1.1"},
   * S3Proxy's {@code Request(GET http://host:port/bucket/key?x)}, or S3Proxy 4's (Jetty 12)
   * {@code {GET@1a2b http://host:port/bucket/key?x HTTP/1.1}}; path-style addressing.
   */
  static String operation(String line) {
    Matcher m = REQUEST_LINE.matcher(line);
    if (!m.find()) {
      return "Unknown";
    }
    String method = m.group(1);
    String target = m.group(2);
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    String query = q < 0 ? "" : "&" + target.substring(q + 1) + "&";
    boolean bucket = path.replaceAll("^/+|/+$", "").indexOf('/') < 0;
    return switch (method) {
      case "HEAD" -> bucket ? "HeadBucket" : "HeadObject";
      case "GET" -> query.contains("&uploads") ? "ListMultipartUploads"
          : query.contains("&tagging") ? "GetObjectTagging"
          : query.contains("&uploadId=") ? "ListParts"
          : bucket ? (query.contains("&list-type=2") ? "ListObjectsV2" : "ListObjects")
          : "GetObject";
      case "PUT" -> query.contains("&tagging") ? "PutObjectTagging"
          : query.contains("&partNumber=") ? "UploadPart"
          : bucket ? "CreateBucket" : "PutObject";
      case "POST" -> query.contains("&uploads") ? "CreateMultipartUpload"
          : query.contains("&uploadId=") ? "CompleteMultipartUpload"
          : query.contains("&delete") ? "DeleteObjects" : "PostObject";
      default -> query.contains("&uploadId=") ? "AbortMultipartUpload"
          : bucket ? "DeleteBucket" : "DeleteObject";
    };
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
