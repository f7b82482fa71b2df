package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reader, writer and admin action sets, as parsed from the module's locals, and the policy documents
 * built from them.
 *
 * <p>The sets must be exactly the IAM actions of the S3 operations the store was seen to perform in each
 * role against a real S3 server ({@link S3Operations}): a policy may neither miss an action the store
 * calls nor grant one it never uses.
 */
class IamPolicyTest {

  static final List<String> SCOPES = List.of("list", "bucket", "blobs", "index", "ingest");
  static final List<String> ROLES = List.of("reader", "writer", "admin");

  private static final String BUCKET_ARN = "arn:aws:s3:::farm-blobs";

  private static HclConfig module;

  @BeforeAll
  static void load() throws IOException {
    module = HclConfig.load(Layout.MODULE);
  }

  /** A role's S3 actions by scope, exactly as the {@code <role>_actions} local lists them. */
  static Map<String, Set<String>> actions(HclConfig config, String role) {
    Object local = config.local(role + "_actions");
    assertThat(local).as(role + "_actions must be a literal map").isInstanceOf(Map.class);
    Map<String, Set<String>> byScope = new LinkedHashMap<>();
    ((Map<?, ?>) local).forEach((scope, list) -> {
      assertThat(list).as(role + "_actions." + scope + " must be a literal list").isInstanceOf(List.class);
      List<?> actions = (List<?>) list;
      assertThat(actions).as(role + "_actions." + scope + " has duplicates").doesNotHaveDuplicates();
      Set<String> set = new TreeSet<>();
      actions.forEach(action -> set.add((String) action));
      byScope.put((String) scope, set);
    });
    return byScope;
  }

  @Test
  void eachRoleGrantsExactlyTheActionsOfTheOperationsRecordedForIt() throws IOException {
    Map<String, Map<String, Set<String>>> recorded = S3Operations.recordedActions();
    assertThat(recorded).as("roles recorded in " + S3Operations.RECORDING).containsOnlyKeys(ROLES);
    List<String> differences = new ArrayList<>();
    for (String role : ROLES) {
      Map<String, Set<String>> granted = actions(module, role);
      assertThat(granted).as(role + "_actions").containsOnlyKeys(SCOPES);
      assertThat(recorded.get(role)).as(role + " recorded").containsOnlyKeys(SCOPES);
      for (String scope : SCOPES) {
        Set<String> missing = new TreeSet<>(recorded.get(role).get(scope));
        missing.removeAll(granted.get(scope));
        Set<String> extra = new TreeSet<>(granted.get(scope));
        extra.removeAll(recorded.get(role).get(scope));
        if (!missing.isEmpty() || !extra.isEmpty()) {
          differences.add(role + "_actions." + scope + ": missing " + missing + ", never used " + extra);
        }
      }
    }
    assertThat(differences).as("iam.tf against the operations recorded in " + S3Operations.RECORDING)
        .isEmpty();
  }

  @Test
  void theReadmeMapsOperationsToActionsAsTheTestDoes() throws IOException {
    List<String> lines = Files.readAllLines(Layout.README);
    int table = lines.indexOf(lines.stream().filter(l -> l.startsWith("S3 operations map to IAM actions"))
        .findFirst().orElseThrow());
    Map<String, Set<String>> readme = new TreeMap<>();
    for (String line : lines.subList(table + 1, lines.size())) {
      if (line.startsWith("| `")) {
        String[] cells = line.split("\\|");
        Set<String> actions = new TreeSet<>(S3Operations.quoted(cells[2]));
        S3Operations.quoted(cells[1]).forEach(operation -> readme.put(operation, actions));
      } else if (!readme.isEmpty()) {
        break;
      }
    }
    assertThat(readme).isEqualTo(new TreeMap<>(S3Operations.IAM_ACTIONS));
  }

  @Test
  void rolesAreNestedAndNoneUsesWildcards() {
    Map<String, Set<String>> reader = actions(module, "reader");
    Map<String, Set<String>> writer = actions(module, "writer");
    Map<String, Set<String>> admin = actions(module, "admin");
    for (String scope : SCOPES) {
      assertThat(writer.get(scope)).as("writer ⊇ reader in " + scope).containsAll(reader.get(scope));
      assertThat(admin.get(scope)).as("admin ⊇ writer in " + scope).containsAll(writer.get(scope));
      for (Map<String, Set<String>> role : List.of(reader, writer, admin)) {
        assertThat(role.get(scope)).allSatisfy(action -> assertThat(action).matches("s3:[A-Za-z]+"));
      }
    }
    // Only garbage collection removes committed content.
    assertThat(writer.get("blobs")).doesNotContain("s3:DeleteObject");
    assertThat(writer.get("index")).doesNotContain("s3:DeleteObject");
  }

