package dev.coffer.cli;

import dev.coffer.store.s3.S3StoreConfig;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

/**
 * The CLI's resolved configuration. Each setting comes, highest first, from a flag, the environment,
 * the config file, or the default: picocli layers the first three for settings with a flag
 * ({@link ConfigSources} is its default provider), {@link ConfigSources#value} for the others.
 *
 * @param bucket the bucket; null selects the embedded server
 * @param prefix the key prefix inside the bucket
 * @param region the AWS region: as given, else (with a bucket) the SDK's region provider chain's
 *     ({@link #sdkRegion}), else {@code us-east-1}
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
 * @param signPayloads whether request bodies are signed over {@code http://}
 *     ({@code S3StoreConfig.signPayloads}); false sends them unsigned, guarded by their checksums
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
    Duration touchInterval,
    boolean signPayloads) {

  static final String DEFAULT_REGION = "us-east-1";
  static final long DEFAULT_DISK_CACHE_BYTES = 10L << 30;
  static final long DEFAULT_MEMORY_CACHE_BYTES = 256L << 20;
  /** An IPv4 or IPv6 literal, which InetAddress parses without a name lookup. */
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  boolean embedded() {
    return bucket == null;
  }

  /** These settings with the cache turned off. */
  Settings withoutCache() {
    return new Settings(bucket, prefix, region, endpoint, pathStyle, profile, cacheDir, false,
        diskCacheBytes, memoryCacheBytes, home, deletionGrace, unusedFor, touchInterval,
        signPayloads);
  }

  /** The store options as parsed: given, else from the environment or file; null if none says. */
  record Flags(String configFile, String bucket, String prefix, String region, String endpoint,
      Boolean pathStyle, String profile, String cacheDir, Boolean noCache) {}

  /**
   * Resolves the settings: {@code flags} as picocli left them, each flag not given already taken
   * from {@code sources} (picocli's default provider), then settings without a flag from
   * {@code sources}, then defaults.
   *
   * @throws ConfigException naming the file or value that could not be used
   */
  static Settings resolve(Flags flags, ConfigSources sources) {
    sources.configFile(flags.configFile());
    sources.throwIfFailed();
    sources.document(); // a config file named is read and checked, whatever it is needed for
    Map<String, String> env = sources.env();
    Path home = sources.path(first(env.get("COFFER_HOME"),
        Path.of(first(env.get("HOME"), System.getProperty("user.home")), ".coffer").toString()));
    String bucket = first(flags.bucket());
    String prefix = java.util.Objects.requireNonNullElse(first(flags.prefix()), "");
    String endpoint = first(flags.endpoint());
    boolean pathStyle = flags.pathStyle() != null ? flags.pathStyle() : endpoint != null;
    String profile = first(flags.profile());
    String region = first(flags.region());
    if (region == null) {
      // The embedded server takes any region: no need to look further, or to ask EC2.
      region = bucket == null ? DEFAULT_REGION : sdkRegion(profile, env, sources::path);
    }
    Path cacheDir = sources.path(first(flags.cacheDir(), home.resolve("cache").toString()));
    boolean cacheEnabled = !Boolean.TRUE.equals(flags.noCache());
    long disk = size(sources, ConfigSources.Key.CACHE_DISK_BYTES, DEFAULT_DISK_CACHE_BYTES);
    long memory = size(sources, ConfigSources.Key.CACHE_MEMORY_BYTES, DEFAULT_MEMORY_CACHE_BYTES);
    Duration grace = duration(sources, ConfigSources.Key.DELETION_GRACE);
    Duration unusedFor = duration(sources, ConfigSources.Key.UNUSED_FOR);
    Duration touchInterval = duration(sources, ConfigSources.Key.TOUCH_INTERVAL);
    boolean signPayloads = bool(sources, ConfigSources.Key.SIGN_PAYLOADS);
    try {
      // One rule for prefixes, the store's, which is the Terraform module's.
      S3StoreConfig.builder().prefix(prefix);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    return new Settings(bucket, prefix, region, endpoint, pathStyle, profile, cacheDir,
        cacheEnabled, disk, memory, home, grace, unusedFor, touchInterval, signPayloads);
  }

  /**
   * The region the SDK's default chain finds ({@link DefaultAwsRegionProviderChain}): the
   * {@code aws.region} system property, the {@code region} of the profile in the AWS config file
   * ({@code AWS_CONFIG_FILE} of {@code env}, else {@code ~/.aws/config}), the EC2 instance's
   * region; {@link #DEFAULT_REGION} if none says.
   */
  static String sdkRegion(String profile, Map<String, String> env) {
    return sdkRegion(profile, env, Path::of);
  }

  /** {@link #sdkRegion(String, Map)} with {@code AWS_CONFIG_FILE} resolved by {@code paths}. */
  static String sdkRegion(String profile, Map<String, String> env,
      java.util.function.Function<String, Path> paths) {
    DefaultAwsRegionProviderChain.Builder chain = DefaultAwsRegionProviderChain.builder();
    String configName = env.get("AWS_CONFIG_FILE");
    Path configFile = configName == null || configName.isEmpty() ? null : paths.apply(configName);
    if (configFile != null && Files.isRegularFile(configFile)) {
      chain.profileFile(() -> ProfileFile.builder().content(configFile)
          .type(ProfileFile.Type.CONFIGURATION).build());
    }
    if (profile != null) {
      chain.profileName(profile);
    }
    try {
      return chain.build().getRegion().id();
    } catch (SdkClientException e) {
      return DEFAULT_REGION;
    }
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

  @SafeVarargs
  private static <T> T first(T... values) {
    for (T v : values) {
      if (v != null && !(v instanceof String s && s.isEmpty())) {
        return v;
      }
    }
    return null;
  }

  /** A duration as {@link Durations} reads it; null if not given. */
  private static Duration duration(ConfigSources sources, ConfigSources.Key key) {
    String value = sources.value(key);
    if (value == null) {
      return null;
    }
    try {
      return Durations.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid " + sources.source(key) + " \"" + value + "\": "
          + Durations.EXPECTED);
    }
  }

  /** A boolean as {@link ConfigSources#bool} reads it; false if not given. */
  private static boolean bool(ConfigSources sources, ConfigSources.Key key) {
    String value = sources.value(key);
    return value != null && ConfigSources.bool(value, sources.source(key));
  }

  private static long size(ConfigSources sources, ConfigSources.Key key, long defaultValue) {
    String value = sources.value(key);
    if (value == null) {
      return defaultValue;
    }
    try {
      return Sizes.parse(value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid " + sources.source(key) + " \"" + value + "\": "
          + e.getMessage());
    }
  }
}
