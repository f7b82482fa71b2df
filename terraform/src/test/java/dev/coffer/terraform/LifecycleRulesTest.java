package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lifecycle rules may only clean up after ingests: a rule that expired blobs or index records would
 * delete content the index still counts as live.
 */
class LifecycleRulesTest {

  private static final Pattern LOCAL_REFERENCE = Pattern.compile("local\\.([A-Za-z0-9_]+)");
  private static final String HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  private static HclConfig module;
  private static List<Block> rules;

  @BeforeAll
  static void load() throws IOException {
    module = HclConfig.load(Layout.MODULE);
    rules = module.resource("aws_s3_bucket_lifecycle_configuration", "this").blocks("rule");
  }

  @Test
  void incompleteMultipartUploadsUnderTheStorePrefixAreAborted() {
    List<Block> aborting = rules.stream().filter(r -> !r.blocks("abort_incomplete_multipart_upload").isEmpty()).toList();
    assertThat(aborting).hasSize(1);
    Block rule = aborting.get(0);

    assertThat(rule.attribute("status")).isEqualTo("Enabled");
    assertThat(rule.block("filter").expression("prefix")).isEqualTo("var.prefix");
    assertThat(module.evaluate(rule.block("abort_incomplete_multipart_upload").attribute("days_after_initiation"),
        Map.of())).isEqualTo(new BigDecimal("7"));
    assertThat(removesObjects(rule)).as("the abort rule must not expire objects").isFalse();
  }

  @Test
  void theOnlyExpiringRuleIsFilteredToTheIngestPrefix() {
    List<Block> expiring = rules.stream().filter(LifecycleRulesTest::removesObjects).toList();
    assertThat(expiring).hasSize(1);
    Block rule = expiring.get(0);
    Object prefix = rule.block("filter").attribute("prefix");

    assertThat(rule.attribute("status")).isEqualTo("Enabled");
    assertThat(prefix).hasToString("local.ingest_prefix");
    assertThat(module.local("ingest_prefix")).hasToString("\"${var.prefix}ingest/\"");
    assertThat(module.evaluate(prefix, Map.of())).isEqualTo("coffer/ingest/");
    assertThat(module.evaluate(prefix, Map.of("var.prefix", "farm/eu/"))).isEqualTo("farm/eu/ingest/");
    assertThat(module.evaluate(prefix, Map.of("var.prefix", ""))).isEqualTo("ingest/");
    assertThat(module.evaluate(rule.block("expiration").attribute("days"), Map.of()))
        .isEqualTo(new BigDecimal("30"));
  }

  @Test
  void noRuleMentionsBlobsOrIndex() {
    assertThat(rules).isNotEmpty();
    for (Block rule : rules) {
      String text = describe(rule);
      assertThat(text).as(text).doesNotContain("blobs").doesNotContain("index");
    }
  }

  @Test
  void noRuleMatchesBlobOrIndexKeysByPrefixOrTag() {
    for (String storePrefix : List.of("coffer/", "", "farm/eu/")) {
      for (Block rule : rules) {
        Block filter = rule.block("filter");
        // A tag or size filter would not be bounded by a key prefix; only a plain prefix is allowed.
        assertThat(filter.attributes().keySet()).as(describe(rule)).containsExactly("prefix");
        assertThat(filter.blocks()).as(describe(rule)).isEmpty();
        if (!removesObjects(rule)) {
          continue;
        }
        String prefix = (String) module.evaluate(filter.attribute("prefix"), Map.of("var.prefix", storePrefix));
        assertThat(storePrefix + "blobs/sha256/" + HEX).doesNotStartWith(prefix);
        assertThat(storePrefix + "index/sha256/" + HEX).doesNotStartWith(prefix);
        assertThat(storePrefix + "ingest/" + HEX + "/state").startsWith(prefix);
      }
    }
  }

  @Test
  void withVersioningOnlyNoncurrentVersionsAndLoneDeleteMarkersExpireUnderThePrefix() {
    List<Block> dynamic = module.resource("aws_s3_bucket_lifecycle_configuration", "this").blocks("dynamic");
    assertThat(dynamic).hasSize(1);
    Block rule = dynamic.get(0);
    assertThat(rule.labels()).containsExactly("dynamic", "rule");
    Object forEach = rule.attribute("for_each");
    assertThat(module.evaluate(forEach, Map.of())).isEqualTo(List.of());
    assertThat(module.evaluate(forEach, Map.of("var.versioning_enabled", true)))
        .isEqualTo(List.of(new BigDecimal("30")));

    Block content = rule.block("content");
    assertThat(content.attribute("status")).isEqualTo("Enabled");
    assertThat(content.block("filter").attributes()).containsOnlyKeys("prefix");
    assertThat(content.block("filter").expression("prefix")).isEqualTo("var.prefix");
    assertThat(content.block("noncurrent_version_expiration").expression("noncurrent_days"))
        .isEqualTo("rule.value");
    // No days or date: the expiration removes delete markers only, never a current object.
    assertThat(content.block("expiration").attributes())
        .containsExactly(Map.entry("expired_object_delete_marker", true));
    assertThat(content.blocks("transition")).isEmpty();
  }

  @Test
  void ingestRecordsMayNotExpireBeforeTheirUploadsAreAborted() {
    Block precondition = module.resource("aws_s3_bucket_lifecycle_configuration", "this")
        .block("lifecycle").block("precondition");
    assertThat(precondition.expression("condition"))
        .isEqualTo("var.ingest_expiration_days >= var.abort_incomplete_multipart_days");
  }

  private static boolean removesObjects(Block rule) {
    return rule.blocks().stream().anyMatch(b -> switch (b.type()) {
      case "expiration", "noncurrent_version_expiration", "transition", "noncurrent_version_transition" -> true;
      default -> false;
    });
  }

  /** Everything a rule says, with the locals it references spelled out. */
  private static String describe(Block block) {
    StringBuilder out = new StringBuilder(String.join(" ", block.labels())).append(" {");
    block.attributes().forEach((name, value) -> {
      out.append(' ').append(name).append(" = ").append(value);
      Matcher locals = LOCAL_REFERENCE.matcher(String.valueOf(value));
      while (locals.find()) {
        out.append(" (").append(locals.group()).append(" = ").append(module.local(locals.group(1))).append(')');
      }
    });
    block.blocks().forEach(nested -> out.append(' ').append(describe(nested)));
    return out.append(" }").toString();
  }
}
