package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The filter grammar of semantics section 4, parsed and evaluated without a store. */
class FilterTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Digest DIGEST = Digest.of(new byte[] {42});

  private static Info blob(Map<String, String> labels) {
    return new Info(DIGEST, 1, T0, T0, labels, 0, Set.of());
  }

  private static Status ingest(String ref) {
    return new Status(ref, 0, 0, null, T0, T0);
  }

  private static final Info BUILD = blob(Map.of(
      "containerd.io/gc.root", "2026-01-01T00:00:00Z",
      "team", "build",
      "a.b", "dotted",
      "path", "x/y",
      "note", "a \"quoted\", value\twith tab",
      "empty", ""));

  private static boolean matches(Info info, String... filters) {
    return Filter.parse(filters).matches(info);
  }

  @Test
  void noFilterOrEmptyFilterMatchesEverything() {
    assertThat(matches(BUILD)).isTrue();
    assertThat(matches(BUILD, "")).isTrue();
    assertThat(matches(blob(null), (String[]) null)).isTrue();
    assertThat(Filter.ALL.matches(BUILD)).isTrue();
    assertThat(Filter.ALL.matches(ingest("r"))).isTrue();
    assertThat(matches(BUILD, "labels.missing", "")).isTrue();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = ';', quoteCharacter = '`', value = {
      // presence
      "labels.team; true",
      "labels.missing; false",
      "labels; false",
      "labels.empty; true",
      "digest; true",
      "size; false",
      "ref; false",
      // quoted keys and key paths joined with '.'
      "labels.\"containerd.io/gc.root\"; true",
      "labels.\"containerd.io/gc.root\"==2026-01-01T00:00:00Z; true",
      "labels.containerd; false",
      "labels.a.b==dotted; true",
      "labels.\"a.b\"==dotted; true",
      "labels.\"a\".\"b\"==dotted; true",
      "\"labels\".\"team\"==build; true",
      // ==
      "labels.team==build; true",
      "labels.team==Build; false",
      "labels.team==buil; false",
      "labels.missing==x; false",
      "labels.team==\"build\"; true",
      "labels.path==x/y; true",
      "labels.path==/x/y; false",
      "labels.empty==\"\"; true",
      // !=
      "labels.team!=build; false",
      "labels.team!=test; true",
      "labels.missing!=x; true",
      // ~= with quoted, /re/ and |re| values; find, not full match
      "labels.team~=ui; true",
      "labels.team~=^ui; false",
      "labels.team~=/^b.*d$/; true",
      "labels.team~=|^b.*d$|; true",
      "labels.team~=\"^(build|test)$\"; true",
      "labels.team~=\"^(tool|test)$\"; false",
      "labels.path~=|^x/y$|; true",
      "labels.path~=/^x\\/y$/; true",
      "labels.a.b~=/^dot\\w+$/; true",
      "labels.team~=/^b\\.ild$/; false",
      "labels.missing~=.*; false",
      "labels.empty~=^$; true",
      // escapes in quoted values
      "labels.note==\"a \\\"quoted\\\", value\\twith tab\"; true",
      "labels.team==\"\\x62uild\"; true",
      "labels.team==\"\\u0062uild\"; true",
      "labels.team==\"\\U00000062uild\"; true",
      // digest field
      "digest~=^sha256:; true",
      "digest==sha256:0000000000000000000000000000000000000000000000000000000000000000; false",
      // AND with commas, spaces allowed around tokens
      "labels.team==build,labels.a.b==dotted; true",
      "labels.team==build,labels.a.b==other; false",
      " labels.team == build , labels.path ; true",
      "labels.team,labels.missing; false",
  })
  void evaluatesOneFilterString(String filter, boolean expected) {
    assertThat(matches(BUILD, filter)).as(filter).isEqualTo(expected);
  }

  @Test
  void digestEquality() {
    assertThat(matches(BUILD, "digest==" + DIGEST)).isTrue();
    assertThat(matches(BUILD, "digest!=" + DIGEST)).isFalse();
  }

  @Test
  void severalStringsAreOred() {
    assertThat(matches(BUILD, "labels.team==test", "labels.team==build")).isTrue();
    assertThat(matches(BUILD, "labels.team==test", "labels.missing")).isFalse();
    assertThat(matches(BUILD, "labels.team==test,labels.a.b", "labels.path==x/y,labels.empty"))
        .isTrue();
  }

  @Test
  void statusesHaveOnlyRef() {
    Status status = ingest("build/layer-1");
    assertThat(Filter.parse("ref").matches(status)).isTrue();
    assertThat(Filter.parse("ref==build/layer-1").matches(status)).isTrue();
    assertThat(Filter.parse("ref~=|^build/|").matches(status)).isTrue();
    assertThat(Filter.parse("ref!=build/layer-1").matches(status)).isFalse();
    assertThat(Filter.parse("ref.x").matches(status)).isFalse();
    assertThat(Filter.parse("digest").matches(status)).isFalse();
    assertThat(Filter.parse("labels.team").matches(status)).isFalse();
    assertThat(Filter.parse("labels.team!=x").matches(status)).isTrue();
    assertThat(Filter.parse("ref").matches(BUILD)).isFalse();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = ';', quoteCharacter = '`', value = {
      "labels.team==; 13; expected a value",
      "labels.team=build; 11; expected an operator",
      "labels.team<build; 11; '<' and '>' compare only createdAt, updatedAt, lastUsedAt",
      "lastUsedAt<yesterday; 11; expected an instant such as 2026-11-01T00:00:00Z",
      "lastUsedAt<=2026-11-01T00:00:00Z; 10; unsupported operator \"<=\"",
      "labels.team===ci; 11; unsupported operator \"===\"",
      "labels.team!==ci; 11; unsupported operator \"!==\"",
      "labels.team~~=ci; 11; unsupported operator \"~~=\"",
      "digest=!x; 6; unsupported operator \"=!\"",
      "labels.\"unterminated; 7; unterminated quoted string",
      "labels.team==\"unterminated; 13; unterminated quoted string",
      "labels.team~=/unterminated; 13; unterminated quoted string",
      "`,`; 0; expected a field name",
      "labels.team==a,,labels.x; 15; expected a field name",
      "labels.team==a,; 15; expected a field name at end of filter",
      "labels..team; 7; expected a field name",
      "labels.; 7; expected a field name at end of filter",
      "1abc; 0; expected a field name",
      "labels.team==a b; 15; expected ','",
      "labels.team~=/[/; 16; invalid regular expression",
      "labels.team==\"\\q\"; 16; invalid escape",
      "labels.team==\"\\x4; 16; truncated escape",
      "labels.team==\"\\x4\"; 16; invalid hexadecimal escape",
      "labels.team==\"\\xzz\"; 16; invalid hexadecimal escape",
      "labels.team==\"\\x+1\"; 16; invalid hexadecimal escape",
      "labels.team==\"\\x\u0663\u0663\"; 16; invalid hexadecimal escape",
      "labels.team==\"\\UFFFFFFFF\"; 16; invalid code point",
      "labels.team==\"\\U00110000\"; 16; invalid code point",
      "` `; 1; expected a field name at end of filter",
  })
  void refusesMalformedFiltersNamingThePosition(String filter, int position, String what) {
    assertThatThrownBy(() -> Filter.parse(filter))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("at position " + position + ":")
        .hasMessageContaining(what);
  }

  @Test
  void errorsQuoteTheFilterAndStopAtTheFirstBadString() {
    assertThatThrownBy(() -> Filter.parse("labels.team==build", "labels.x=y"))
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageStartingWith("invalid filter \"labels.x=y\"");
  }

  @Test
  void fieldpathsListEverySelectorsPathInOrder() {
    assertThat(Filter.parse("labels.\"a.b\"==x,digest", "ref~=^b", "foo").fieldpaths())
        .containsExactly(List.of("labels", "a.b"), List.of("digest"), List.of("ref"),
            List.of("foo"));
    assertThat(Filter.ALL.fieldpaths()).isEmpty();
    assertThat(Filter.parse("").fieldpaths()).isEmpty();
  }

  @Test
  void timeFieldsCompareAsInstants() {
    Instant used = Instant.parse("2026-10-15T12:00:00Z");
    Info info = new Info(DIGEST, 1, T0, T0, Map.of(), 0, Set.of(), 7, used);
    assertThat(Filter.parse("lastUsedAt<2026-11-01T00:00:00Z").matches(info)).isTrue();
    assertThat(Filter.parse("lastUsedAt>2026-11-01T00:00:00Z").matches(info)).isFalse();
    assertThat(Filter.parse("lastUsedAt>2026-10-15T11:59:59.999999999Z").matches(info)).isTrue();
    assertThat(Filter.parse("lastUsedAt<2026-10-15T12:00:00Z").matches(info)).isFalse();
    assertThat(Filter.parse("lastUsedAt==2026-10-15T12:00:00Z").matches(info)).isTrue();
    assertThat(Filter.parse("lastUsedAt < 2026-11-01T00:00:00Z, labels.team").matches(info))
        .isFalse();
    assertThat(Filter.parse("createdAt<2026-11-01T00:00:00Z").matches(info))
        .isEqualTo(T0.isBefore(Instant.parse("2026-11-01T00:00:00Z")));
    // An info without a recorded use was last used when it was created or updated.
    assertThat(blob(Map.of()).lastUsedAt()).isEqualTo(T0);
    assertThat(Filter.parse("lastUsedAt<2026-11-01T00:00:00Z").matches(ingest("r"))).isFalse();
  }
}
