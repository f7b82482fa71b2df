package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.spi.Labels;
import dev.coffer.store.spi.Refs;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Refs.validate and Labels.validate. */
class RefsAndLabelsTest {

  @ParameterizedTest
  @ValueSource(strings = {"r", "../etc/passwd", "a/b/../c", "..", "with space", "ünïcödé",
      "emoji \uD83D\uDE00", "sha256:abc", "\\", "%2e%2e"})
  void acceptsAnyWellFormedRef(String ref) {
    assertThat(Refs.validate(ref)).isEqualTo(ref);
  }

  @Test
  void refusesEmptyAndNullRefs() {
    assertThatThrownBy(() -> Refs.validate("")).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> Refs.validate(null)).isInstanceOf(InvalidArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\nb", "a\u0000b", "a\tb", "a\u007fb", "a\u0085b", "a\rb"})
  void refusesControlCharacters(String ref) {
    assertThatThrownBy(() -> Refs.validate(ref)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("control character at index 1");
  }

  @Test
  void controlCharactersAreEscapedInTheMessage() {
    assertThatThrownBy(() -> Refs.validate("build\n42"))
        .hasMessageContaining("\"build\\x0a42\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"ab\uD83D", "ab\uDE00", "ab\uD83Dx", "ab\uDE00\uD83D"})
  void refusesUnpairedSurrogates(String ref) {
    assertThatThrownBy(() -> Refs.validate(ref)).isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("unpaired surrogate at index 2");
  }

  @Test
  void limitsRefsTo1024Utf8Bytes() {
    assertThat(Refs.validate("r".repeat(1024))).hasSize(1024);
    assertThatThrownBy(() -> Refs.validate("r".repeat(1025)))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("1025 bytes");
    // Two bytes each in UTF-8: 512 characters are 1024 bytes.
    assertThatCode(() -> Refs.validate("é".repeat(512))).doesNotThrowAnyException();
    assertThatThrownBy(() -> Refs.validate("é".repeat(513)))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("1026 bytes");
    // Four bytes per surrogate pair.
    assertThatCode(() -> Refs.validate("\uD83D\uDE00".repeat(256))).doesNotThrowAnyException();
    assertThatThrownBy(() -> Refs.validate("\uD83D\uDE00".repeat(256) + "x"))
        .isInstanceOf(InvalidArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"k\uDDE0", "\uDDE0", "k\uD83D", "ab\uD83D\uDE00\uDE00"})
  void refusesLabelKeysWithUnpairedSurrogatesNamingThemEscaped(String key) {
    assertThatThrownBy(() -> Labels.validate(key, "v"))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("unpaired surrogate at index").hasMessageContaining("of its key")
        .hasMessageContaining(String.format("\\u%04x", (int) key.charAt(key.length() - 1)))
        .satisfies(e -> assertThat(e.getMessage().codePoints()
            .noneMatch(cp -> cp >= 0xD800 && cp <= 0xDFFF)).as("the message is text").isTrue());
  }

  @Test
  void refusesLabelValuesWithUnpairedSurrogatesNamingTheKey() {
    assertThatThrownBy(() -> Labels.validate("key", "ab\uD83D"))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("invalid label \"key\": unpaired surrogate at index 2 of its value");
    assertThatCode(() -> Labels.validate("key\uD83D\uDE00", "\uD83D\uDE00"))
        .doesNotThrowAnyException();
  }

  @Test
  void acceptsLabelsUpTo4096Bytes() {
    assertThatCode(() -> Labels.validate("key", "v".repeat(4093))).doesNotThrowAnyException();
    assertThatThrownBy(() -> Labels.validate("key", "v".repeat(4094)))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("\"key\"").hasMessageContaining("4097 bytes");
    assertThatCode(() -> Labels.validate("k".repeat(4096), null)).doesNotThrowAnyException();
    assertThatCode(() -> Labels.validate("k".repeat(4096), "")).doesNotThrowAnyException();
    assertThatThrownBy(() -> Labels.validate("k".repeat(4097), ""))
        .isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void countsLabelsInUtf8Bytes() {
    // "é" is two bytes: 1 + 2 * 2047 = 4095, 1 + 2 * 2048 = 4097.
    assertThatCode(() -> Labels.validate("k", "é".repeat(2047))).doesNotThrowAnyException();
    assertThatThrownBy(() -> Labels.validate("k", "é".repeat(2048)))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("4097 bytes");
  }

  @Test
  void refusesEmptyKeys() {
    assertThatThrownBy(() -> Labels.validate("", "v"))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("empty key");
    assertThatThrownBy(() -> Labels.validate(null, "v"))
        .isInstanceOf(InvalidArgumentException.class);
  }

  @Test
  void validatesEveryLabelOfAMap() {
    assertThatCode(() -> Labels.validate((Map<String, String>) null)).doesNotThrowAnyException();
    assertThatCode(() -> Labels.validate(Map.of())).doesNotThrowAnyException();
    Map<String, String> labels = new HashMap<>();
    labels.put("ok", "v");
    labels.put("containerd.io/gc.root", "2026-01-01T00:00:00Z");
    assertThatCode(() -> Labels.validate(labels)).doesNotThrowAnyException();
    labels.put("big", "v".repeat(5000));
    assertThatThrownBy(() -> Labels.validate(labels))
        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"big\"");
  }
}
