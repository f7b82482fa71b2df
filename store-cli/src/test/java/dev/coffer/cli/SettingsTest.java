package dev.coffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
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
    Settings s = Settings.resolve(flags(null, null, null), Map.of("HOME", tmp.toString()));
    assertThat(s.embedded()).isTrue();
    assertThat(s.prefix()).isEmpty();
    assertThat(s.region()).isEqualTo("us-east-1");
    assertThat(s.cacheEnabled()).isTrue();
    assertThat(s.cacheDir()).isEqualTo(tmp.resolve(".coffer").resolve("cache"));
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

    Settings fileOnly = Settings.resolve(flags(config.toString(), null, null),
        Map.of("HOME", tmp.toString()));
    assertThat(fileOnly.bucket()).isEqualTo("file-bucket");
    assertThat(fileOnly.prefix()).isEqualTo("file/");
    assertThat(fileOnly.region()).isEqualTo("eu-west-1");
    assertThat(fileOnly.endpoint()).isEqualTo("http://file:4566");
    assertThat(fileOnly.pathStyle()).isTrue();

    Settings envOverFile = Settings.resolve(flags(config.toString(), null, null), env);
    assertThat(envOverFile.bucket()).isEqualTo("env-bucket");
    assertThat(envOverFile.prefix()).isEqualTo("file/");
    assertThat(envOverFile.cacheDir()).isEqualTo(tmp.resolve("c"));

    Settings flagOverAll = Settings.resolve(flags(config.toString(), "flag-bucket", "flag/"), env);
    assertThat(flagOverAll.bucket()).isEqualTo("flag-bucket");
    assertThat(flagOverAll.prefix()).isEqualTo("flag/");
  }

  @Test
  void terraformOutputJsonWrapperIsAccepted() throws Exception {
    Path config = tmp.resolve("out.json");
    Files.writeString(config, """
        {"sensitive": false, "type": ["object", {}],
         "value": {"version": 1, "bucket": "tf", "prefix": "p/", "region": "us-west-2"}}
        """);
    Settings s = Settings.resolve(flags(config.toString(), null, null), Map.of("HOME", "/x"));
    assertThat(s.bucket()).isEqualTo("tf");
    assertThat(s.region()).isEqualTo("us-west-2");
  }

  @Test
  void badValuesNameTheValue() {
    assertThatThrownBy(() -> Settings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_NO_CACHE", "maybe")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("maybe");
    assertThatThrownBy(() -> Settings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_CACHE_DISK_BYTES", "12XB")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("12XB");
    assertThatThrownBy(() -> Settings.resolve(flags(tmp.resolve("missing.json").toString(), null,
        null), Map.of("HOME", "/x")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("missing.json");
    assertThatThrownBy(() -> Settings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_DELETION_GRACE", "soon")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("soon");
  }

  @Test
  void deletionGraceReadsShortAndIsoDurationsAndDefaultsToTheStores() throws Exception {
    assertThat(Settings.resolve(flags(null, null, null), Map.of("HOME", "/x")).deletionGrace())
        .isNull();
    assertThat(Settings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_DELETION_GRACE", "90s")).deletionGrace())
        .isEqualTo(Duration.ofSeconds(90));
    assertThat(Settings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_DELETION_GRACE", "PT2H")).deletionGrace())
        .isEqualTo(Duration.ofHours(2));
    Path config = tmp.resolve("grace.json");
    Files.writeString(config, "{\"version\": 1, \"bucket\": \"b\", \"deletionGrace\": \"7d\"}");
    assertThat(Settings.resolve(flags(config.toString(), null, null), Map.of("HOME", "/x"))
        .deletionGrace()).isEqualTo(Duration.ofDays(7));
  }

  @Test
  void retentionSettingsReadDurationsFromTheEnvironmentAndTheFile() throws Exception {
    Settings none = Settings.resolve(flags(null, null, null), Map.of("HOME", "/x"));
    assertThat(none.unusedFor()).isNull();
    assertThat(none.touchInterval()).isNull();
    Settings env = Settings.resolve(flags(null, null, null), Map.of("HOME", "/x",
        "COFFER_UNUSED_FOR", "30d", "COFFER_TOUCH_INTERVAL", "12h"));
    assertThat(env.unusedFor()).isEqualTo(Duration.ofDays(30));
    assertThat(env.touchInterval()).isEqualTo(Duration.ofHours(12));
    Path config = tmp.resolve("retention.json");
    Files.writeString(config, "{\"version\": 1, \"bucket\": \"b\", \"unusedFor\": \"P7D\"}");
    assertThat(Settings.resolve(flags(config.toString(), null, null), Map.of("HOME", "/x"))
        .unusedFor()).isEqualTo(Duration.ofDays(7));
    assertThatThrownBy(() -> Settings.resolve(flags(null, null, null),
        Map.of("HOME", "/x", "COFFER_UNUSED_FOR", "later")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("later");
  }
}
