package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.memory.MemoryStores;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** coffer models the one command a command line names, and every command otherwise. */
class SubcommandsTest {

  @Test
  void everyNameIsTheNameItsCommandDeclares() {
    for (String name : Subcommands.NAMES) {
      Class<?> type = Subcommands.type(name);
      assertThat(type).as(name).isNotNull();
      assertThat(type.getAnnotation(CommandLine.Command.class).name()).isEqualTo(name);
    }
    assertThat(Subcommands.type("nosuch")).isNull();
  }

  @Test
  void aNamedCommandIsTheOnlyOneModelled() {
    assertThat(modelled("info", "sha256:00")).containsExactly("info");
    assertThat(modelled("stats", "info", "sha256:00")).containsExactly("stats");
    // The version alone names no command; with anything else it is parsed as before.
    assertThat(modelled("--version")).isEmpty();
    assertThat(modelled("-V")).isEmpty();
    assertThat(modelled("--version", "info")).containsExactlyElementsOf(Subcommands.NAMES);
    assertThat(modelled("-hV")).containsExactlyElementsOf(Subcommands.NAMES);
    // The top-level usage, which lists every command.
    assertThat(modelled("--help", "info")).containsExactlyElementsOf(Subcommands.NAMES);
    assertThat(modelled("help", "info")).containsExactlyElementsOf(Subcommands.NAMES);
    assertThat(modelled("inof")).containsExactlyElementsOf(Subcommands.NAMES);
    assertThat(modelled()).containsExactlyElementsOf(Subcommands.NAMES);
  }

  @Test
  void helpStillListsEveryCommandAndACommandsHelpIsItsOwn() {
    Cli cli = new Cli(MemoryStores.open());
    String help = cli.run(new java.io.ByteArrayInputStream(new byte[0]), "--help").out();
    for (String name : Subcommands.NAMES) {
      assertThat(help).containsPattern("(?m)^  " + name + "\\b");
    }
    Cli.Result info = cli.run(new java.io.ByteArrayInputStream(new byte[0]), "info", "--help");
    assertThat(info.code()).isZero();
    assertThat(info.out()).startsWith("Usage: coffer info ");
    Cli.Result typo = cli.run(new java.io.ByteArrayInputStream(new byte[0]), "inof");
    assertThat(typo.code()).isEqualTo(ExitCode.USAGE.code);
    assertThat(typo.stderr()).contains("Did you mean: coffer ");
  }

  /**
   * A command line holding the version option prints what it did when every command was modelled:
   * the version alone, as one with a command named after it (which picocli still parses), and
   * {@code -V} among other options.
   */
  @Test
  void theVersionAloneIsAnsweredAsWithEveryCommand() {
    Cli cli = new Cli(MemoryStores.open());
    Cli.Result alone = cli.run(new java.io.ByteArrayInputStream(new byte[0]), "--version");
    Cli.Result withCommand = cli.run(new java.io.ByteArrayInputStream(new byte[0]), "--version",
        "info");
    Cli.Result shortOption = cli.run(new java.io.ByteArrayInputStream(new byte[0]), "-V");
    assertThat(alone.code()).isZero();
    assertThat(alone.out()).startsWith("coffer ").hasLineCount(1);
    assertThat(alone.stderr()).isEmpty();
    assertThat(withCommand.code()).isZero();
    assertThat(withCommand.out()).isEqualTo(alone.out());
    assertThat(shortOption.code()).isZero();
    assertThat(shortOption.out()).isEqualTo(alone.out());
    assertThat(shortOption.stderr()).isEmpty();
  }

  private static java.util.Set<String> modelled(String... args) {
    CommandLine cli = new CommandLine(new Coffer(null, null, null, java.util.Map.of(), null,
        false));
    Subcommands.addFor(cli, args);
    return cli.getSubcommands().keySet();
  }
}
