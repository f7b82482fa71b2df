package dev.coffer.s3sim;

import java.io.ByteArrayInputStream;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.HttpStatusFamily;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpResponse;

/** Converts between the SDK's HTTP types and the simulation's. Stateless. */
final class Transport {
  /** The endpoint host; {@code <bucket>.s3.sim} is virtual-hosted addressing. */
  static final String HOST = "s3.sim";

  private Transport() {}

  /** The simulation's request for the SDK's, with its body as sent. */
  static SimRequest request(SdkHttpRequest http, byte[] body) {
    String path = http.encodedPath() == null || http.encodedPath().isEmpty() ? "/"
        : http.encodedPath();
    String host = http.host();
    if (host != null && host.endsWith("." + HOST)) {
      // Virtual-hosted style: the bucket is in the host name.
      path = "/" + host.substring(0, host.length() - HOST.length() - 1)
          + (path.equals("/") ? "" : path);
    }
    return new SimRequest(http.method().name(), Requests.percentDecode(path),
        http.rawQueryParameters(), http.headers(), body);
  }

  /** The SDK's response head for the simulation's response. */
  static SdkHttpResponse response(SimResponse response) {
    return SdkHttpResponse.builder()
        .statusCode(response.status())
        .statusText(reason(response.status()))
        .headers(response.headers())
        .build();
  }

  /** The body stream of a response. */
  static AbortableInputStream body(SimResponse response) {
    return AbortableInputStream.create(new ByteArrayInputStream(response.body()));
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 204 -> "No Content";
      case 206 -> "Partial Content";
      case 304 -> "Not Modified";
      case 400 -> "Bad Request";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 409 -> "Conflict";
      case 412 -> "Precondition Failed";
      case 416 -> "Requested Range Not Satisfiable";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 503 -> "Slow Down";
      default -> HttpStatusFamily.of(status).name();
    };
  }
}
