package dev.coffer.s3sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One HTTP request to the simulated S3, transport-agnostic: the method, the path and query already
 * percent-decoded, the headers (names compared without regard to case) and the whole body.
 *
 * <p>Path-style addressing: {@code /} lists buckets, {@code /bucket} addresses a bucket and
 * {@code /bucket/key} an object (the key may contain {@code /}).
 *
 * <p>Immutable, apart from the body array, which nothing may modify once the request is built.
 *
 * @param method the HTTP method, upper case
 * @param path the decoded path, starting with {@code /}
 * @param query the decoded query parameters; a parameter without a value maps to {@code [""]}
 * @param headers the headers, in a map ordered without regard to case
 * @param body the body as sent (an {@code aws-chunked} body is decoded by the server)
 */
public record SimRequest(String method, String path, Map<String, List<String>> query,
    Map<String, List<String>> headers, byte[] body) {

  /** Copies the maps into immutable ones, the headers ordered without regard to case. */
  public SimRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path \"" + path + "\" does not start with /");
    }
    query = Collections.unmodifiableMap(new TreeMap<>(copy(query)));
    TreeMap<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    h.putAll(copy(headers));
    headers = Collections.unmodifiableMap(h);
    body = body == null ? new byte[0] : body;
  }

  private static Map<String, List<String>> copy(Map<String, List<String>> map) {
    Map<String, List<String>> copy = new TreeMap<>();
    if (map != null) {
      // A parameter or header without a value (null, as the SDK holds "?uploads") becomes "".
      map.forEach((k, v) -> copy.put(k, v == null ? List.of()
          : v.stream().map(x -> x == null ? "" : x).toList()));
    }
    return copy;
  }

  /** The first value of a header, or null. */
  public String header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** The first value of a query parameter ({@code ""} for one without a value), or null. */
  public String query(String name) {
    List<String> values = query.get(name);
    return values == null ? null : values.isEmpty() ? "" : values.get(0);
  }

  /** The bucket the path names, or null for {@code /}. */
  public String bucket() {
    String rest = path.substring(1);
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    return bucket.isEmpty() ? null : bucket;
  }

  /** The object key the path names, or null if it names a bucket or nothing. */
  public String key() {
    String rest = path.substring(1);
    int slash = rest.indexOf('/');
    return slash < 0 || slash == rest.length() - 1 ? null : rest.substring(slash + 1);
  }

  /** A request builder, for tests and transports. */
  public static Builder builder(String method, String path) {
    return new Builder(method, path);
  }

  @Override
  public String toString() {
    return method + " " + path + (query.isEmpty() ? "" : "?" + query.keySet()) + " ("
        + body.length + " bytes)";
  }

  /** Collects a request. Not thread-safe. */
  public static final class Builder {
    private final String method;
    private final String path;
    private final Map<String, List<String>> query = new TreeMap<>();
    private final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private byte[] body;

    private Builder(String method, String path) {
      this.method = method;
      this.path = path;
    }

    /** Adds a query parameter value. */
    public Builder query(String name, String value) {
      query.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      return this;
    }

    /** Adds a header value. */
    public Builder header(String name, String value) {
      headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      return this;
    }

    /** The body. */
    public Builder body(byte[] body) {
      this.body = body;
      return this;
    }

    /** The request. */
    public SimRequest build() {
      return new SimRequest(method, path, query, headers, body);
    }
  }
}
