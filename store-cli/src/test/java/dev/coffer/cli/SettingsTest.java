package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.memory.MemoryStores;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration precedence: flags, then environment, then the config file, then defaults. */
class SettingsTest {
  @TempDir
  Path tmp;

  private static Settings.Flags flags(String config, String bucket, String prefix) {
    return new Settings.Flags(config, bucket, prefix, null, null, null, null, null, null);
  }

  @Test
  void defaultsSelectTheEmbeddedServer() {
    Settings s = ParsedSettings.resolve(flags(null, null, null), Map.of("HOME", tmp.toString()));
    assertThat(s.embedded()).isTrue();
    assertThat(s.prefix()).isEmpty();
    assertThat(s.region()).isEqualTo("us-east-1");
    assertThat(s.cacheEnabled()).isTrue();
    assertThat(s.cacheDir()).isEqualTo(tmp.resolve(".coffer").resolve("cache"));
  }

  @Test
  void withABucketAndNoRegionGivenTheRegionComesFromTheProfileInTheAwsConfigFile()
      throws Exception {
    // The SDK's chain would ask EC2's metadata last: off for the tests (store-cli's pom).
    assertThat(System.getProperty("aws.disableEc2Metadata")).isEqualTo("true");
    Path awsConfig = tmp.resolve("aws-config");
    Files.writeString(awsConfig, "[default]\nregion = eu-central-1\n\n"
        + "[profile ci]\nregion = ap-southeast-2\n");
    Map<String, String> env = new HashMap<>(Map.of("HOME", tmp.toString(),
        "COFFER_BUCKET", "b", "AWS_CONFIG_FILE", awsConfig.toString()));

    assertThat(ParsedSettings.resolve(flags(null, null, null), env).region()).isEqualTo("eu-central-1");
    env.put("AWS_PROFILE", "ci");
    assertThat(ParsedSettings.resolve(flags(null, null, null), env).region())
        .isEqualTo("ap-southeast-2");
    env.put("AWS_REGION", "us-west-1");
    assertThat(ParsedSettings.resolve(flags(null, null, null), env).region()).isEqualTo("us-west-1");
  }

  @Test
  void aProfileWithoutARegionFallsBackToUsEast1AndTheEmbeddedServerNeverAsks() throws Exception {
    Path awsConfig = tmp.resolve("aws-config");
    Files.writeString(awsConfig, "[default]\noutput = json\n");
    Map<String, String> env = Map.of("HOME", tmp.toString(), "AWS_CONFIG_FILE",
        awsConfig.toString());

    assertThat(ParsedSettings.resolve(flags(null, "b", null), env).region()).isEqualTo("us-east-1");
    Files.writeString(awsConfig, "[default]\nregion = eu-north-1\n");
    assertThat(ParsedSettings.resolve(flags(null, "b", null), env).region()).isEqualTo("eu-north-1");
    assertThat(ParsedSettings.resolve(flags(null, null, null), env).region()).isEqualTo("us-east-1");
  }

  @Test
  void flagsBeatEnvironmentWhichBeatsTheConfigFile() throws Exception {
    Path config = tmp.resolve("coffer.json");
    Files.writeString(config, """
        {"version": 1, "bucket": "file-bucket", "prefix": "file/", "region": "eu-west-1",
         "endpoint": "http://file:4566", "pathStyle": true, "kmsKeyArn": null}
        """);
    Map<String, String> env = new HashMap<>(Map.of("HOME", tmp.toString(),
        "COFFER_BUCKET", "env-bucket", "COFFER_CACHE_DIR", tmp.resolve("c").toString()));

    Settings fileOnly = ParsedSettings.resolve(flags(config.toString(), null, null),
        Map.of("HOME", tmp.toString()));
    assertThat(fileOnly.bucket()).isEqualTo("file-bucket");
    assertThat(fileOnly.prefix()).isEqualTo("file/");
    assertThat(fileOnly.region()).isEqualTo("eu-west-1");
    assertThat(fileOnly.endpoint()).isEqualTo("http://file:4566");
    assertThat(fileOnly.pathStyle()).isTrue();

    Settings envOverFile = ParsedSettings.resolve(flags(config.toString(), null, null), env);
    assertThat(envOverFile.bucket()).isEqualTo("env-bucket");
    assertThat(envOverFile.prefix()).isEqualTo("file/");
    assertThat(envOverFile.cacheDir()).isEqualTo(tmp.resolve("c"));

    Settings flagOverAll =
        ParsedSettings.resolve(flags(config.toString(), "flag-bucket", "flag/"), env);
    assertThat(flagOverAll.bucket()).isEqualTo("flag-bucket");
    assertThat(flagOverAll.prefix()).isEqualTo("flag/");
  }

  @Test
  void everyStoreCommandTakesOptionsNotGivenFromTheEnvironmentThenTheFile() throws Exception {
    Path config = tmp.resolve("coffer.json");
    Files.writeString(config, """
        {"version": 1, "bucket": "file-bucket", "prefix": "file/", "region": "eu-west-1",
         "pathStyle": true}
        """);
    List<Settings> opened = new ArrayList<>();
    Cli cli = new Cli((settings, notices) -> {
      opened.add(settings);
      return MemoryStores.open();
    });
    cli.env.putAll(Map.of("HOME", tmp.toString(), "COFFER_CONFIG", config.toString(),
        "COFFER_PREFIX", "env/", "COFFER_PATH_STYLE", "no"));

    Cli.Result result = cli.run(InputStream.nullInputStream(), "ls", "--bucket", "flag-bucket");

    assertThat(result.code()).as(result.stderr()).isZero();
    assertThat(opened).singleElement().satisfies(s -> {
      assertThat(s.bucket()).isEqualTo("flag-bucket");
      assertThat(s.prefix()).isEqualTo("env/");
      assertThat(s.region()).isEqualTo("eu-west-1");
      assertThat(s.pathStyle()).isFalse();
    });
  }

