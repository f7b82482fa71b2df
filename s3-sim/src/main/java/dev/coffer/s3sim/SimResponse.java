package dev.coffer.s3sim;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One HTTP response of the simulated S3: status, headers and the whole body. A transport sends it
 * as it is (the server has set {@code Content-Length}; a HEAD response carries the object's length
 * and no body).
 *
 * <p>Immutable, apart from the body array, which nothing may modify once the response is built.
 *
 * @param status the HTTP status code
 * @param headers the headers, in a map ordered without regard to case
 * @param body the body
 */
public record SimResponse(int status, Map<String, List<String>> headers, byte[] body) {

  /** Copies the headers into an immutable map ordered without regard to case. */
  public SimResponse {
    TreeMap<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    Objects.requireNonNull(headers, "headers").forEach((k, v) -> h.put(k, List.copyOf(v)));
    headers = Collections.unmodifiableMap(h);
    body = body == null ? new byte[0] : body;
  }

  /** The first value of a header, or null. */
  public String header(String name) {
    List<String> values = headers.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** The body as UTF-8 text (an error document, a listing). */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "HTTP " + status + " (" + body.length + " bytes)";
  }
}
