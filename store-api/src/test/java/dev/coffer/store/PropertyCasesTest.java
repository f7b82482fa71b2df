package dev.coffer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.coffer.store.spi.Labels;
import dev.coffer.store.spi.Refs;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** The generators and the runner of {@link BadInputProperties}: seeded, edge cases, messages. */
class PropertyCasesTest {

  private static List<String> names(String property, Gen<String> gen, int tries) {
    return PropertyCases.cases(property, tries, gen, PropertyCases::quote, v -> { })
        .map(DynamicTest::getDisplayName).toList();
  }

  @Test
  void theSameSeedGivesTheSameCasesAndAnotherSeedOthers() {
    List<String> first = names("p", BadInputs.refs(), 300);
    assertThat(names("p", BadInputs.refs(), 300)).isEqualTo(first);
    assertThat(names("q", BadInputs.refs(), 300)).isNotEqualTo(first);
    String before = System.getProperty(PropertyCases.SEED);
    System.setProperty(PropertyCases.SEED, "7");
    try {
      assertThat(names("p", BadInputs.refs(), 300)).isNotEqualTo(first);
      assertThat(names("p", BadInputs.refs(), 300))
          .isEqualTo(names("p", BadInputs.refs(), 300));
    } finally {
      if (before == null) {
        System.clearProperty(PropertyCases.SEED);
      } else {
        System.setProperty(PropertyCases.SEED, before);
      }
    }
  }

  @Test
  void aCaseIsTheSameWhicheverCasesRunBeforeIt() {
    List<String> all = names("p", BadInputs.filters(), 200);
    System.setProperty(PropertyCases.CASE, "137");
    try {
      assertThat(names("p", BadInputs.filters(), 200)).containsExactly(all.get(137));
    } finally {
      System.clearProperty(PropertyCases.CASE);
    }
  }

  @Test
  void everyEdgeCaseOfARefComesUpInTheFirstCases() {
    Gen<String> refs = BadInputs.refs();
    List<String> values = IntStream.range(0, refs.edges())
        .mapToObj(i -> refs.edge(i, new SplittableRandom(i))).toList();
    int max = Refs.MAX_REF_BYTES;
    assertThat(values).contains("", "a".repeat(max), "a".repeat(max + 1),
        "\u00e9".repeat(max / 2), "\u00e9".repeat(max / 2 + 1),
        "\ud83d\ude00".repeat(max / 4), "\ud83d\ude00".repeat(max / 4 + 1));
    assertThat(values).anyMatch(v -> v.length() == 40).anyMatch(v -> v.equals("\ud800"));
  }

  @Test
  void labelEdgeCasesSitOnBothSidesOfTheLimit() {
    Gen<Map<String, String>> maps = BadInputs.labelMaps();
    List<Integer> sizes = IntStream.range(0, maps.edges())
        .mapToObj(i -> maps.edge(i, new SplittableRandom(i)))
        .filter(m -> m.size() == 1)
        .map(m -> m.entrySet().iterator().next())
        .map(e -> (e.getKey() + e.getValue()).getBytes(StandardCharsets.UTF_8).length)
        .toList();
    assertThat(sizes).contains(Labels.MAX_LABEL_BYTES, Labels.MAX_LABEL_BYTES + 1);
    assertThat(sizes.stream().filter(s -> s == Labels.MAX_LABEL_BYTES)).hasSize(5);
    assertThat(sizes.stream().filter(s -> s == Labels.MAX_LABEL_BYTES + 1)).hasSize(5);
  }

  @Test
  void aFailureNamesThePropertyTheCaseTheInputAndTheSeedAndTheRestAreSkipped() throws Throwable {
    List<DynamicTest> cases = PropertyCases.cases("refusesK", 5, Gen.oneOf("a", "k".repeat(4096)),
        PropertyCases::quote, v -> assertThat(v).isEqualTo("a")).toList();
    cases.get(0).getExecutable().execute();
    assertThatThrownBy(() -> cases.get(2).getExecutable().execute())
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("refusesK fails on case #2 of seed " + PropertyCases.seed())
        .hasMessageContaining("-Dcoffer.props.seed=" + PropertyCases.seed()
            + " -Dcoffer.props.case=2")
        .hasMessageContaining("input \"k\"*4096");
    assertThatThrownBy(() -> cases.get(3).getExecutable().execute())
        .isInstanceOf(TestAbortedException.class).hasMessageContaining("case #2 failed");
  }

  @Test
  void quoteShowsControlsSurrogatesAndRunsInAscii() {
    assertThat(PropertyCases.quote("")).isEqualTo("\"\"");
    assertThat(PropertyCases.quote("a\"b\\c\n\u00e9\ud800"))
        .isEqualTo("\"a\\\"b\\\\c\\u000a\\u00e9\\ud800\"");
    assertThat(PropertyCases.quote("k".repeat(4095) + "v")).isEqualTo("\"k\"*4095 + \"v\"");
    assertThat(PropertyCases.quote("x" + "\ud83d\ude00".repeat(9)))
        .isEqualTo("\"x\" + \"\\ud83d\\ude00\"*9");
    assertThat(PropertyCases.quote("aaaaaaaa")).isEqualTo("\"aaaaaaaa\"");
  }
}
