package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Settings as a store command resolves them: its options parsed by picocli over the sources. */
final class ParsedSettings {
  private ParsedSettings() {}

  @Command(name = "probe")
  static final class Probe extends StoreCommand {
    @Override
    ExitCode execute(ContentStore store, Settings settings) {
      throw new UnsupportedOperationException("only parsed");
    }
  }

  /** The settings of a command line holding exactly the non-null {@code flags}, over {@code env}. */
  static Settings resolve(Settings.Flags flags, Map<String, String> env) {
    List<String> args = new ArrayList<>();
    add(args, "--config", flags.configFile());
    add(args, "--bucket", flags.bucket());
    add(args, "--prefix", flags.prefix());
    add(args, "--region", flags.region());
    add(args, "--endpoint", flags.endpoint());
    if (flags.pathStyle() != null) {
      args.add(flags.pathStyle() ? "--path-style" : "--no-path-style");
    }
    add(args, "--profile", flags.profile());
    add(args, "--cache-dir", flags.cacheDir());
    if (Boolean.TRUE.equals(flags.noCache())) {
      args.add("--no-cache");
    }
    ConfigSources sources = new ConfigSources(env);
    Probe probe = new Probe();
    CommandLine line = new CommandLine(probe);
    line.setDefaultValueProvider(sources);
    line.parseArgs(args.toArray(String[]::new));
    return Settings.resolve(probe.flags(), sources);
  }

  private static void add(List<String> args, String flag, String value) {
    if (value != null) {
      args.add(flag);
      args.add(value);
    }
  }
}
