package dev.coffer.terraform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The reader, writer and admin action sets, as parsed from the module's locals, and the policy documents
 * built from them.
 *
 * <p>The expected sets below are written by hand from the store's design (which S3 call touches which
 * part of the key layout). They are meant to be replaced by the operations the integration tests record
 * against a real S3 server, so that a policy can neither miss an action the store calls nor grant one
 * it never uses.
 */
class IamPolicyTest {

  static final List<String> SCOPES = List.of("list", "bucket", "blobs", "index", "ingest");

  private static final Map<String, Map<String, Set<String>>> EXPECTED = Map.of(
      "reader", Map.of(
          "list", Set.of("s3:ListBucket"),
          "bucket", Set.of(),
          "blobs", Set.of("s3:GetObject"),
          "index", Set.of("s3:GetObject"),
          "ingest", Set.of()),
      "writer", Map.of(
          "list", Set.of("s3:ListBucket"),
          "bucket", Set.of("s3:ListBucketMultipartUploads"),
          "blobs", Set.of("s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"),
          "index", Set.of("s3:GetObject", "s3:PutObject"),
          "ingest", Set.of("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
              "s3:ListMultipartUploadParts")),
      "admin", Map.of(
          "list", Set.of("s3:ListBucket"),
          "bucket", Set.of("s3:ListBucketMultipartUploads"),
          "blobs", Set.of("s3:GetObject", "s3:PutObject", "s3:GetObjectTagging", "s3:PutObjectTagging",
              "s3:DeleteObject"),
          "index", Set.of("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
          "ingest", Set.of("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
              "s3:ListMultipartUploadParts")));

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
  void eachRoleGrantsExactlyTheExpectedActions() {
    for (String role : EXPECTED.keySet()) {
      assertThat(actions(module, role)).as(role).containsOnlyKeys(SCOPES).isEqualTo(EXPECTED.get(role));
    }
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
    Block list = statementByScope.get("list").block("condition");
    assertThat(list.attributes()).containsEntry("test", "StringLike").containsEntry("variable", "s3:prefix");
    assertThat(module.evaluate(list.attribute("values"), bindings)).isEqualTo(List.of("farm/eu/*"));
  }

  @Test
  void kmsUseIsGrantedOnlyForTheStoreKeyThroughS3() {
    Block document = module.data("aws_iam_policy_document", "role");
    Block kms = document.blocks("dynamic").stream()
        .filter(d -> d.expression("for_each").startsWith("var.kms_key_arn"))
        .findFirst().orElseThrow().block("content");

    assertThat(kms.expression("actions")).isEqualTo("each.value.kms");
    assertThat(kms.attribute("resources")).hasToString("[statement.value]");
    assertThat(kms.block("condition").attributes())
        .containsEntry("test", "StringEquals").containsEntry("variable", "kms:ViaService");
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