  @Test
  void policiesAreBuiltFromTheLocalsForEveryRole() {
    Map<?, ?> roles = (Map<?, ?>) module.local("roles");
    assertThat(roles.keySet().stream().map(String::valueOf).toList())
        .containsExactlyInAnyOrder("reader", "writer", "admin");
    for (Object role : roles.keySet()) {
      Map<?, ?> spec = (Map<?, ?>) roles.get(role);
      assertThat(spec.get("s3")).hasToString("local." + role + "_actions");
      assertThat(spec.get("kms")).hasToString("local." + role + "_kms_actions");
    }
    assertThat(module.data("aws_iam_policy_document", "role").expression("for_each")).isEqualTo("local.roles");
    assertThat(module.resource("aws_iam_policy", "role").expression("policy"))
        .isEqualTo("data.aws_iam_policy_document.role[each.key].json");
  }

  @Test
  void eachScopeIsGrantedOnItsOwnPartOfTheStore() {
    Block document = module.data("aws_iam_policy_document", "role");
    Map<String, Object> bindings = Map.of("aws_s3_bucket.this.arn", BUCKET_ARN, "var.prefix", "farm/eu/");
    Map<String, List<String>> expectedResources = Map.of(
        "list", List.of(BUCKET_ARN),
        "bucket", List.of(BUCKET_ARN),
        "blobs", List.of(BUCKET_ARN + "/farm/eu/blobs/*"),
        "index", List.of(BUCKET_ARN + "/farm/eu/index/*"),
        "ingest", List.of(BUCKET_ARN + "/farm/eu/ingest/*"));

    Map<String, Block> statementByScope = new LinkedHashMap<>();
    for (Block statement : document.blocks("statement")) {
      statementByScope.put(scopeOf(statement.expression("actions")), statement);
    }
    for (Block dynamic : document.blocks("dynamic")) {
      String source = dynamic.expression("for_each");
      if (source.startsWith("var.kms_key_arn")) {
        continue;
      }
      Block content = dynamic.block("content");
      assertThat(content.expression("actions")).isEqualTo("statement.value");
      // Empty lists make no statement at all: IAM rejects a statement without actions.
      String scope = scopeOf(source.substring("length(".length(), source.indexOf(')')));
      assertThat(source).isEqualTo("length(each.value.s3." + scope + ") > 0 ? [each.value.s3." + scope + "] : []");
      statementByScope.put(scope, content);
    }

    assertThat(statementByScope).containsOnlyKeys(SCOPES);
    statementByScope.forEach((scope, statement) -> {
      assertThat(statement.attributes()).as(scope).doesNotContainKey("effect"); // Allow, the default
      assertThat(module.evaluate(statement.attribute("resources"), bindings)).as(scope)
          .isEqualTo(expectedResources.get(scope));
    });
    // A prefix condition would make S3 answer 403 instead of 404 for missing keys (see iam.tf).
    assertThat(statementByScope.get("list").blocks("condition")).isEmpty();
  }

  @Test
  void kmsUseIsGrantedOnlyForTheStoreKeyThroughS3() {
    Block document = module.data("aws_iam_policy_document", "role");
    Block kms = document.blocks("dynamic").stream()
        .filter(d -> d.expression("for_each").startsWith("var.kms_key_arn"))
        .findFirst().orElseThrow().block("content");

    assertThat(kms.expression("actions")).isEqualTo("each.value.kms");
    assertThat(kms.attribute("resources")).hasToString("[statement.value]");
    List<Block> conditions = kms.blocks("condition");
    assertThat(conditions).hasSize(2);
    assertThat(conditions.get(0).attributes())
        .containsEntry("test", "StringEquals").containsEntry("variable", "kms:ViaService");
    // Tied to this bucket by the encryption context S3 passes: the bucket's ARN with bucket keys,
    // an object's ARN without.
    assertThat(conditions.get(1).attributes())
        .containsEntry("test", "StringLike")
        .containsEntry("variable", "kms:EncryptionContext:aws:s3:arn");
    assertThat(conditions.get(1).attribute("values"))
        .hasToString("[aws_s3_bucket.this.arn, \"${aws_s3_bucket.this.arn}/*\"]");
    assertThat(module.local("reader_kms_actions")).isEqualTo(List.of("kms:Decrypt"));
    assertThat(module.local("writer_kms_actions")).isEqualTo(List.of("kms:Decrypt", "kms:GenerateDataKey"));
    assertThat(module.local("admin_kms_actions")).isEqualTo(List.of("kms:Decrypt", "kms:GenerateDataKey"));
  }

  @Test
  void policyCreationIsOptional() {
    Block policy = module.resource("aws_iam_policy", "role");
    Object roles = module.local("roles");
    assertThat(module.evaluate(policy.attribute("for_each"), Map.of())).isEqualTo(module.evaluate(roles, Map.of()));
    assertThat(module.evaluate(policy.attribute("for_each"), Map.of("var.create_iam_policies", false)))
        .isEqualTo(Map.of());
  }

  private static String scopeOf(String actionsExpression) {
    assertThat(actionsExpression).startsWith("each.value.s3.");
    return actionsExpression.substring("each.value.s3.".length());
  }
}