  @Test
  void aSourceThatCannotBeUsedIsAConfigurationErrorButHelpStillWorks() {
    Cli cli = new Cli((settings, notices) -> MemoryStores.open());
    cli.env.putAll(Map.of("HOME", tmp.toString(), "COFFER_NO_CACHE", "perhaps"));

    Cli.Result bad = cli.run(InputStream.nullInputStream(), "ls");
    Cli.Result help = cli.run(InputStream.nullInputStream(), "ls", "--help");

    assertThat(bad.code()).isEqualTo(ExitCode.CONFIG.code);
    assertThat(bad.stderr())
        .isEqualTo("coffer ls: invalid COFFER_NO_CACHE \"perhaps\": expected true or false\n");
    assertThat(help.code()).isZero();
  }

  @Test
  void terraformOutputJsonWrapperIsAccepted() throws Exception {
    Path config = tmp.resolve("out.json");
    Files.writeString(config, """
        {"sensitive": false, "type": ["object", {}],
         "value": {"version": 1, "bucket": "tf", "prefix": "p/", "region": "us-west-2"}}
        """);
    Settings s = ParsedSettings.resolve(flags(config.toString(), null, null), Map.of("HOME", "/x"));
    assertThat(s.bucket()).isEqualTo("tf");
    assertThat(s.region()).isEqualTo("us-west-2");
  }

  @Test
  void badValuesNameTheValue() {
    assertThatThrownBy(() -> ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_NO_CACHE", "maybe")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("maybe");
    assertThatThrownBy(() -> ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_CACHE_DISK_BYTES", "12XB")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("12XB");
    assertThatThrownBy(() -> ParsedSettings.resolve(flags(tmp.resolve("missing.json").toString(), null,
        null), Map.of("HOME", "/x")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("missing.json");
    assertThatThrownBy(() -> ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_DELETION_GRACE", "soon")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("soon");
  }

  @Test
  void deletionGraceReadsShortAndIsoDurationsAndDefaultsToTheStores() throws Exception {
    assertThat(ParsedSettings.resolve(flags(null, null, null), Map.of("HOME", "/x")).deletionGrace())
        .isNull();
    assertThat(ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_DELETION_GRACE", "90s")).deletionGrace())
        .isEqualTo(Duration.ofSeconds(90));
    assertThat(ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_DELETION_GRACE", "PT2H")).deletionGrace())
        .isEqualTo(Duration.ofHours(2));
    Path config = tmp.resolve("grace.json");
    Files.writeString(config, "{\"version\": 1, \"bucket\": \"b\", \"deletionGrace\": \"7d\"}");
    assertThat(ParsedSettings.resolve(flags(config.toString(), null, null), Map.of("HOME", "/x"))
        .deletionGrace()).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void retentionSettingsReadDurationsFromTheEnvironmentAndTheFile() throws Exception {
    Settings none = ParsedSettings.resolve(flags(null, null, null), Map.of("HOME", "/x"));
    assertThat(none.unusedFor()).isNull();
    assertThat(none.touchInterval()).isNull();
    Settings env = ParsedSettings.resolve(flags(null, null, null), Map.of("HOME", "/x",
        "COFFER_UNUSED_FOR", "30d", "COFFER_TOUCH_INTERVAL", "12h"));
    assertThat(env.unusedFor()).isEqualTo(Duration.ofDays(30));
    assertThat(env.touchInterval()).isEqualTo(Duration.ofHours(12));
    Path config = tmp.resolve("retention.json");
    Files.writeString(config, "{\"version\": 1, \"bucket\": \"b\", \"unusedFor\": \"P7D\"}");
    assertThat(ParsedSettings.resolve(flags(config.toString(), null, null), Map.of("HOME", "/x"))
        .unusedFor()).isEqualTo(Duration.ofDays(7));
    assertThatThrownBy(() -> ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_UNUSED_FOR", "later")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("later");
  }

  @Test
  void signPayloadsIsOffUnlessTheEnvironmentOrTheFileTurnsItOn() throws Exception {
    assertThat(ParsedSettings.resolve(flags(null, null, null), Map.of("HOME", "/x"))
        .signPayloads()).isFalse();
    assertThat(ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_SIGN_PAYLOADS", "1")).signPayloads()).isTrue();
    assertThat(ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_SIGN_PAYLOADS", "off")).signPayloads()).isFalse();
    Path config = tmp.resolve("signed.json");
    Files.writeString(config, "{\"version\": 1, \"bucket\": \"b\", \"signPayloads\": true}");
    assertThat(ParsedSettings.resolve(flags(config.toString(), null, null), Map.of("HOME", "/x"))
        .signPayloads()).isTrue();
    assertThat(ParsedSettings.resolve(flags(config.toString(), null, null),
        Map.of("HOME", "/x", "COFFER_SIGN_PAYLOADS", "false")).signPayloads())
        .as("the environment above the file").isFalse();
    assertThatThrownBy(() -> ParsedSettings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_SIGN_PAYLOADS", "maybe")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("COFFER_SIGN_PAYLOADS").hasMessageContaining("maybe");
  }
}
