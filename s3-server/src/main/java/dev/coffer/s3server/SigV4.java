package dev.coffer.s3server;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies AWS Signature Version 4 in the {@code Authorization} header as S3 does: the canonical
 * request is rebuilt from what arrived (the path and query decoded and encoded again the canonical
 * way, the signed headers' values trimmed), signed with the secret under the request's credential
 * scope, and compared in constant time. The request time must be within 15 minutes of the server's,
 * every {@code x-amz-*} header must be signed, and a hex {@code x-amz-content-sha256} is checked
 * against the body once read ({@link #checkPayload}). Presigned URLs are refused. Chunk signatures
 * of {@code aws-chunked} bodies are not checked: the seed signature authenticates the request.
 *
 * <p>The SDK's signers sign; they do not verify, and re-signing through one would recompute the
 * payload hash and headers of its own choosing. This class follows AWS's published algorithm, and
 * its tests send requests signed by the SDK, the AWS CLI and rclone.
 */
final class SigV4 {
  static final Duration MAX_SKEW = Duration.ofMinutes(15);
  static final String ALGORITHM = "AWS4-HMAC-SHA256";
  private static final Pattern AUTHORIZATION = Pattern.compile(
      "AWS4-HMAC-SHA256\\s+Credential=([^,\\s]+)\\s*,\\s*SignedHeaders=([^,\\s]+)\\s*,"
          + "\\s*Signature=([0-9a-f]{64})\\s*");
  private static final Pattern HEX_SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final DateTimeFormatter AMZ_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT);

  /** Why a request was refused: S3's status, error code and message. */
  record Failure(int status, String code, String message) {}

  private SigV4() {}

  /**
   * Null if the request is signed with {@code credentials}, else why not.
   *
   * @param headers the request's headers, names in any case
   * @param rawPath the path as sent, percent-encoded
   * @param rawQuery the query as sent, or null
   */
  static Failure verify(String method, String rawPath, String rawQuery,
      Map<String, List<String>> headers, Credentials credentials, Instant now) {
    String authorization = first(headers, "authorization");
    List<String[]> query;
    try {
      query = parseQuery(rawQuery);
    } catch (IllegalArgumentException e) {
      return new Failure(400, "InvalidArgument", "Malformed query: " + e.getMessage());
    }
    if (authorization == null) {
      boolean presigned = query.stream().anyMatch(p -> p[0].equalsIgnoreCase("X-Amz-Signature")
          || p[0].equalsIgnoreCase("Signature"));
      return new Failure(403, "AccessDenied", presigned
          ? "Presigned URLs are not accepted by this server; sign the Authorization header"
          : "Anonymous requests are not accepted; sign requests with this installation's"
              + " credentials");
    }
    Matcher m = AUTHORIZATION.matcher(authorization);
    if (!m.matches()) {
      return new Failure(403, "AccessDenied", "Only " + ALGORITHM
          + " in the Authorization header is accepted");
    }
    String[] scope = m.group(1).split("/", -1);
    if (scope.length != 5 || !scope[3].equals("s3") || !scope[4].equals("aws4_request")) {
      return new Failure(403, "AuthorizationHeaderMalformed",
          "The credential scope is not <id>/<date>/<region>/s3/aws4_request");
    }
    if (!MessageDigest.isEqual(scope[0].getBytes(StandardCharsets.UTF_8),
        credentials.accessKeyId().getBytes(StandardCharsets.UTF_8))) {
      return new Failure(403, "InvalidAccessKeyId",
          "The AWS Access Key Id you provided does not exist in our records.");
    }
    String amzDate = first(headers, "x-amz-date");
    Instant signedAt;
    try {
      signedAt = LocalDateTime.parse(amzDate == null ? "" : amzDate, AMZ_DATE)
          .toInstant(ZoneOffset.UTC);
    } catch (DateTimeParseException e) {
      return new Failure(403, "AccessDenied", "A valid x-amz-date header is required");
    }
    if (!amzDate.startsWith(scope[1] + "T")) {
      return new Failure(403, "AuthorizationHeaderMalformed",
          "The credential scope's date is not the x-amz-date's");
    }
    if (Duration.between(signedAt, now).abs().compareTo(MAX_SKEW) > 0) {
      return new Failure(403, "RequestTimeTooSkewed",
          "The difference between the request time and the server's time is too large.");
    }
    String payloadHash = first(headers, "x-amz-content-sha256");
    if (payloadHash == null) {
      return new Failure(400, "InvalidRequest",
          "Missing required header for this request: x-amz-content-sha256");
    }
    List<String> signedHeaders = Arrays.asList(m.group(2).split(";"));
    if (!signedHeaders.contains("host")) {
      return new Failure(403, "AccessDenied", "The host header must be signed");
    }
    for (String name : headers.keySet()) {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.startsWith("x-amz-") && !signedHeaders.contains(lower)) {
        return new Failure(403, "AccessDenied", "Header " + lower + " is not signed");
      }
    }
    StringBuilder canonical = new StringBuilder();
    try {
      canonical.append(method).append('\n')
          .append(encode(decode(rawPath), true)).append('\n')
          .append(canonicalQuery(query)).append('\n');
    } catch (IllegalArgumentException e) {
      return new Failure(400, "InvalidURI", "Couldn't parse the specified URI.");
    }
    for (String name : signedHeaders) {
      List<String> values = values(headers, name);
      if (values == null) {
        return new Failure(403, "AccessDenied", "Signed header " + name + " is missing");
      }
      canonical.append(name).append(':').append(String.join(",",
          values.stream().map(v -> v.trim().replaceAll(" +", " ")).toList())).append('\n');
    }
    canonical.append('\n').append(m.group(2)).append('\n').append(payloadHash);
    String stringToSign = ALGORITHM + "\n" + amzDate + "\n" + String.join("/",
        Arrays.asList(scope).subList(1, 5)) + "\n" + hex(sha256(
        canonical.toString().getBytes(StandardCharsets.UTF_8)));
    byte[] key = hmac(("AWS4" + credentials.secretAccessKey()).getBytes(StandardCharsets.UTF_8),
        scope[1]);
    key = hmac(key, scope[2]);
    key = hmac(key, scope[3]);
    key = hmac(key, scope[4]);
    byte[] expected = HexFormat.of().formatHex(hmac(key, stringToSign))
        .getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, m.group(3).getBytes(StandardCharsets.US_ASCII))) {
      return new Failure(403, "SignatureDoesNotMatch", "The request signature we calculated"
          + " does not match the signature you provided. Check your key and signing method.");
    }
    return null;
  }

  /** Null if the body agrees with a hex {@code x-amz-content-sha256} (or the header is a mode). */
  static Failure checkPayload(String payloadHash, byte[] body) {
    if (payloadHash != null && HEX_SHA256.matcher(payloadHash).matches()
        && !MessageDigest.isEqual(hex(sha256(body)).getBytes(StandardCharsets.US_ASCII),
            payloadHash.getBytes(StandardCharsets.US_ASCII))) {
      return new Failure(400, "XAmzContentSHA256Mismatch",
          "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    return null;
  }

  /** The query's parameters, decoded, in order; a parameter without {@code =} has value "". */
  static List<String[]> parseQuery(String rawQuery) {
    List<String[]> params = new ArrayList<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return params;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      params.add(eq < 0 ? new String[] {decode(pair), ""}
          : new String[] {decode(pair.substring(0, eq)), decode(pair.substring(eq + 1))});
    }
    return params;
  }

  private static String canonicalQuery(List<String[]> query) {
    return String.join("&", query.stream()
        .map(p -> new String[] {encode(p[0], false), encode(p[1], false)})
        .sorted(Comparator.<String[], String>comparing(p -> p[0]).thenComparing(p -> p[1]))
        .map(p -> p[0] + "=" + p[1]).toList());
  }

  /**
   * Percent-decodes {@code raw} as UTF-8 ({@code +} stays {@code +}).
   *
   * @throws IllegalArgumentException if an escape is malformed
   */
  static String decode(String raw) {
    if (raw.indexOf('%') < 0) {
      return raw;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
    byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '%') {
        if (i + 2 >= bytes.length) {
          throw new IllegalArgumentException("truncated escape in \"" + raw + "\"");
        }
        int hi = Character.digit(bytes[i + 1], 16);
        int lo = Character.digit(bytes[i + 2], 16);
        if (hi < 0 || lo < 0) {
          throw new IllegalArgumentException("bad escape in \"" + raw + "\"");
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else {
        out.write(bytes[i]);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** SigV4's URI encoding: every byte but unreserved characters (and {@code /} if kept) escaped. */
  static String encode(String s, boolean keepSlash) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/')) {
        out.append(c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out.toString();
  }

  private static String first(Map<String, List<String>> headers, String name) {
    List<String> values = values(headers, name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static List<String> values(Map<String, List<String>> headers, String name) {
    for (Map.Entry<String, List<String>> e : headers.entrySet()) {
      if (e.getKey().equalsIgnoreCase(name)) {
        return e.getValue();
      }
    }
    return null;
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (GeneralSecurityException e) {
      throw new AssertionError("every JDK has SHA-256", e);
    }
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new AssertionError("every JDK has HmacSHA256", e);
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
