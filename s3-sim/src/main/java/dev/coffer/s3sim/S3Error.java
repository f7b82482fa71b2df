package dev.coffer.s3sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error answer of the simulated S3: the HTTP status, S3's error code and message, and the
 * extra elements S3 puts in its error document (Key, BucketName, UploadId, ...). Codes and messages
 * follow S3's error responses reference. Thrown by the model, rendered by the REST layer.
 */
final class S3Error extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int status;
  final String code;
  final transient Map<String, String> details;

  S3Error(int status, String code, String message) {
    this(status, code, message, Map.of());
  }

  S3Error(int status, String code, String message, Map<String, String> details) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.details = new LinkedHashMap<>(details);
  }

  static S3Error noSuchBucket(String bucket) {
    return new S3Error(404, "NoSuchBucket", "The specified bucket does not exist",
        Map.of("BucketName", bucket));
  }

  static S3Error noSuchKey(String key) {
    return new S3Error(404, "NoSuchKey", "The specified key does not exist.", Map.of("Key", key));
  }

  static S3Error noSuchUpload(String uploadId) {
    return new S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID "
        + "may be invalid, or the upload may have been aborted or completed.",
        Map.of("UploadId", uploadId));
  }

  static S3Error preconditionFailed(String condition) {
    return new S3Error(412, "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        Map.of("Condition", condition));
  }

  /** 304 Not Modified: sent without a body. */
  static S3Error notModified() {
    return new S3Error(304, "NotModified", "Not Modified");
  }

  static S3Error invalidRequest(String message) {
    return new S3Error(400, "InvalidRequest", message);
  }

  static S3Error invalidArgument(String message, String name, String value) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("ArgumentName", name);
    details.put("ArgumentValue", value == null ? "" : value);
    return new S3Error(400, "InvalidArgument", message, details);
  }

  static S3Error badDigest(String message) {
    return new S3Error(400, "BadDigest", message);
  }

  static S3Error malformedXml() {
    return new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not "
        + "validate against our published schema");
  }

  static S3Error notImplemented(String header) {
    return new S3Error(501, "NotImplemented",
        "A header you provided implies functionality that is not implemented",
        header == null ? Map.of() : Map.of("Header", header));
  }

  static S3Error invalidTag(String message) {
    return new S3Error(400, "InvalidTag", message);
  }

  @Override
  public String toString() {
    return status + " " + code + ": " + getMessage();
  }
}
