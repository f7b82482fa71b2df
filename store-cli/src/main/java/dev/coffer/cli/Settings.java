package dev.coffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coffer.store.s3.S3StoreConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The CLI's resolved configuration. Each setting comes, highest first, from a flag, the environment,
 * the config file, or the default.
 *
 * @param bucket the bucket; null selects the embedded server
 * @param prefix the key prefix inside the bucket
 * @param region the AWS region
 * @param endpoint an endpoint override (LocalStack, S3-compatible servers); null for AWS
 * @param pathStyle whether to address the bucket in the path
 * @param profile the AWS profile for credentials; null for the default chain
 * @param cacheDir the disk cache directory
 * @param cacheEnabled whether the memory and disk cache tiers are used
 * @param diskCacheBytes the disk tier's bound
 * @param memoryCacheBytes the memory tier's bound
 * @param home Coffer's own directory (embedded server data, default cache)
 * @param deletionGrace how long a deleted blob stays resurrectable before gc purges it; null for
 *     the store's default
 * @param unusedFor the age past which gc expires blobs without a reference when its command line
 *     names none; null for none
 * @param touchInterval how often, at most, this host records a use of one blob; null for the
 *     store's default
 */
record Settings(
    String bucket,
    String prefix,
    String region,
    String endpoint,
    boolean pathStyle,
    String profile,
    Path cacheDir,
    boolean cacheEnabled,
    long diskCacheBytes,
    long memoryCacheBytes,
    Path home,
    Duration deletionGrace,
    Duration unusedFor,
    Duration touchInterval) {

  static final String DEFAULT_REGION = "us-east-1";
  static final long DEFAULT_DISK_CACHE_BYTES = 10L << 30;
  static final long DEFAULT_MEMORY_CACHE_BYTES = 256L << 20;
  /** The config document version this reader knows. */
  static final int CONFIG_VERSION = 1;
  /** An IPv4 or IPv6 literal, which InetAddress parses without a name lookup. */
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  boolean embedded() {
    return bucket == null;
  }

  /** Values given on the command line; null where the flag was not given. */
  record Flags(String configFile, String bucket, String prefix, String region, String endpoint,
      Boolean pathStyle, String profile, String cacheDir, Boolean noCache) {}

  /**
   * Resolves the settings from flags, then {@code env}, then the config file (from the flag or
   * {@code COFFER_CONFIG}), then defaults.
   *
   * @throws ConfigException naming the file or value that could not be used
   */
  static Settings resolve(Flags flags, Map<String, String> env) {
    String configPath = first(flags.configFile(), env.get("COFFER_CONFIG"));
    JsonNode file = configPath == null ? null : checkDocument(Path.of(configPath),
        readConfig(Path.of(configPath)));
    Path home = Path.of(first(env.get("COFFER_HOME"),
        Path.of(first(env.get("HOME"), System.getProperty("user.home")), ".coffer").toString()));
    String bucket = first(flags.bucket(), env.get("COFFER_BUCKET"), text(file, "bucket"));
    String prefix = java.util.Objects.requireNonNullElse(
        first(flags.prefix(), env.get("COFFER_PREFIX"), text(file, "prefix")), "");
    String region = first(flags.region(), env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION"),
        text(file, "region"), DEFAULT_REGION);
    String endpoint = first(flags.endpoint(), env.get("COFFER_ENDPOINT"), text(file, "endpoint"));
    boolean pathStyle = Optional.ofNullable(flags.pathStyle())
        .or(() -> Optional.ofNullable(bool(env.get("COFFER_PATH_STYLE"), "COFFER_PATH_STYLE")))
        .or(() -> Optional.ofNullable(file == null || !file.hasNonNull("pathStyle")
            ? null : file.get("pathStyle").asBoolean()))
        .orElse(endpoint != null);
    String profile = first(flags.profile(), env.get("AWS_PROFILE"), text(file, "profile"));
    Path cacheDir = Path.of(first(flags.cacheDir(), env.get("COFFER_CACHE_DIR"),
        text(file, "cacheDir"), home.resolve("cache").toString()));
    boolean cacheEnabled = !Boolean.TRUE.equals(flags.noCache())
        && !Boolean.TRUE.equals(bool(env.get("COFFER_NO_CACHE"), "COFFER_NO_CACHE"));
    long disk = size(first(env.get("COFFER_CACHE_DISK_BYTES"), text(file, "cacheDiskBytes")),
        DEFAULT_DISK_CACHE_BYTES, "COFFER_CACHE_DISK_BYTES");
    long memory = size(first(env.get("COFFER_CACHE_MEMORY_BYTES"),
        text(file, "cacheMemoryBytes")), DEFAULT_MEMORY_CACHE_BYTES, "COFFER_CACHE_MEMORY_BYTES");
    Duration grace = duration(first(env.get("COFFER_DELETION_GRACE"), text(file, "deletionGrace")),
        "COFFER_DELETION_GRACE");
    Duration unusedFor = duration(first(env.get("COFFER_UNUSED_FOR"), text(file, "unusedFor")),
        "COFFER_UNUSED_FOR");
    Duration touchInterval = duration(first(env.get("COFFER_TOUCH_INTERVAL"),
        text(file, "touchInterval")), "COFFER_TOUCH_INTERVAL");
    try {
      // One rule for prefixes, the store's, which is the Terraform module's.
      S3StoreConfig.builder().prefix(prefix);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    return new Settings(bucket, prefix, region, endpoint, pathStyle, profile, cacheDir,
        cacheEnabled, disk, memory, home, grace, unusedFor, touchInterval);
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

  /**
   * A warning if the endpoint is plain {@code http://} to anything but a loopback address: the
   * requests, signed with the credentials, and the content then cross the network unencrypted.
   */
  static Optional<String> insecureEndpointWarning(String endpoint) {
    if (endpoint == null) {
      return Optional.empty();
    }
    URI uri;
    try {
      uri = URI.create(endpoint);
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // refused with its own message when the store opens
    }
    if (!"http".equalsIgnoreCase(uri.getScheme()) || isLoopback(uri.getHost())) {
      return Optional.empty();
    }
    return Optional.of("the endpoint " + endpoint + " is plain http to another machine: requests"
        + " and content cross the network unencrypted; use https");
  }

  /** Whether {@code host} is localhost or a loopback IP literal; names are not resolved. */
  private static boolean isLoopback(String host) {
    if (host == null) {
      return false;
    }
    String bare = host.startsWith("[") && host.endsWith("]")
        ? host.substring(1, host.length() - 1) : host;
    if (bare.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!IP_LITERAL.matcher(bare).matches()) {
      return false;
    }
    try {
      return InetAddress.getByName(bare).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static String text(JsonNode node, String field) {
    if (node == null || !node.hasNonNull(field)) {
      return null;
    }
    String value = node.get(field).asText();
    return value.isEmpty() ? null : value;
  }

  @SafeVarargs
  private static <T> T first(T... values) {
    for (T v : values) {
      if (v != null && !(v instanceof String s && s.isEmpty())) {
        return v;
      }
    }
    return null;
  }

  private static Boolean bool(String value, String name) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    return switch (value.toLowerCase(java.util.Locale.ROOT)) {
      case "1", "true", "yes", "on" -> true;
      case "0", "false", "no", "off" -> false;
      default -> throw new ConfigException("invalid " + name + " \"" + value + "\": expected true or false");
    };
  }

  /** A duration as {@link Durations} reads it; null if not given. */
  private static Duration duration(String value, String name) {
    if (value == null) {
      return null;
    }
    try {
      return Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid " + name + " \"" + value + "\": " + Durations.EXPECTED);
    }
  }

  private static long size(String value, long defaultValue, String name) {
    if (value == null) {
      return defaultValue;
    }
    try {
      return Sizes.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid " + name + " \"" + value + "\": " + e.getMessage());
    }
  }
}
