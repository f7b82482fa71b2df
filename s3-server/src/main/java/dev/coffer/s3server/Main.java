package dev.coffer.s3server;

import dev.coffer.s3sim.Storage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the embedded server until the process is stopped:
 * {@code java dev.coffer.s3server.Main --data DIR --credentials FILE --port P [--bucket B]...}.
 * The data directory is locked ({@code DIR/.lock}) for as long as the process runs; a second
 * server on it exits with status 3. Prints {@code listening on http://127.0.0.1:<port>} once it
 * serves. Exit status 2: bad arguments; 1: the port or the credentials could not be used.
 */
public final class Main {
  private Main() {}

  /** Starts the server and blocks until the process is stopped. */
  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    List<String> buckets = new ArrayList<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (args[i].equals("--bucket")) {
        buckets.add(args[i + 1]);
      } else {
        options.put(args[i], args[i + 1]);
      }
    }
    if (args.length % 2 != 0 || !options.keySet().equals(Set.of("--data",
        "--credentials", "--port"))) {
      System.err.println("usage: Main --data DIR --credentials FILE --port P [--bucket B]...");
      System.exit(2);
    }
    Path data = Path.of(options.get("--data"));
    if (!Files.isDirectory(data)) {
      Files.createDirectories(data, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwx------")));
    }
    FileChannel lockFile = FileChannel.open(data.resolve(".lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock = lockFile.tryLock();
    if (lock == null) {
      System.err.println("another server is using " + data);
      System.exit(3);
    }
    EmbeddedS3Server.Builder builder;
    try {
      builder = EmbeddedS3Server.builder()
          .credentials(Credentials.read(Path.of(options.get("--credentials"))))
          .port(Integer.parseInt(options.get("--port")))
          .storage(Storage.onDisk(data));
    } catch (IOException | RuntimeException e) {
      System.err.println("cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    buckets.forEach(builder::bucket);
    EmbeddedS3Server server;
    try {
      server = builder.start();
    } catch (IOException e) {
      System.err.println("cannot listen on 127.0.0.1:" + options.get("--port") + ": " + e);
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "s3-server-stop"));
    System.out.println("listening on " + server.endpoint() + " with its data in " + data);
    System.out.flush();
    stopped.await();
    lock.release();
  }
}
