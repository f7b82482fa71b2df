package dev.coffer.s3sim;

import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the REST layer reads from requests: the body (decoding {@code aws-chunked} and verifying
 * Content-MD5 and {@code x-amz-checksum-*}, from headers or trailers, as S3 does), conditions,
 * ranges, tags, metadata, dates and copy sources. Stateless.
 */
final class Requests {
  private static final String META = "x-amz-meta-";
  /** S3's Last-Modified and Date format (RFC 7231's IMF-fixdate). */
  static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);
  /** S3's XML timestamps. */
  static final DateTimeFormatter ISO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Requests() {}

  /**
   * A request body as verified: the decoded bytes and the one checksum sent with them, if any.
   *
   * @param algorithm the algorithm of the {@code x-amz-checksum-*} header or trailer, or null
   * @param checksum its base64 value, verified, or null
   */
  record Body(byte[] content, ChecksumAlgorithm algorithm, String checksum) {}

  /**
   * Decodes and verifies the body. With {@code checksumsDescribeBody} false (CompleteMultipartUpload,
   * whose {@code x-amz-checksum-*} headers describe the whole object) only Content-MD5 is checked.
   *
   * @throws S3Error InvalidDigest or BadDigest (Content-MD5), InvalidRequest or BadDigest
   *     (checksums), IncompleteBody (aws-chunked)
   */
  static Body body(SimRequest request, boolean checksumsDescribeBody) {
    byte[] content = request.body();
    Map<String, String> trailers = Map.of();
    String encoding = request.header("Content-Encoding");
    String sha = request.header("x-amz-content-sha256");
    if ((encoding != null && encoding.toLowerCase(Locale.ROOT).contains("aws-chunked"))
        || (sha != null && sha.startsWith("STREAMING-"))) {
      AwsChunked.Decoded decoded = AwsChunked.decode(content);
      content = decoded.content();
      trailers = decoded.trailers();
      String declared = request.header("x-amz-decoded-content-length");
      if (declared != null && !declared.equals(Integer.toString(content.length))) {
        throw new S3Error(400, "IncompleteBody", "You did not provide the number of bytes "
            + "specified by the x-amz-decoded-content-length HTTP header");
      }
    }
    String md5 = request.header("Content-MD5");
    if (md5 != null) {
      byte[] expected;
      try {
        expected = Base64.getDecoder().decode(md5.strip());
      } catch (IllegalArgumentException e) {
        expected = new byte[0];
      }
      if (expected.length != 16) {
        throw new S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.",
            Map.of("Content-MD5", md5));
      }
      if (!java.util.Arrays.equals(expected, S3Model.md5(content, 0, content.length))) {
        throw S3Error.badDigest("The Content-MD5 you specified did not match what we received.");
      }
    }
    if (!checksumsDescribeBody) {
      return new Body(content, null, null);
    }
    Map<ChecksumAlgorithm, String> sent = checksums(request);
    String declaredTrailer = request.header("x-amz-trailer");
    if (declaredTrailer != null) {
      String name = declaredTrailer.strip().toLowerCase(Locale.ROOT);
      String value = trailers.get(name);
      ChecksumAlgorithm algorithm = name.startsWith("x-amz-checksum-")
          ? ChecksumAlgorithm.named(name.substring("x-amz-checksum-".length())) : null;
      if (algorithm != null && value == null) {
        throw new S3Error(400, "IncompleteBody",
            "The trailing header " + name + " was declared but not sent");
      }
      if (algorithm != null) {
        sent.put(algorithm, value);
      }
    }
    if (sent.size() > 1) {
      throw S3Error.invalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum "
          + "Types are not allowed.");
    }
    String sdkAlgorithm = request.header("x-amz-sdk-checksum-algorithm");
    if (sent.isEmpty()) {
      if (sdkAlgorithm != null) {
        throw S3Error.invalidRequest("x-amz-sdk-checksum-algorithm specified, but no "
            + "corresponding x-amz-checksum-* or x-amz-trailer headers were found.");
      }
      return new Body(content, null, null);
    }
    Map.Entry<ChecksumAlgorithm, String> one = sent.entrySet().iterator().next();
    ChecksumAlgorithm algorithm = one.getKey();
    String value = one.getValue().strip();
    if (!algorithm.isWellFormed(value)) {
      throw S3Error.invalidRequest("Value for " + algorithm.header() + " header is invalid.");
    }
    if (!algorithm.of(content).equals(value)) {
      throw S3Error.badDigest("The " + algorithm.apiName() + " you specified did not match the "
          + "calculated checksum.");
    }
    return new Body(content, algorithm, value);
  }

  /** The {@code x-amz-checksum-<algorithm>} headers sent, by algorithm. */
  static Map<ChecksumAlgorithm, String> checksums(SimRequest request) {
    Map<ChecksumAlgorithm, String> sent = new TreeMap<>();
    for (ChecksumAlgorithm a : ChecksumAlgorithm.values()) {
      String value = request.header(a.header());
      if (value != null) {
        sent.put(a, value.strip());
      }
    }
    return sent;
  }

  /** The algorithm {@code x-amz-checksum-algorithm} names, or null; 400 if it names none known. */
  static ChecksumAlgorithm checksumAlgorithm(SimRequest request) {
    String name = request.header("x-amz-checksum-algorithm");
    if (name == null) {
      return null;
    }
    ChecksumAlgorithm algorithm = ChecksumAlgorithm.named(name.strip());
    if (algorithm == null) {
      throw S3Error.invalidRequest("Checksum algorithm provided is unsupported. Please try again "
          + "with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
    }
    return algorithm;
  }

  /** If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since of a read. */
  static Conditions readConditions(SimRequest request) {
    return new Conditions(request.header("If-Match"), request.header("If-None-Match"),
        date(request.header("If-Modified-Since")), date(request.header("If-Unmodified-Since")));
  }

  /** The {@code x-amz-copy-source-if-*} conditions of a copy. */
  static Conditions copySourceConditions(SimRequest request) {
    return new Conditions(request.header("x-amz-copy-source-if-match"),
        request.header("x-amz-copy-source-if-none-match"),
        date(request.header("x-amz-copy-source-if-modified-since")),
        date(request.header("x-amz-copy-source-if-unmodified-since")));
  }

  /**
   * If-Match and If-None-Match of a write. If-None-Match takes only {@code *} on writes (S3
   * answers any other value 501 NotImplemented).
   */
  static Conditions writeConditions(SimRequest request) {
    String ifNoneMatch = request.header("If-None-Match");
    if (ifNoneMatch != null && !ifNoneMatch.strip().equals("*")) {
      throw S3Error.notImplemented("If-None-Match");
    }
    return new Conditions(request.header("If-Match"), ifNoneMatch, null, null);
  }

  /** An HTTP date, or null if absent or malformed (a malformed date is ignored, as in RFC 7232). */
  static Instant date(String value) {
    if (value == null) {
      return null;
    }
    try {
      return ZonedDateTime.parse(value.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * The byte range a GetObject asks for, as {first, last} inclusive, or null for the whole object
   * (no Range header, or one S3 ignores: not {@code bytes=}, several ranges, last before first).
   *
   * @throws S3Error 416 InvalidRange if the range starts at or after the end (any range of an
   *     empty object, a suffix of 0 bytes)
   */
  static long[] range(String header, long size) {
    if (header == null || !header.strip().startsWith("bytes=")) {
      return null;
    }
    String spec = header.strip().substring("bytes=".length()).strip();
    int dash = spec.indexOf('-');
    if (spec.contains(",") || dash < 0) {
      return null;
    }
    String a = spec.substring(0, dash).strip();
    String b = spec.substring(dash + 1).strip();
    try {
      if (a.isEmpty()) {
        long suffix = Long.parseLong(b);
        if (suffix <= 0 || size == 0) {
          throw invalidRange(header, size);
        }
        return new long[] {Math.max(0, size - suffix), size - 1};
      }
      long first = Long.parseLong(a);
      long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
      if (first < 0 || last < first) {
        return null;
      }
      if (first >= size) {
        throw invalidRange(header, size);
      }
      return new long[] {first, Math.min(last, size - 1)};
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static S3Error invalidRange(String header, long size) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("RangeRequested", header);
    details.put("ActualObjectSize", Long.toString(size));
    return new S3Error(416, "InvalidRange", "The requested range is not satisfiable", details);
  }

  /** {@code x-amz-copy-source-range: bytes=first-last} as {first, last}, or null if absent. */
  static long[] copyRange(SimRequest request) {
    String header = request.header("x-amz-copy-source-range");
    if (header == null) {
      return null;
    }
    String spec = header.strip();
    int dash = spec.indexOf('-');
    try {
      if (!spec.startsWith("bytes=") || dash < 0) {
        throw new NumberFormatException();
      }
      return new long[] {Long.parseLong(spec.substring(6, dash)),
          Long.parseLong(spec.substring(dash + 1))};
    } catch (NumberFormatException e) {
      throw S3Error.invalidArgument("The x-amz-copy-source-range value must be of the form "
          + "bytes=first-last where first and last are the zero-based offsets of the first and "
          + "last bytes to copy", "x-amz-copy-source-range", header);
    }
  }

  /** A copy source: bucket and key. */
  record Source(String bucket, String key) {}

  /** {@code x-amz-copy-source}: {@code [/]bucket/key[?versionId=...]}, the key URL-encoded. */
  static Source copySource(SimRequest request) {
    String header = request.header("x-amz-copy-source");
    String value = header.startsWith("/") ? header.substring(1) : header;
    int query = value.indexOf('?');
    if (query >= 0) {
      value = value.substring(0, query);
    }
    int slash = value.indexOf('/');
    if (slash <= 0 || slash == value.length() - 1) {
      throw S3Error.invalidArgument("Invalid copy source object key", "x-amz-copy-source", header);
    }
    return new Source(percentDecode(value.substring(0, slash)),
        percentDecode(value.substring(slash + 1)));
  }

  /** Percent-decoding, leaving {@code +} as it is (paths and copy sources are not forms). */
  static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    int i = 0;
    while (i < s.length()) {
      int hi = i + 2 < s.length() && s.charAt(i) == '%' ? Character.digit(s.charAt(i + 1), 16) : -1;
      int lo = hi < 0 ? -1 : Character.digit(s.charAt(i + 2), 16);
      if (lo >= 0) {
        out.write(hi << 4 | lo);
        i += 3;
      } else {
        int next = s.indexOf('%', i + 1);
        int end = next < 0 ? s.length() : next;
        out.writeBytes(s.substring(i, end).getBytes(StandardCharsets.UTF_8));
        i = end;
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The user metadata: {@code x-amz-meta-*} headers, names lower case without the prefix. */
  static Map<String, String> metadata(SimRequest request) {
    Map<String, String> metadata = new TreeMap<>();
    request.headers().forEach((name, values) -> {
      if (name.toLowerCase(Locale.ROOT).startsWith(META) && !values.isEmpty()) {
        metadata.put(name.substring(META.length()).toLowerCase(Locale.ROOT), values.get(0));
      }
    });
    return metadata;
  }

  /** The tags of an {@code x-amz-tagging} header (URL query form), validated; empty if none. */
  static Map<String, String> taggingHeader(String header) {
    Map<String, String> tags = new LinkedHashMap<>();
    if (header == null || header.isEmpty()) {
      return tags;
    }
    for (String pair : header.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      addTag(tags, key, value);
    }
    return checkTagCount(tags);
  }

  /** The tags of a Tagging document (PutObjectTagging), validated. */
  static Map<String, String> taggingDocument(byte[] body) {
    Xml.Node root = Xml.parse(body);
    if (!root.name().equals("Tagging")) {
      throw S3Error.malformedXml();
    }
    Map<String, String> tags = new LinkedHashMap<>();
    for (Xml.Node set : root.all("TagSet")) {
      for (Xml.Node tag : set.all("Tag")) {
        String key = tag.text("Key");
        if (key == null) {
          throw S3Error.malformedXml();
        }
        String value = tag.text("Value");
        addTag(tags, key, value == null ? "" : value);
      }
    }
    return checkTagCount(tags);
  }

  /**
   * Adds one tag, checking S3's limits ("Categorizing your storage using tags", S3 User Guide):
   * keys of 1 to 128 Unicode characters, values up to 256, each key once.
   */
  private static void addTag(Map<String, String> tags, String key, String value) {
    if (key.isEmpty()) {
      throw S3Error.invalidTag("The TagKey you have provided is invalid");
    }
    if (key.codePointCount(0, key.length()) > 128) {
      throw S3Error.invalidTag("The TagKey you have provided is too long, max 128");
    }
    if (value.codePointCount(0, value.length()) > 256) {
      throw S3Error.invalidTag("The TagValue you have provided is too long, max 256");
    }
    if (tags.putIfAbsent(key, value) != null) {
      throw S3Error.invalidTag("Cannot provide multiple Tags with the same key");
    }
  }

  /** At most 10 tags per object. */
  private static Map<String, String> checkTagCount(Map<String, String> tags) {
    if (tags.size() > 10) {
      throw new S3Error(400, "BadRequest", "Object tags cannot be greater than 10");
    }
    return tags;
  }

  /** A non-negative integer query parameter, or {@code dflt} if absent; 400 if malformed. */
  static int intParam(SimRequest request, String name, int dflt, int max) {
    String value = request.query(name);
    if (value == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(value);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return Math.min(n, max);
    } catch (NumberFormatException e) {
      throw S3Error.invalidArgument("Provided " + name + " not an integer or within integer range",
          name, value);
    }
  }

  /** Whether the header list holds a value equal to {@code expected}, ignoring case. */
  static boolean headerIs(SimRequest request, String name, String expected) {
    List<String> values = request.headers().get(name);
    return values != null && values.stream().anyMatch(v -> v.strip().equalsIgnoreCase(expected));
  }
}
