package dev.coffer.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.memory.MemoryStores;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command daemon in-process, over a real Unix socket, on an in-memory store: commands run
 * with the client's streams, stdin, working directory and exit code; what it declines; how it
 * survives bad clients; its files, their modes, and its idle exit.
 */
class DaemonServerTest {
  @TempDir
  Path tmp;

  private Path socket;
  private Path work;
  private final ContentStore memory = MemoryStores.open();
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();
  /** What the connector throws instead of opening a store, if set. */
  private final AtomicReference<Throwable> failOpen = new AtomicReference<>();
  private final Map<String, String> env = new HashMap<>();
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private DaemonServer server;
  private Thread serving;
  private final AtomicReference<Boolean> fatal = new AtomicReference<>();

  @BeforeEach
  void setUp() throws Exception {
    socket = tmp.resolve("home/daemon/0123456789abcdef.sock");
    work = Files.createDirectory(tmp.resolve("work"));
    env.put("HOME", tmp.resolve("home").toString());
    env.put("AWS_REGION", "eu-west-1");
    env.put("LANG", "C.UTF-8");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.close();
      serving.join(10_000);
    }
  }

  /** A store on {@link #memory} that counts being opened and closed, and leaves it open. */
  private StoreConnector connector() {
    return (settings, notices) -> {
      Throwable failure = failOpen.get();
      if (failure instanceof Error e) {
        throw e;
      }
      opened.incrementAndGet();
      return (ContentStore) Proxy.newProxyInstance(getClass().getClassLoader(),
          new Class<?>[] {ContentStore.class}, (proxy, method, args) -> {
            if (method.getName().equals("close") && method.getParameterCount() == 0) {
              closed.incrementAndGet();
              return null;
            }
            try {
              return method.invoke(memory, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
    };
  }

  private DaemonServer start(Duration idle, Path jar) throws Exception {
    server = DaemonServer.open(new DaemonServer.Config(socket, idle, jar, env,
        DaemonClient.UMASK, this::connector, new PrintStream(log, true, UTF_8))).orElseThrow();
    serving = new Thread(() -> fatal.set(server.serve()), "test-daemon");
    serving.start();
    return server;
  }

  private DaemonServer start() throws Exception {
    return start(Duration.ofMinutes(5), null);
  }

  private byte[] request(String... args) {
    return DaemonClient.request(0, work, List.of(args), clientEnv());
  }

  /** The daemon's environment and a few variables it does not check. */
  private Map<String, String> clientEnv() {
    Map<String, String> client = new HashMap<>(env);
    client.put("PATH", "/client/bin");
    client.put("COLUMNS", "97");
    client.put("COFFER_DAEMON_IDLE", "5m");
    return client;
  }

  private DaemonClient.Reply call(byte[] stdin, String... args) throws Exception {
    return DaemonClient.call(socket, request(args), new ByteArrayInputStream(stdin));
  }

  private DaemonClient.Reply ok(String... args) throws Exception {
    DaemonClient.Reply reply = call(new byte[0], args);
    assertThat(reply.exit()).as(reply.stderr() + reply.declined()).isZero();
    return reply;
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  @Test
  void putAndGetThroughTheDaemonResolveRelativePathsAgainstTheClientsDirectory()
      throws Exception {
    start();
    byte[] bytes = random(300_000, 1);
    Files.write(work.resolve("data.bin"), bytes);

    DaemonClient.Reply put = ok("put", "-q", "data.bin");
    assertThat(put.accepted()).isTrue();
    assertThat(put.out()).isEqualTo(Digest.of(bytes) + "\n");

    DaemonClient.Reply get = ok("get", Digest.of(bytes).toString());
    assertThat(get.stdout()).isEqualTo(bytes);
    assertThat(get.outFrames()).as("a frame per buffer the command writes, not per 8 KiB")
        .isLessThanOrEqualTo(3);
    ok("get", Digest.of(bytes).toString(), "-o", "copy.bin");
    assertThat(work.resolve("copy.bin")).hasBinaryContent(bytes);
    assertThat(Coffer.JVM_CWD.resolve("copy.bin")).doesNotExist();
  }

  @Test
  void progressBarsOnTheClientsTerminalTakeItsWidth() throws Exception {
    start();
    Path dir = Files.createDirectories(work.resolve("tree"));
    for (int i = 0; i < 5; i++) {
      Files.write(dir.resolve("f" + i), random(1000, i));
    }
    for (int columns : new int[] {50, 150}) {
      Map<String, String> client = clientEnv();
      client.put("COLUMNS", String.valueOf(columns));
      DaemonClient.Reply put = DaemonClient.call(socket, DaemonClient.request(
          DaemonWire.STDERR_TERMINAL, work, List.of("put", "-r", "tree"), client),
          InputStream.nullInputStream());
      assertThat(put.exit()).as(put.stderr()).isZero();
      List<String> bars = put.stderr().replace('\r', '\n').lines()
          .filter(l -> l.startsWith("put -r") && l.contains("%")).toList();
      assertThat(bars).as(put.stderr()).isNotEmpty();
      assertThat(bars).allSatisfy(l -> assertThat(l.length()).isLessThan(columns));
      assertThat(bars).anySatisfy(l -> assertThat(l.length()).isGreaterThan(columns - 10));
    }
  }

  @Test
  void helpIsStyledWhenTheClientHasAConsoleAsInAPlainRun() throws Exception {
    start();
    int console = DaemonWire.STDIN_TERMINAL | DaemonWire.STDOUT_TERMINAL;
    Map<String, String> noColor = clientEnv();
    noColor.put("NO_COLOR", "1");
    for (List<String> args : List.<List<String>>of(List.of("--help"), List.of("get", "--help"),
        List.of())) {
      DaemonClient.Reply styled = DaemonClient.call(socket,
          DaemonClient.request(console, work, args, clientEnv()), InputStream.nullInputStream());
      DaemonClient.Reply piped = DaemonClient.call(socket,
          DaemonClient.request(DaemonWire.STDIN_TERMINAL, work, args, clientEnv()),
          InputStream.nullInputStream());
      DaemonClient.Reply unstyled = DaemonClient.call(socket,
          DaemonClient.request(console, work, args, noColor), InputStream.nullInputStream());

      assertThat(styled.exit()).isZero();
      assertThat(styled.out()).as(args.toString()).contains("\u001B[").contains("Usage:");
      assertThat(piped.out()).as(args.toString()).doesNotContain("\u001B[").contains("Usage:");
      assertThat(unstyled.out()).as(args.toString()).doesNotContain("\u001B[");
    }
  }

  @Test
  void aFailingCommandsExitCodeAndStderrArrive() throws Exception {
    start();
    Digest unknown = Digest.of("nowhere".getBytes(UTF_8));

    DaemonClient.Reply get = call(new byte[0], "get", unknown.toString());

    assertThat(get.accepted()).isTrue();
    assertThat(get.exit()).isEqualTo(ExitCode.NOT_FOUND.code).isEqualTo(4);
    assertThat(get.stdout()).isEmpty();
    assertThat(get.stderr()).startsWith("coffer get: ").contains(unknown.hex()).endsWith("\n");
    assertThat(get.stderr().lines()).hasSize(1);
  }

  @Test
  void stdinIsPulledFrameByFrameAndStoredExactly() throws Exception {
    start();
    byte[] bytes = random(200_000, 2);

    DaemonClient.Reply put = call(bytes, "put", "-q", "-");

    assertThat(put.exit()).as(put.stderr()).isZero();
    assertThat(put.out().trim()).isEqualTo(Digest.of(bytes).toString());
    assertThat(put.reads()).as("R frames: at most 64 KiB each, and one for the end")
        .isGreaterThanOrEqualTo(4);
    try (var reader = memory.readerAt(Descriptor.of(Digest.of(bytes)))) {
      assertThat(reader.size()).isEqualTo(bytes.length);
    }
  }

  @Test
  void aSecondConnectionWhileACommandRunsIsDeclinedBusy() throws Exception {
    start();
    byte[] bytes = "slow stdin\n".getBytes(UTF_8);
    try (DaemonClient first = DaemonClient.connect(socket)) {
      first.send(request("put", "-q", "-"));
      assertThat(first.next().type()).isEqualTo(DaemonWire.ACCEPTED);
      DaemonClient.Frame read = first.next();
      assertThat(read.type()).isEqualTo(DaemonWire.READ); // the command now waits on stdin

      try (DaemonClient second = DaemonClient.connect(socket)) {
        second.send(request("ls")); // read before the answer: no broken pipe
        DaemonClient.Reply busy = second.finish(InputStream.nullInputStream());
        assertThat(busy.accepted()).isFalse();
        assertThat(busy.declined()).isEqualTo("busy");
      }

      first.send(DaemonWire.frame(DaemonWire.INPUT, bytes, 0, bytes.length));
      DaemonClient.Reply rest = first.finish(new ByteArrayInputStream(new byte[0]));
      assertThat(rest.exit()).isZero();
      assertThat(rest.out().trim()).isEqualTo(Digest.of(bytes).toString());
    }
    ok("ls"); // free again
  }

  @Test
  void aDifferentValueOfACheckedVariableIsDeclinedAndOthersAreNot() throws Exception {
    start();
    Map<String, String> client = clientEnv();
    client.put("AWS_REGION", "us-east-1");
    DaemonClient.Reply region = DaemonClient.call(socket,
        DaemonClient.request(0, work, List.of("ls"), client), InputStream.nullInputStream());
    assertThat(region.declined()).isEqualTo("environment differs from the daemon's: AWS_REGION");

    client = clientEnv();
    client.remove("HOME");
    client.put("COFFER_BUCKET", "other");
    DaemonClient.Reply missing = DaemonClient.call(socket,
        DaemonClient.request(0, work, List.of("ls"), client), InputStream.nullInputStream());
    assertThat(missing.declined())
        .isEqualTo("environment differs from the daemon's: COFFER_BUCKET, HOME");

    assertThat(ok("ls").accepted()).as("PATH, COLUMNS, COFFER_DAEMON_IDLE differ").isTrue();
    assertThat(opened.get()).isEqualTo(1);
  }

  @Test
  void anotherUmaskOrNoneIsDeclinedAndNothingRuns() throws Exception {
    start();
    Files.write(work.resolve("kept"), new byte[] {1});
    DaemonClient.Reply other = DaemonClient.call(socket, DaemonClient.request(0, 077, work,
        List.of("put", "kept"), clientEnv()), InputStream.nullInputStream());
    assertThat(other.accepted()).isFalse();
    assertThat(other.declined()).isEqualTo("umask 0077 differs from the daemon's 0022");

    DaemonClient.Reply old = DaemonClient.call(socket, DaemonClient.request(0, null, work,
        List.of("put", "kept"), clientEnv()), InputStream.nullInputStream());
    assertThat(old.accepted()).isFalse();
    assertThat(old.declined()).isEqualTo("the client sent no umask (an older client)");
    assertThat(opened.get()).isZero();

    assertThat(ok("ls").accepted()).as("the daemon's own umask").isTrue();
  }

  @Test
  void excludedCommandsAndDebugAreDeclined() throws Exception {
    start();
    for (List<String> args : List.of(List.of("serve", "--containerd-socket", "x"),
        List.of("gc"), List.of("fsck"), List.of("daemon", "status"),
        List.of("ls", "--debug"), List.of("stats", "--json", "gc"))) {
      DaemonClient.Reply reply = DaemonClient.call(socket,
          DaemonClient.request(0, work, args, clientEnv()), InputStream.nullInputStream());
      assertThat(reply.accepted()).as(args.toString()).isFalse();
      assertThat(reply.declined()).as(args.toString()).endsWith("runs in a JVM of its own");
    }
    assertThat(opened.get()).isZero();
    assertThat(ok("--version").out()).startsWith("coffer ");
  }

  @Test
  void aMalformedOrOversizedRequestClosesTheConnectionAndTheNextIsServed() throws Exception {
    start();
    ByteBuffer oversized = ByteBuffer.allocate(16).put(DaemonWire.MAGIC).putInt(0).putInt(022)
        .putInt(DaemonWire.MAX_STRING + 1);
    ByteBuffer tooManyArgs = ByteBuffer.allocate(21).put(DaemonWire.MAGIC).putInt(0).putInt(022)
        .putInt(1).put((byte) '/').putInt(DaemonWire.MAX_COUNT + 1);
    byte[] notAUmask = DaemonClient.request(0, 01022, work, List.of("ls"), clientEnv());
    for (byte[] bad : List.of("GET / HTTP/1.0\r\n\r\n".getBytes(UTF_8), oversized.array(),
        tooManyArgs.array(), notAUmask, new byte[] {'C', 'F'})) {
      try (DaemonClient client = DaemonClient.connect(socket)) {
        client.send(bad);
        if (bad.length == 2) {
          client.channel.shutdownOutput(); // cut short
        }
        DaemonClient.Frame answer;
        try {
          answer = client.next();
        } catch (java.io.IOException e) {
          answer = null; // reset: the daemon closed with the rest of the request unread
        }
        assertThat(answer).as("no answer but the end").isNull();
      }
    }
    assertThat(ok("ls").accepted()).isTrue();
  }

  @Test
  void aClientThatSendsNoRequestIsCutOffAndTheNextIsServed() throws Exception {
    server = DaemonServer.open(new DaemonServer.Config(socket, Duration.ofMinutes(5), null, env,
        DaemonClient.UMASK, this::connector, new PrintStream(log, true, UTF_8),
        Duration.ofMillis(200)))
        .orElseThrow();
    serving = new Thread(() -> fatal.set(server.serve()), "test-daemon");
    serving.start();
    try (DaemonClient silent = DaemonClient.connect(socket)) {
      assertThat(silent.next()).as("closed without an answer").isNull();
    }
    assertThat(ok("ls").accepted()).isTrue();
    assertThat(log.toString(UTF_8)).contains("bad request");
  }

  @Test
  void afterTheIdleTimeoutTheSocketAndPidFileAreGone() throws Exception {
    start(Duration.ofMillis(300), null);
    Path pid = socket.resolveSibling("0123456789abcdef.pid");
    assertThat(pid).hasContent(String.valueOf(ProcessHandle.current().pid()));
    ok("ls");

    await().atMost(Duration.ofSeconds(10)).until(() -> !serving.isAlive());
    assertThat(socket).doesNotExist();
    assertThat(pid).doesNotExist();
    assertThat(fatal.get()).isFalse();
  }

  @Test
  void aClientGoneMidCommandLeavesTheDaemonFreeForTheNext() throws Exception {
    start();
    try (DaemonClient gone = DaemonClient.connect(socket)) {
      gone.send(request("put", "-q", "-"));
      assertThat(gone.next().type()).isEqualTo(DaemonWire.ACCEPTED);
      assertThat(gone.next().type()).isEqualTo(DaemonWire.READ);
    } // closed while the command waits for stdin

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      DaemonClient.Reply next = call(new byte[0], "ls");
      assertThat(next.exit()).as(next.declined()).isZero();
    });
    assertThat(closed.get()).isEqualTo(opened.get());
  }

  @Test
  void twentyCommandsLeaveNoMoreThreadsThanOneAndCloseEveryStore() throws Exception {
    start();
    Files.write(work.resolve("a.bin"), random(50_000, 3));
    String digest = ok("put", "-q", "a.bin").out().trim();
    ok("get", digest, "-o", "b.bin");
    await().atMost(Duration.ofSeconds(10)).until(this::noCommandThreads);
    int afterOne = ManagementFactory.getThreadMXBean().getThreadCount();
    long fdsAfterOne = openFiles();

    for (int i = 0; i < 10; i++) {
      ok("put", "-q", "a.bin");
      ok("get", digest, "-o", "b.bin");
    }

    await().atMost(Duration.ofSeconds(10)).until(this::noCommandThreads);
    assertThat(ManagementFactory.getThreadMXBean().getThreadCount())
        .isLessThanOrEqualTo(afterOne + 2);
    assertThat(openFiles()).as("open file descriptors").isLessThanOrEqualTo(fdsAfterOne + 2);
    assertThat(opened.get()).isEqualTo(22);
    assertThat(closed.get()).isEqualTo(22);
  }

  /** This process's open file descriptors (Linux). */
  private static long openFiles() throws java.io.IOException {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  private boolean noCommandThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .noneMatch(t -> t.getName().startsWith("coffer-daemon-c"));
  }

  @Test
  void theDirectoryIsPrivateAndTheSocketOwnerOnly() throws Exception {
    start();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
        .isEqualTo("rw-------");
  }

  @Test
  void aDirectoryOthersCanReadIsRefused() throws Exception {
    Files.createDirectories(socket.getParent(),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
    Files.setPosixFilePermissions(socket.getParent(),
        PosixFilePermissions.fromString("rwxr-x---"));

    assertThatThrownBy(this::start).isInstanceOf(DaemonFiles.RefusedException.class)
        .hasMessageContaining("accessible to others");
    assertThat(socket).doesNotExist();
    assertThat(Daemon.run(new String[] {"--socket", socket.toString()}, env,
        new PrintStream(log, true, UTF_8), false)).isEqualTo(1);
  }

  @Test
  void aStaleSocketIsReplacedAndALiveOneMeansAnotherDaemon() throws Exception {
    Files.createDirectories(socket.getParent(),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    stale.bind(UnixDomainSocketAddress.of(socket));
    stale.close(); // the file stays; nothing accepts
    assertThat(socket).exists();

    start();
    assertThat(ok("ls").accepted()).isTrue();

    assertThat(Daemon.run(new String[] {"--socket", socket.toString(), "--idle", "1m"}, env,
        new PrintStream(log, true, UTF_8), false)).as("another daemon serves it").isZero();
    assertThat(socket).exists();
    assertThat(ok("ls").accepted()).isTrue();
  }

  @Test
  void aChangedJarDeclinesAndStopsTheDaemon() throws Exception {
    Path jar = Files.write(tmp.resolve("coffer.jar"), new byte[] {1, 2, 3});
    start(Duration.ofMinutes(5), jar);
    ok("ls");

    Files.write(jar, new byte[] {1, 2, 3, 4});
    DaemonClient.Reply after = call(new byte[0], "ls");

    assertThat(after.declined()).isEqualTo("the daemon's jar changed");
    await().atMost(Duration.ofSeconds(10)).until(() -> !serving.isAlive());
    assertThat(socket).doesNotExist();
  }

  @Test
  void anErrorEscapingACommandIsReportedAndStopsTheDaemon() throws Exception {
    start();
    failOpen.set(new AssertionError("broken"));

    DaemonClient.Reply reply = call(new byte[0], "ls");

    assertThat(reply.exit()).isEqualTo(1);
    assertThat(reply.stderr()).isEqualTo("coffer: internal error: java.lang.AssertionError:"
        + " broken\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> !serving.isAlive());
    assertThat(fatal.get()).isTrue();
    assertThat(socket).doesNotExist();
  }

  @Test
  void aUmaskThatIsNotTheProcesssOwnStopsTheDaemonFromStarting() {
    OptionalInt own = Umask.ofProcess();
    assumeTrue(own.isPresent(), "the kernel says the process's umask");
    String other = Umask.format(own.getAsInt() ^ 02);
    assertThat(Daemon.run(new String[] {"--socket", socket.toString(), "--umask", other}, env,
        new PrintStream(log, true, UTF_8), false)).isEqualTo(1);
    assertThat(log.toString(UTF_8)).contains("not starting: --umask " + other
        + " is not this process's umask, " + Umask.format(own.getAsInt()));
    assertThat(socket).doesNotExist();
  }

  @Test
  void aBadCommandLineExitsTwo() {
    List<String[]> bad = new ArrayList<>();
    bad.add(new String[] {});
    bad.add(new String[] {"--socket"});
    bad.add(new String[] {"--socket", socket.toString(), "--idle", "soon"});
    bad.add(new String[] {"--socket", socket.toString(), "--port", "1"});
    bad.add(new String[] {"--socket", socket.toString(), "--umask", "u=rwx"});
    bad.add(new String[] {"--socket", socket.toString(), "--umask", "01022"});
    bad.add(new String[] {"--socket", socket.toString(), "--umask"});
    for (String[] args : bad) {
      assertThat(Daemon.run(args, env, new PrintStream(log, true, UTF_8), false))
          .as(String.join(" ", args)).isEqualTo(2);
    }
  }
}
