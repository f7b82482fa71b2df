package dev.coffer.cli;

import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.nio.channels.SocketChannel;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine;

/**
 * One command the daemon runs for a client, on the thread that calls {@link #run}: {@code A},
 * then {@link Coffer#run} with the client's arguments, environment, working directory and
 * streams (System.err too, for library warnings), then {@code X} with its exit code. A
 * {@code Throwable} escaping the command is reported to the client as an internal error, exit
 * code 1.
 */
final class DaemonSession {
  private final SocketChannel channel;
  private final DaemonWire.Request request;
  private final StoreConnector connector;

  DaemonSession(SocketChannel channel, DaemonWire.Request request, StoreConnector connector) {
    this.channel = channel;
    this.request = request;
    this.connector = connector;
  }

  /**
   * Runs the command and closes the connection; the calling thread is the one interrupted if the
   * client goes away. {@code ended} is told that the command ended, with the {@link Error} that
   * escaped it (after which the daemon should exit) or null, before {@code X} is sent: a client
   * that sends its next command at once finds the daemon free.
   */
  void run(Consumer<Error> ended) {
    Error fatal = null;
    try (DaemonConnection connection = new DaemonConnection(channel, Thread.currentThread())) {
      connection.accepted();
      Charset charset = outputCharset();
      PrintStream out = new PrintStream(
          new BufferedOutputStream(connection.output(DaemonWire.STDOUT), 1 << 16), true, charset);
      PrintStream err = new PrintStream(connection.output(DaemonWire.STDERR), true, charset);
      PrintStream systemErr = System.err;
      int code;
      System.setErr(err);
      try {
        Coffer coffer = new Coffer(connection.input(), out, err, request.env(), connector,
            request.stderrTerminal(), Path.of(request.cwd()));
        coffer.columns = columns(request.env());
        coffer.ansi = ansi(request);
        code = Coffer.run(coffer, request.args().toArray(String[]::new));
      } catch (Throwable t) {
        err.println("coffer: internal error: " + t);
        code = ExitCode.FAILURE.code;
        if (t instanceof Error e) {
          fatal = e;
        }
      } finally {
        System.setErr(systemErr);
        out.flush();
        err.flush();
      }
      Thread.interrupted(); // the client's going away interrupted the command, not what follows
      ended.accept(fatal);
      connection.exit(code);
    }
  }

  /** The client's terminal width, COLUMNS (the client sets it from its terminal); 0 if none. */
  static int columns(Map<String, String> env) {
    try {
      int columns = Integer.parseInt(env.getOrDefault("COLUMNS", "0").trim());
      return columns > 0 && columns < 10_000 ? columns : 0;
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * Whether help is styled for the client, as picocli decides it in a plain run (on Unix):
   * {@code NO_COLOR} turns it off, {@code CLICOLOR_FORCE} (not 0) on, {@code CLICOLOR=0} off;
   * otherwise on if the client has a console, its stdin and stdout terminals.
   */
  static CommandLine.Help.Ansi ansi(DaemonWire.Request request) {
    Map<String, String> env = request.env();
    boolean on;
    if (env.containsKey("NO_COLOR")) {
      on = false;
    } else if (env.containsKey("CLICOLOR_FORCE") && !"0".equals(env.get("CLICOLOR_FORCE"))) {
      on = true;
    } else if ("0".equals(env.get("CLICOLOR"))) {
      on = false;
    } else {
      int console = DaemonWire.STDOUT_TERMINAL | DaemonWire.STDIN_TERMINAL;
      on = (request.flags() & console) == console;
    }
    return on ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF;
  }

  /** The charset of a plain run's System.out: the platform's, as the client's locale says. */
  private static Charset outputCharset() {
    try {
      String name = System.getProperty("stdout.encoding", System.getProperty("native.encoding"));
      return name == null ? Charset.defaultCharset() : Charset.forName(name);
    } catch (RuntimeException e) {
      return Charset.defaultCharset();
    }
  }
}
