package dev.coffer.benchmarks.macro;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The command lines of the contenders that run as processes: {@code coffer}, the AWS CLI against the
 * venue's endpoint (its latency proxy's, if any), rclone with its remote from the environment, and each venue's coffer home.
 */
record PeerCommands(HarnessConfig config, List<String> coffer, Path awsConfig) {

  List<String> cli(String... args) {
    List<String> command = new ArrayList<>(coffer);
    command.addAll(List.of(args));
    return command;
  }

  /** The command line of {@code variant}: its own executable if it has one. */
  List<String> cli(CliVariant variant, String... args) {
    List<String> command = new ArrayList<>(variant.executable() == null ? coffer
        : List.of(variant.executable()));
    command.addAll(List.of(args));
    return command;
  }

  /** {@code env} with the variant's {@code COFFER_JAVA_OPTS} and variables. */
  static Map<String, String> environment(CliVariant variant, Map<String, String> env) {
    env.put("COFFER_JAVA_OPTS", variant.javaOptions());
    env.putAll(variant.environment());
    return env;
  }

  List<String> aws(Venue v, String... args) {
    List<String> command = new ArrayList<>(List.of(config.awsCli(), "--endpoint-url",
        v.endpoint().toString()));
    command.addAll(List.of(args));
    command.add("--only-show-errors");
    return command;
  }

  Map<String, String> awsEnvironment(Venue v) {
    Map<String, String> env = v.cliEnvironment("", home(v));
    env.put("AWS_CONFIG_FILE", awsConfig.toString());
    env.put("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    return env;
  }

  List<String> rclone(String... args) {
    List<String> command = new ArrayList<>(List.of(config.rclone(), "--config", "/dev/null"));
    command.addAll(List.of(args));
    return command;
  }

  Path home(Venue v) {
    return config.work().resolve("coffer-home-" + v.server.name());
  }
}
