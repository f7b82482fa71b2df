package dev.coffer.cli;

import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The command daemon: a resident JVM that runs {@code coffer} commands for the launcher's client
 * over a Unix socket private to the user, so a command does not pay a JVM's start.
 *
 * <p>Usage: {@code java -cp coffer.jar dev.coffer.cli.Daemon --socket PATH [--idle DURATION]
 * [--umask MASK]} (duration as the CLI parses them, default 30m). {@code --umask} is the JVM's
 * umask as the shell that started it prints it ({@code umask}: the launcher's), which a JVM cannot
 * read: the daemon serves only clients of the same umask ({@link DaemonPolicy}). Where the
 * kernel says the process's umask ({@link Umask#ofProcess}), that is the daemon's, and a {@code
 * --umask} that differs stops it from starting; where it does not, {@code --umask} is required. It
 * prints nothing but its log lines (the launcher sends them to {@code <key>.log}). Exit status: 0
 * after an idle timeout, a change of its jar, SIGTERM, or when another daemon already serves the
 * socket; 1 if its directory is not private to the user, it cannot bind, or its umask is unknown
 * or not the one given; 2 for a bad command line.
 */
public final class Daemon {
  private Daemon() {}

  /** The idle timeout when {@code --idle} is not given. */
  static final Duration DEFAULT_IDLE = Duration.ofMinutes(30);

  /** Runs the daemon until it stops; exits the JVM with its status. */
  public static void main(String[] args) {
    Coffer.logDefaults();
    int code = run(args, System.getenv(), System.out, true);
    System.out.flush();
    System.exit(code);
  }

  /**
   * Runs a daemon with {@code args} and environment {@code env}, logging to {@code log}, until it
   * stops; with {@code hook}, a shutdown hook removes its socket and pid file if the JVM ends
   * first. The exit status.
   */
  static int run(String[] args, Map<String, String> env, PrintStream log, boolean hook) {
    Path socket = null;
    Duration idle = DEFAULT_IDLE;
    OptionalInt given = OptionalInt.empty();
    try {
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--socket" -> socket = Path.of(required(args[i], value));
          case "--idle" -> idle = Durations.parse(required(args[i], value));
          case "--umask" -> given = OptionalInt.of(Umask.parse(required(args[i], value)));
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
        i++;
      }
      if (socket == null) {
        throw new IllegalArgumentException("--socket PATH is required");
      }
      if (idle.isZero() || idle.isNegative()) {
        throw new IllegalArgumentException("--idle must be positive");
      }
    } catch (IllegalArgumentException e) {
      log.println("coffer daemon: " + e.getMessage());
      log.println("usage: dev.coffer.cli.Daemon --socket PATH [--idle DURATION] [--umask MASK]");
      return 2;
    }
    OptionalInt own = Umask.ofProcess();
    if (own.isPresent() && given.isPresent() && own.getAsInt() != given.getAsInt()) {
      log.println("coffer daemon: not starting: --umask " + Umask.format(given.getAsInt())
          + " is not this process's umask, " + Umask.format(own.getAsInt()));
      return 1;
    }
    if (own.isEmpty() && given.isEmpty()) {
      log.println("coffer daemon: not starting: its umask is unknown (give --umask)");
      return 1;
    }
    int umask = own.isPresent() ? own.getAsInt() : given.getAsInt();
    DaemonServer.Config config = new DaemonServer.Config(socket, idle, ownJar(), env, umask,
        DefaultConnector::new, log);
    Optional<DaemonServer> opened;
    try {
      opened = DaemonServer.open(config);
    } catch (Exception e) {
      log.println("coffer daemon: not starting: " + e.getMessage());
      return 1;
    }
    if (opened.isEmpty()) {
      return 0; // another daemon serves this socket
    }
    DaemonServer server = opened.get();
    if (hook) {
      Runtime.getRuntime().addShutdownHook(new Thread(server::close, "coffer-daemon-shutdown"));
    }
    boolean fatal = server.serve();
    return fatal ? 1 : 0;
  }

  private static String required(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }

  /** The jar this class was loaded from; null when run from a directory of classes. */
  private static Path ownJar() {
    try {
      CodeSource source = Daemon.class.getProtectionDomain().getCodeSource();
      Path path = source == null ? null : Path.of(source.getLocation().toURI());
      return path != null && Files.isRegularFile(path) ? path : null;
    } catch (URISyntaxException | RuntimeException e) {
      return null;
    }
  }
}
