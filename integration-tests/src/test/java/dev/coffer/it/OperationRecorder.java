package dev.coffer.it;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;

/**
 * Records the S3 operations an SDK client is asked to perform, by the part of a store's key layout
 * each touches: the scopes of the IAM policies in {@code terraform/modules/coffer-bucket}.
 *
 * <p>Scopes: {@code blobs}, {@code index} and {@code ingest} for a key under {@code P/blobs/},
 * {@code P/index/}, {@code P/ingest/}; {@code list} for a ListObjectsV2 whose prefix lies inside
 * {@code P/} (the policy conditions it on {@code s3:prefix}); {@code bucket} for ListMultipartUploads,
 * which IAM cannot restrict by prefix. A key or listing outside the store goes to
 * {@value #OUTSIDE}, which no policy grants.
 *
 * <p>Names are the SDK's operation names, qualified where the IAM actions a request needs depend on
 * more than its operation: {@code [source]} for the source key of a copy (read, not written) and
 * {@code [tagging]} for a write that sets tags with the object ({@code x-amz-tagging}). Requests
 * are recorded when issued, whatever their outcome: a 404 or 412 answer needs the permission too.
 *
 * <p>Thread-safe.
 */
final class OperationRecorder implements ExecutionInterceptor {
  static final String OUTSIDE = "outside-store";
  static final Set<String> SCOPES = Set.of("list", "bucket", "blobs", "index", "ingest");

  private final String prefix;
  private final Map<String, Map<String, AtomicInteger>> counts = new ConcurrentHashMap<>();

  /** Records against the store whose key prefix is {@code prefix} (ending in {@code /}). */
  OperationRecorder(String prefix) {
    this.prefix = prefix;
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    SdkRequest request = context.request();
    if (request instanceof ListObjectsV2Request list) {
      record(list.prefix() != null && list.prefix().startsWith(prefix) ? "list" : OUTSIDE,
          operation);
    } else if (request instanceof ListMultipartUploadsRequest) {
      record("bucket", operation);
    } else if (request instanceof CopyObjectRequest copy) {
      record(scopeOf(sourceKey(copy.sourceKey(), copy.copySource())), operation + "[source]");
      record(scopeOf(copy.destinationKey()), operation);
    } else if (request instanceof UploadPartCopyRequest copy) {
      record(scopeOf(sourceKey(copy.sourceKey(), copy.copySource())), operation + "[source]");
      record(scopeOf(copy.destinationKey()), operation);
    } else {
      String key = request.getValueForField("Key", String.class).orElse(null);
      record(scopeOf(key), tagged(request) ? operation + "[tagging]" : operation);
    }
  }

  /**
   * The key a copy reads: the SDK has already folded {@code sourceKey} into the URL-encoded
   * {@code bucket/key} of {@code copySource} when interceptors see the request.
   */
  private static String sourceKey(String sourceKey, String copySource) {
    if (sourceKey != null || copySource == null) {
      return sourceKey;
    }
    String path = URLDecoder.decode(copySource, StandardCharsets.UTF_8);
    int query = path.indexOf('?');
    path = query < 0 ? path : path.substring(0, query);
    return path.substring(path.indexOf('/', path.startsWith("/") ? 1 : 0) + 1);
  }

  private static boolean tagged(SdkRequest request) {
    String tagging = request instanceof PutObjectRequest put ? put.tagging()
        : request instanceof CreateMultipartUploadRequest create ? create.tagging() : null;
    return tagging != null && !tagging.isEmpty();
  }

  private String scopeOf(String key) {
    if (key != null && key.startsWith(prefix)) {
      String rest = key.substring(prefix.length());
      for (String scope : new String[] {"blobs", "index", "ingest"}) {
        if (rest.startsWith(scope + "/")) {
          return scope;
        }
      }
    }
    return OUTSIDE;
  }

  private void record(String scope, String operation) {
    counts.computeIfAbsent(scope, s -> new ConcurrentHashMap<>())
        .computeIfAbsent(operation, o -> new AtomicInteger()).incrementAndGet();
  }

  /** How many requests of each {@code scope → operation} were issued so far. */
  Map<String, Map<String, Integer>> counts() {
    Map<String, Map<String, Integer>> copy = new TreeMap<>();
    counts.forEach((scope, ops) -> {
      Map<String, Integer> byOperation = new TreeMap<>();
      ops.forEach((op, n) -> byOperation.put(op, n.get()));
      copy.put(scope, byOperation);
    });
    return copy;
  }

  /** The operations issued so far, {@code scope → sorted names}, with every scope present. */
  Map<String, Set<String>> operations() {
    Map<String, Set<String>> byScope = new TreeMap<>();
    SCOPES.forEach(scope -> byScope.put(scope, new TreeSet<>()));
    counts().forEach((scope, ops) ->
        byScope.computeIfAbsent(scope, s -> new TreeSet<>()).addAll(ops.keySet()));
    return byScope;
  }
}
