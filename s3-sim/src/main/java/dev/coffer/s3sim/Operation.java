package dev.coffer.s3sim;

/**
 * The S3 operations the simulation knows, named as S3's API names them, and how a request is
 * recognised as one (path-style addressing; see {@link SimRequest}).
 */
public enum Operation {
  LIST_BUCKETS("ListBuckets"),
  CREATE_BUCKET("CreateBucket"),
  HEAD_BUCKET("HeadBucket"),
  DELETE_BUCKET("DeleteBucket"),
  LIST_OBJECTS_V2("ListObjectsV2"),
  PUT_OBJECT("PutObject"),
  COPY_OBJECT("CopyObject"),
  GET_OBJECT("GetObject"),
  HEAD_OBJECT("HeadObject"),
  DELETE_OBJECT("DeleteObject"),
  GET_OBJECT_TAGGING("GetObjectTagging"),
  PUT_OBJECT_TAGGING("PutObjectTagging"),
  DELETE_OBJECT_TAGGING("DeleteObjectTagging"),
  CREATE_MULTIPART_UPLOAD("CreateMultipartUpload"),
  UPLOAD_PART("UploadPart"),
  UPLOAD_PART_COPY("UploadPartCopy"),
  COMPLETE_MULTIPART_UPLOAD("CompleteMultipartUpload"),
  ABORT_MULTIPART_UPLOAD("AbortMultipartUpload"),
  LIST_PARTS("ListParts"),
  LIST_MULTIPART_UPLOADS("ListMultipartUploads"),
  /** Anything else; the server answers 501 NotImplemented. */
  UNSUPPORTED("Unsupported");

  private final String apiName;

  Operation(String apiName) {
    this.apiName = apiName;
  }

  /** The operation's name in S3's API, such as {@code PutObject}. */
  public String apiName() {
    return apiName;
  }

  @Override
  public String toString() {
    return apiName;
  }

  /**
   * Whether {@code request} (of this operation) is a conditional write: a PutObject, CopyObject or
   * CompleteMultipartUpload with If-Match or If-None-Match, or a DeleteObject with If-Match. S3 may
   * answer these 409 ConditionalRequestConflict.
   */
  public boolean isConditionalWrite(SimRequest request) {
    return switch (this) {
      case PUT_OBJECT, COPY_OBJECT, COMPLETE_MULTIPART_UPLOAD ->
          request.header("If-Match") != null || request.header("If-None-Match") != null;
      case DELETE_OBJECT -> request.header("If-Match") != null;
      default -> false;
    };
  }

  /** The operation a request asks for. */
  public static Operation of(SimRequest request) {
    String bucket = request.bucket();
    String key = request.key();
    String method = request.method();
    if (bucket == null) {
      return method.equals("GET") ? LIST_BUCKETS : UNSUPPORTED;
    }
    if (key == null) {
      return switch (method) {
        case "PUT" -> request.query().isEmpty() ? CREATE_BUCKET : UNSUPPORTED;
        case "HEAD" -> HEAD_BUCKET;
        case "DELETE" -> request.query().isEmpty() ? DELETE_BUCKET : UNSUPPORTED;
        case "GET" -> request.query("uploads") != null ? LIST_MULTIPART_UPLOADS
            : "2".equals(request.query("list-type")) ? LIST_OBJECTS_V2 : UNSUPPORTED;
        default -> UNSUPPORTED;
      };
    }
    boolean tagging = request.query("tagging") != null;
    boolean upload = request.query("uploadId") != null;
    return switch (method) {
      case "PUT" -> {
        if (tagging) {
          yield PUT_OBJECT_TAGGING;
        }
        boolean copy = request.header("x-amz-copy-source") != null;
        if (upload || request.query("partNumber") != null) {
          yield copy ? UPLOAD_PART_COPY : UPLOAD_PART;
        }
        yield copy ? COPY_OBJECT : PUT_OBJECT;
      }
      case "GET" -> tagging ? GET_OBJECT_TAGGING : upload ? LIST_PARTS : GET_OBJECT;
      case "HEAD" -> HEAD_OBJECT;
      case "DELETE" -> tagging ? DELETE_OBJECT_TAGGING : upload ? ABORT_MULTIPART_UPLOAD
          : DELETE_OBJECT;
      case "POST" -> request.query("uploads") != null ? CREATE_MULTIPART_UPLOAD
          : upload ? COMPLETE_MULTIPART_UPLOAD : UNSUPPORTED;
      default -> UNSUPPORTED;
    };
  }
}
