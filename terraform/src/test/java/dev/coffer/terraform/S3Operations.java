package dev.coffer.terraform;

import static java.util.Map.entry;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The S3 operations the store was seen to perform in each role, as the integration tests record
 * them ({@code S3OperationsByRoleIT} in the integration-tests module), and the IAM actions they
 * need.
 */
final class S3Operations {

  /**
   * The recording, {@code {role → {scope → operation names}}}, written by the integration tests of
   * the same reactor build (the root pom lists integration-tests before terraform).
   */
  static final Path RECORDING =
      Layout.ROOT.getParent().resolve("integration-tests/target/s3-operations-by-role.json");

  /**
   * The IAM actions each recorded operation needs on the key or bucket it is recorded under. A
   * {@code [source]} entry is the key a copy reads; {@code [tagging]} a write that sets tags with
   * the object (x-amz-tagging). README.md carries the same table.
   */
  static final Map<String, Set<String>> IAM_ACTIONS = Map.ofEntries(
      entry("GetObject", Set.of("s3:GetObject")),
      entry("HeadObject", Set.of("s3:GetObject")),
      entry("PutObject", Set.of("s3:PutObject")),
      entry("PutObject[tagging]", Set.of("s3:PutObject", "s3:PutObjectTagging")),
      entry("CreateMultipartUpload", Set.of("s3:PutObject")),
      entry("UploadPart", Set.of("s3:PutObject")),
      entry("CompleteMultipartUpload", Set.of("s3:PutObject")),
      entry("CopyObject", Set.of("s3:PutObject")),
      entry("CopyObject[source]", Set.of("s3:GetObject")),
      entry("UploadPartCopy", Set.of("s3:PutObject")),
      entry("UploadPartCopy[source]", Set.of("s3:GetObject")),
      entry("AbortMultipartUpload", Set.of("s3:AbortMultipartUpload")),
      entry("ListParts", Set.of("s3:ListMultipartUploadParts")),
      entry("ListMultipartUploads", Set.of("s3:ListBucketMultipartUploads")),
      entry("ListObjectsV2", Set.of("s3:ListBucket")),
      entry("DeleteObject", Set.of("s3:DeleteObject")),
      entry("GetObjectTagging", Set.of("s3:GetObjectTagging")),
      entry("PutObjectTagging", Set.of("s3:PutObjectTagging")));

  private static final Pattern QUOTED = Pattern.compile("`([^`]+)`");

  private S3Operations() {}

  /** The recorded operations, {@code {role → {scope → operations}}}. */
  static Map<String, Map<String, Set<String>>> recorded() throws IOException {
    if (!Files.isRegularFile(RECORDING)) {
      throw new AssertionError("No recording of the S3 operations each role performs at "
          + RECORDING + ". Run the integration tests first, in the same build: mvn -B -pl "
          + "integration-tests,terraform -am verify (S3OperationsByRoleIT writes it).");
    }
    return new ObjectMapper().readValue(RECORDING.toFile(),
        new TypeReference<Map<String, Map<String, Set<String>>>>() {});
  }

  /** The IAM actions of the recorded operations, {@code {role → {scope → actions}}}. */
  static Map<String, Map<String, Set<String>>> recordedActions() throws IOException {
    Map<String, Map<String, Set<String>>> byRole = new TreeMap<>();
    recorded().forEach((role, byScope) -> byScope.forEach((scope, operations) -> {
      Set<String> actions = byRole.computeIfAbsent(role, r -> new TreeMap<>())
          .computeIfAbsent(scope, s -> new TreeSet<>());
      for (String operation : operations) {
        Set<String> needed = IAM_ACTIONS.get(operation);
        if (needed == null) {
          throw new AssertionError("S3 operation " + operation + " (role " + role + ", scope "
              + scope + ") has no IAM actions in S3Operations.IAM_ACTIONS; add it there and to "
              + "the table in README.md");
        }
        actions.addAll(needed);
      }
    }));
    return byRole;
  }

  /** Operations named in {@code cell}: every backquoted word. */
  static List<String> quoted(String cell) {
    return QUOTED.matcher(cell).results()
        .map(m -> m.group(1)).toList();
  }
}
