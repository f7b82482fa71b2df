package dev.coffer.cli;

import java.util.List;
import picocli.CommandLine;

/**
 * The top-level commands of {@code coffer}, added to its command line by name. picocli builds the
 * model of every command it is given (its options, parameters, help) before parsing; a command line
 * that names a known command gets that one only, so a one-shot {@code coffer info} models one
 * command instead of nineteen, and {@code coffer --version} none (modelling all nineteen was most of
 * what a version query cost in the command daemon). Anything else ({@code coffer}, {@code --help},
 * {@code help ...}, a mistyped name, which wants suggestions) gets them all. Stateless.
 */
final class Subcommands {

  /** The top-level commands, in the order {@code coffer --help} lists them. */
  static final List<String> NAMES = List.of("put", "get", "info", "ls", "label", "rm", "ref",
      "deref", "link", "unlink", "ingest", "gc", "fsck", "cache", "serve", "stats", "du", "diff",
      "help");

  private Subcommands() {}

  /**
   * The class of the command named {@code name}, or null if there is none. A switch, so that only
   * the class named is loaded.
   */
  static Class<?> type(String name) {
    return switch (name) {
      case "put" -> PutCommand.class;
      case "get" -> GetCommand.class;
      case "info" -> Commands.InfoCommand.class;
      case "ls" -> Commands.Ls.class;
      case "label" -> Commands.Label.class;
      case "rm" -> Commands.Rm.class;
      case "ref" -> Commands.Ref.class;
      case "deref" -> Commands.Deref.class;
      case "link" -> Commands.Link.class;
      case "unlink" -> Commands.Unlink.class;
      case "ingest" -> IngestCommands.class;
      case "gc" -> MaintenanceCommands.Gc.class;
      case "fsck" -> MaintenanceCommands.Fsck.class;
      case "cache" -> CacheCommands.class;
      case "serve" -> Serve.class;
      case "stats" -> StatsCommand.class;
      case "du" -> DuCommand.class;
      case "diff" -> TreeCommands.Diff.class;
      case "help" -> CommandLine.HelpCommand.class;
      default -> null;
    };
  }

  /**
   * Adds to {@code coffer} the commands {@code args} may run: none when {@code args} is the version
   * option alone ({@code -V}, {@code --version}), whose answer names no command; the one its first
   * argument names, when that is a command other than {@code help}; otherwise all of them (so that
   * {@code coffer --help info}, which prints the top-level usage, still lists every command).
   */
  static void addFor(CommandLine coffer, String[] args) {
    if (args.length == 1 && (args[0].equals("-V") || args[0].equals("--version"))) {
      return;
    }
    String named = args.length == 0 ? null : args[0];
    Class<?> only = named == null || named.equals("help") ? null : type(named);
    if (only != null) {
      coffer.addSubcommand(only);
      return;
    }
    for (String name : NAMES) {
      coffer.addSubcommand(type(name));
    }
  }
}
