package dev.coffer.cli;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code coffer} command: every store operation from a shell.
 *
 * <p>{@link #run} is the whole program with its streams, environment and store connector passed in,
 * so tests run it in-process exactly as {@link #main} does, and the command daemon runs it for a
 * client in another working directory: every path the user typed goes through {@link #path}.
 */
@Command(
    name = "coffer",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT,
    versionProvider = Coffer.Version.class,
    description = {
        "A content-addressable blob store on one shared S3 bucket.",
        "With no bucket configured, commands use an embedded S3-compatible server keeping its data"
            + " under $COFFER_HOME (default ~/.coffer)."},
    footerHeading = "%nConfiguration (highest first):%n",
    footer = {
        "  flags; environment: COFFER_BUCKET, COFFER_PREFIX, COFFER_ENDPOINT,",
        "  COFFER_PATH_STYLE, AWS_REGION, AWS_PROFILE, COFFER_CACHE_DIR, COFFER_NO_CACHE,",
        "  COFFER_CACHE_DISK_BYTES, COFFER_CACHE_MEMORY_BYTES, COFFER_DELETION_GRACE,",
        "  COFFER_UNUSED_FOR, COFFER_TOUCH_INTERVAL, COFFER_SIGN_PAYLOADS, COFFER_CONFIG,",
        "  COFFER_HOME; a config",
        "  file (--config: the JSON document of the Terraform module's coffer_config_json",
        "  output).",
        "%nExit codes:%n${coffer.exitCodes}"})
public final class Coffer implements Runnable {

  final InputStream in;
  final PrintStream out;
  final PrintStream err;
  final Map<String, String> env;
  final StoreConnector connector;
  /** Whether stderr is a terminal, where progress bars may show. */
  final boolean terminal;
  /** The working directory the command was typed in: relative paths are relative to it. */
  final Path cwd;
  /**
   * The width of the terminal stderr is on, for progress bars; 0 to let the progress bar library
   * ask the process's own terminal (a plain run). The command daemon sets the client's.
   */
  int columns;
  /**
   * Whether help is styled: {@code AUTO} lets picocli ask the process's own console and
   * environment (a plain run); the command daemon decides it for its client.
   */
  CommandLine.Help.Ansi ansi = CommandLine.Help.Ansi.AUTO;
  /** Null until {@link #metrics()} is first called. */
  private PrometheusMeterRegistry metrics;
  /** Whether every store this run opens is measured: set by {@code coffer stats}. */
  boolean measureAll;

  /** The JVM's own working directory, absolute. */
  static final Path JVM_CWD = Path.of("").toAbsolutePath();

  Coffer(InputStream in, PrintStream out, PrintStream err, Map<String, String> env,
      StoreConnector connector, boolean terminal) {
    this(in, out, err, env, connector, terminal, JVM_CWD);
  }

  Coffer(InputStream in, PrintStream out, PrintStream err, Map<String, String> env,
      StoreConnector connector, boolean terminal, Path cwd) {
    this.cwd = cwd.toAbsolutePath();
    this.in = in;
    this.out = out;
    this.err = err;
    this.env = env;
    this.connector = connector;
    this.terminal = terminal;
  }

  /**
   * The meters of this run's store (docs/metrics.md): what {@code coffer stats} reports, {@code
   * coffer serve --metrics-address} serves and the summary lines of batch transfers count. Made on
   * first use: a command that reports no requests never loads the Prometheus registry.
   */
  synchronized PrometheusMeterRegistry metrics() {
    if (metrics == null) {
      metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }
    return metrics;
  }

  /** Where a progress bar is drawn: {@link #err}, {@link #columns} wide if set. */
  ConsoleProgressBarConsumer progressConsumer() {
    // The library keeps one column free at the right, as it does for the width it finds itself.
    return columns > 1 ? new ConsoleProgressBarConsumer(err, columns - 1)
        : new ConsoleProgressBarConsumer(err);
  }

  /**
   * Standard output as a channel, after flushing {@link #out}: the process's own descriptor when
   * {@link #out} is {@link System#out} (so bytes from a file reach it without passing through the
   * heap), otherwise a channel writing to {@link #out} a buffer at a time. Not to be closed.
   */
  WritableByteChannel outChannel() {
    out.flush();
    if (out == System.out) {
      return new FileOutputStream(FileDescriptor.out).getChannel();
    }
    return new OutputChannel(out);
  }

  /**
   * The file a path typed by the user (an argument, a flag, a variable, a config field) names:
   * {@code Path.of(typed)} unchanged when the command runs in the JVM's own working directory (so
   * messages show it as typed), else {@code typed} resolved against {@link #cwd}.
   *
   * @throws java.nio.file.InvalidPathException if {@code typed} is not a path
   */
  Path path(String typed) {
    return path(cwd, typed);
  }

  /** {@link #path(String)} for a command running in {@code cwd}. */
  static Path path(Path cwd, String typed) {
    Path path = Path.of(typed);
    return cwd.equals(JVM_CWD) ? path : cwd.resolve(path);
  }

  /** {@link #path(String)} of a path picocli has parsed already; null stays null. */
  Path path(Path typed) {
    return typed == null ? null : path(typed.toString());
  }

  @Override
  public void run() {
    CommandLine.usage(this, out, ansi);
  }

  /** Runs one command line in the JVM's working directory and returns the process exit code. */
  static int run(String[] args, InputStream in, PrintStream out, PrintStream err,
      Map<String, String> env, StoreConnector connector, boolean terminal) {
    return run(args, in, out, err, env, connector, terminal, JVM_CWD);
  }

  /**
   * Runs one command line as if typed in {@code cwd} (relative paths name files under it) and
   * returns the process exit code.
   */
  static int run(String[] args, InputStream in, PrintStream out, PrintStream err,
      Map<String, String> env, StoreConnector connector, boolean terminal, Path cwd) {
    return run(new Coffer(in, out, err, env, connector, terminal, cwd), args);
  }

  /** Runs one command line on {@code coffer}, as made for it; the process exit code. */
  static int run(Coffer coffer, String[] args) {
    System.setProperty("coffer.exitCodes", ExitCode.table());
    return execute(coffer, args);
  }

  /** Runs one command line on {@code coffer}'s streams and meters; the exit code. */
  static int execute(Coffer coffer, String[] args) {
    PrintStream err = coffer.err;
    CommandLine cli = new CommandLine(coffer);
    Subcommands.addFor(cli, args);
    if (coffer.ansi != CommandLine.Help.Ansi.AUTO) {
      cli.setColorScheme(CommandLine.Help.defaultColorScheme(coffer.ansi));
    }
    cli.setOut(new java.io.PrintWriter(coffer.out, true));
    cli.setErr(new java.io.PrintWriter(err, true));
    cli.setExitCodeExceptionMapper(e -> ExitCode.FAILURE.code);
    // Flags first, then the environment, then the config file: picocli asks the sources for every
    // store option not given.
    cli.setDefaultValueProvider(new ConfigSources(coffer.env, coffer::path));
    // coffer stats COMMAND...: what follows the command's name is the command's.
    CommandLine stats = cli.getSubcommands().get("stats");
    if (stats != null) {
      stats.getCommandSpec().parser().stopAtPositional(true);
    }
    cli.setParameterExceptionHandler((e, a) -> {
      err.println("coffer: " + e.getMessage());
      if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
        err.println("Try 'coffer " + (e.getCommandLine().getCommandName().equals("coffer") ? ""
            : e.getCommandLine().getCommandName() + " ") + "--help'.");
      }
      return ExitCode.USAGE.code;
    });
    return cli.execute(args);
  }

  /** The program's entry point. */
  public static void main(String[] args) {
    logDefaults();
    int code = run(args, System.in, System.out, System.err, System.getenv(),
        new DefaultConnector(), Terminal.stderr());
    System.out.flush();
    System.exit(code);
  }

  /**
   * Library warnings on stderr (whatever System.err is when they are written) as one plain line
   * each, {@code WARN <message>}, unless set already; before the first logger is made.
   */
  static void logDefaults() {
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
    setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
    setIfAbsent("org.slf4j.simpleLogger.showLogName", "false");
  }

  private static void setIfAbsent(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }

  /** Reports the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Coffer.class.getPackage().getImplementationVersion();
      return new String[] {"coffer " + (v == null ? "development build" : v)};
    }
  }
}
