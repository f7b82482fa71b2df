package dev.coffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * The settings' sources below the flags: the environment, then the config file. As picocli's
 * default value provider it gives each store option not given on the command line its value from
 * them, so flags, environment and file are layered by picocli, with one table ({@link Key}) saying
 * which variable and which document field stand for which option. Settings without a flag are
 * read with {@link #value}.
 *
 * <p>A source that cannot be used (a missing or invalid config file, a variable that is not a
 * boolean) does not fail the parse, so {@code --help} still works: the provider answers nothing
 * for it, and {@link #throwIfFailed()} throws the first such failure when the settings are
 * resolved. Not thread-safe; one instance serves one command line.
 */
final class ConfigSources implements CommandLine.IDefaultValueProvider {

  /** A setting: its flag (null if none), its config document field (null if none), variables. */
  enum Key {
    CONFIG("--config", null, "COFFER_CONFIG"),
    BUCKET("--bucket", "bucket", "COFFER_BUCKET"),
    PREFIX("--prefix", "prefix", "COFFER_PREFIX"),
    REGION("--region", "region", "AWS_REGION", "AWS_DEFAULT_REGION"),
    ENDPOINT("--endpoint", "endpoint", "COFFER_ENDPOINT"),
    PATH_STYLE("--path-style", "pathStyle", "COFFER_PATH_STYLE"),
    PROFILE("--profile", "profile", "AWS_PROFILE"),
    CACHE_DIR("--cache-dir", "cacheDir", "COFFER_CACHE_DIR"),
    NO_CACHE("--no-cache", null, "COFFER_NO_CACHE"),
    CACHE_DISK_BYTES(null, "cacheDiskBytes", "COFFER_CACHE_DISK_BYTES"),
    CACHE_MEMORY_BYTES(null, "cacheMemoryBytes", "COFFER_CACHE_MEMORY_BYTES"),
    DELETION_GRACE(null, "deletionGrace", "COFFER_DELETION_GRACE"),
    UNUSED_FOR(null, "unusedFor", "COFFER_UNUSED_FOR"),
    TOUCH_INTERVAL(null, "touchInterval", "COFFER_TOUCH_INTERVAL"),
    SIGN_PAYLOADS(null, "signPayloads", "COFFER_SIGN_PAYLOADS");

    final String flag;
    final String field;
    final String[] variables;

    Key(String flag, String field, String... variables) {
      this.flag = flag;
      this.field = field;
      this.variables = variables;
    }

    /** The variable named in messages about this setting. */
    String variable() {
      return variables[0];
    }

    boolean isBoolean() {
      return this == PATH_STYLE || this == NO_CACHE;
    }
  }

  /** The config document version this reader knows. */
  static final int CONFIG_VERSION = 1;

  private static final Map<String, Key> BY_FLAG = new HashMap<>();

  static {
    for (Key key : Key.values()) {
      if (key.flag != null) {
        BY_FLAG.put(key.flag, key);
      }
    }
  }

  private final Map<String, String> env;
  private final Function<String, Path> paths;
  private final Map<String, JsonNode> documents = new HashMap<>();
  /** The config file given by flag, once known; else COFFER_CONFIG's. */
  private String configFlag;
  private ConfigException failure;

  /** Sources on {@code env}, paths relative to the JVM's working directory. */
  ConfigSources(Map<String, String> env) {
    this(env, Path::of);
  }

  /** Sources on {@code env}; {@code paths} turns a typed path into a file ({@link Coffer#path}). */
  ConfigSources(Map<String, String> env, Function<String, Path> paths) {
    this.env = env;
    this.paths = paths;
  }

  /** The file a path given by a flag, variable or config field names (see {@link Coffer#path}). */
  Path path(String typed) {
    return paths.apply(typed);
  }

  Map<String, String> env() {
    return env;
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    Key key = BY_FLAG.get(option.longestName());
    if (key == null) {
      return null;
    }
    if (key != Key.CONFIG) {
      // The --config flag, if given, is parsed before any default is asked for.
      OptionSpec config = option.command().findOption(Key.CONFIG.flag);
      if (config != null && config.getValue() instanceof String path) {
        configFlag = path;
      }
    }
    try {
      String text = value(key);
      if (text != null && key.isBoolean()) {
        return String.valueOf(bool(text, key.variable()));
      }
      return text;
    } catch (ConfigException e) {
      if (failure == null) {
        failure = e;
      }
      return null;
    }
  }

  /** Uses {@code path} as the config file, as a {@code --config} flag does. */
  void configFile(String path) {
    this.configFlag = path;
  }

  /** Throws the first failure of a source met while giving defaults. */
  void throwIfFailed() {
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * The setting's text from the first of its variables that is set and not empty, else from the
   * config file's field; null if neither has one. (Flags come first, through picocli.)
   *
   * @throws ConfigException if the config file cannot be read or is not a config document
   */
  String value(Key key) {
    for (String variable : key.variables) {
      String value = env.get(variable);
      if (value != null && !value.isEmpty()) {
        return value;
      }
    }
    if (key.field == null) {
      return null;
    }
    JsonNode file = document();
    if (file == null || !file.hasNonNull(key.field)) {
      return null;
    }
    String value = file.get(key.field).asText();
    return value.isEmpty() ? null : value;
  }

  /** Where {@link #value} found the setting's text: its variable, or its config file field. */
  String source(Key key) {
    for (String variable : key.variables) {
      String value = env.get(variable);
      if (value != null && !value.isEmpty()) {
        return variable;
      }
    }
    return key.variable();
  }

  /** The config document, read once; null if no config file is named. */
  JsonNode document() {
    String path = configFlag != null && !configFlag.isEmpty() ? configFlag : value(Key.CONFIG);
    if (path == null) {
      return null;
    }
    JsonNode document = documents.get(path);
    if (document == null) {
      Path file = path(path);
      document = checkDocument(file, readConfig(file));
      documents.put(path, document);
    }
    return document;
  }

  /** A boolean as the environment writes it: 1/0, true/false, yes/no, on/off. */
  static boolean bool(String value, String name) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "1", "true", "yes", "on" -> true;
      case "0", "false", "no", "off" -> false;
      default -> throw new ConfigException("invalid " + name + " \"" + value
          + "\": expected true or false");
    };
  }

  private static JsonNode readConfig(Path path) {
    try {
      JsonNode node = new ObjectMapper().readTree(Files.readAllBytes(path));
      if (node == null || !node.isObject()) {
        throw new ConfigException("invalid config file " + path + ": expected a JSON object");
      }
      // `terraform output -json` wraps a value as {"value": ..., "type": ...}; accept it too.
      if (node.has("value") && node.get("value").isObject() && node.has("type")) {
        node = node.get("value");
      }
      return node;
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + path + " does not exist; check --config or"
          + " COFFER_CONFIG");
    } catch (FileSystemException e) {
      throw new ConfigException("cannot read config file " + path + ": " + LocalFiles.reason(e));
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + path + ": " + e.getMessage());
    }
  }

  /**
   * A config document is the Terraform module's {@code coffer_config_json}: version 1 and a
   * bucket. A file without them is not one, and falling back to the embedded server instead
   * would store the user's data somewhere they did not ask for.
   */
  private static JsonNode checkDocument(Path path, JsonNode document) {
    JsonNode version = document.get("version");
    if (version == null || version.isNull()) {
      throw new ConfigException("invalid config file " + path
          + ": no \"version\" (expected 1, as the Terraform module's coffer_config_json)");
    }
    if (!version.isIntegralNumber() || version.asLong() != CONFIG_VERSION) {
      throw new ConfigException("invalid config file " + path + ": version " + version
          + " is not supported (expected " + CONFIG_VERSION + ")");
    }
    JsonNode bucket = document.get("bucket");
    if (bucket == null || !bucket.isTextual() || bucket.asText().isBlank()) {
      throw new ConfigException("invalid config file " + path + ": no \"bucket\" (a config"
          + " file names the bucket; without one, leave out --config to use the embedded server)");
    }
    return document;
  }
}
