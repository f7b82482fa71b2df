package dev.coffer.cli;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the command daemon declines to run, so that a command it runs behaves as it would in a
 * JVM of its own: commands that are long-running or change JVM-wide state, clients whose
 * environment differs from the daemon's in a variable a library reads from the process itself,
 * and clients whose umask is not the daemon's, or unknown.
 *
 * <p>The umask is compared, not applied: a command run for a client under another umask is
 * declined (the client then runs it in a JVM of its own), rather than run with the client's umask
 * given to each file and directory it creates. The files a command creates are made in many
 * places, some in libraries (the part file of {@code get -o}, the directories and temporary
 * files of a tree's restore, the embedded server's and the cache's directories, and a process the
 * command starts, which inherits the daemon's umask): applying the umask would have to cover each
 * of them, now and later, and a place missed would leak a file's bytes to other users without any
 * test noticing; a process has one umask and the JVM cannot change it. Comparing it covers every
 * place at once. It costs a JVM's start only to a client whose umask is not its daemon's, which
 * the daemon's key (coffer-client's, which names the umask) makes rare: a client under another
 * umask finds a daemon of its own. Stateless; thread-safe.
 */
final class DaemonPolicy {
  private DaemonPolicy() {}

  /**
   * Commands that keep a JVM of their own: long-running ({@code serve}, {@code gc}, {@code fsck}),
   * or the launcher's ({@code daemon}).
   */
  static final Set<String> EXCLUDED = Set.of("serve", "gc", "fsck", "daemon");

  /**
   * Variables named in full that libraries read from the process's own environment. Beyond the
   * daemon's key (coffer-client's): {@code TZ}, the JVM's default time zone (the times
   * {@code ingest wait} prints); with every {@code LC_} variable, checked here though not in the
   * key, so a client that differs only there runs in a JVM of its own rather than in the wrong
   * locale.
   */
  private static final Set<String> CHECKED = Set.of("HOME", "TMPDIR", "JAVA_HOME", "http_proxy",
      "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "LANG", "TZ");
  /** The launcher's own variables, which it keeps out of the daemon's key. */
  private static final Set<String> UNCHECKED = Set.of("COFFER_DAEMON", "COFFER_DAEMON_IDLE");

  /**
   * Why the daemon, whose environment is {@code daemonEnv} and umask {@code daemonUmask}, declines
   * {@code request}; empty if it runs it. The reason names variables, never their values. A
   * request without a umask (a version 1 client's) is declined: the umask is never guessed.
   */
  static Optional<String> decline(DaemonWire.Request request, Map<String, String> daemonEnv,
      int daemonUmask) {
    Optional<String> command = declineCommand(request.args());
    if (command.isPresent()) {
      return command;
    }
    if (request.umask().isEmpty()) {
      return Optional.of("the client sent no umask (an older client)");
    }
    if (request.umask().getAsInt() != daemonUmask) {
      return Optional.of("umask " + Umask.format(request.umask().getAsInt())
          + " differs from the daemon's " + Umask.format(daemonUmask));
    }
    Path cwd;
    try {
      cwd = Path.of(request.cwd());
    } catch (InvalidPathException e) {
      return Optional.of("the working directory is not a path");
    }
    if (!cwd.isAbsolute()) {
      return Optional.of("the working directory is not absolute");
    }
    if (!request.text()) {
      return Optional.of("an argument or the working directory is not UTF-8");
    }
    if (!StandardCharsets.UTF_8.equals(pathCharset())
        && (!ascii(request.cwd()) || !request.args().stream().allMatch(DaemonPolicy::ascii))) {
      return Optional.of("non-ASCII arguments where file names are not UTF-8");
    }
    Set<String> differ = differing(request.env(), daemonEnv);
    if (!differ.isEmpty()) {
      return Optional.of("environment differs from the daemon's: " + String.join(", ", differ));
    }
    if (!cwd.equals(Coffer.JVM_CWD)) {
      // The SDK reads these itself, relative to the daemon's working directory, not the client's.
      for (var variable : new TreeSet<>(daemonEnv.keySet())) {
        if (variable.startsWith("AWS_") && variable.endsWith("_FILE")
            && !daemonEnv.get(variable).isEmpty() && !daemonEnv.get(variable).startsWith("/")) {
          return Optional.of(variable + " is a relative path");
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Why the command line {@code args} is not run in the daemon: an excluded command (also under
   * {@code stats}, which runs its command in-process) or {@code --debug}, which sets a logging
   * level for the whole JVM.
   */
  static Optional<String> declineCommand(List<String> args) {
    String command = null;
    for (String arg : args) {
      if (arg.equals("--debug") || arg.startsWith("--debug=")) {
        return Optional.of("--debug runs in a JVM of its own");
      }
      if (command == null && !arg.startsWith("-")) {
        command = arg;
      } else if ("stats".equals(command) && EXCLUDED.contains(arg)) {
        return Optional.of("stats " + arg + " runs in a JVM of its own");
      }
    }
    if (command != null && EXCLUDED.contains(command)) {
      return Optional.of(command + " runs in a JVM of its own");
    }
    return Optional.empty();
  }

  /**
   * Whether a library might read {@code name} from the process's environment: the variables the
   * daemon's key covers, and the locale's and time zone's.
   */
  static boolean checked(String name) {
    return CHECKED.contains(name) || name.startsWith("AWS_") || name.startsWith("LC_")
        || (name.startsWith("COFFER_") && !UNCHECKED.contains(name));
  }

  /** The checked variables whose values (or presence) differ between the two, sorted. */
  static Set<String> differing(Map<String, String> client, Map<String, String> daemon) {
    Set<String> names = new TreeSet<>();
    for (Map<String, String> env : List.of(client, daemon)) {
      for (String name : env.keySet()) {
        if (checked(name) && !Objects.equals(client.get(name), daemon.get(name))) {
          names.add(name);
        }
      }
    }
    return names;
  }

  /** The charset the JVM maps file names with. */
  private static Charset pathCharset() {
    try {
      return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    } catch (RuntimeException e) {
      return Charset.defaultCharset();
    }
  }

  private static boolean ascii(String s) {
    return s.chars().allMatch(c -> c < 0x80);
  }
}
