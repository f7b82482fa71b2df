package dev.coffer.s3sim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Decodes an {@code aws-chunked} body (the SDK's streaming uploads: signed chunks, or unsigned ones
 * with trailing checksums): {@code <hex size>[;chunk-signature=...]\r\n<bytes>\r\n} until a chunk of
 * size 0, then trailer lines {@code name:value\r\n} and an empty line. Signatures are not checked.
 */
final class AwsChunked {

  /** The decoded bytes and the trailers, by lower-case name. */
  record Decoded(byte[] content, Map<String, String> trailers) {}

  private AwsChunked() {}

  /**
   * Decodes {@code body}.
   *
   * @throws S3Error IncompleteBody if it is cut short or malformed
   */
  static Decoded decode(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length);
    int at = 0;
    while (true) {
      int eol = lineEnd(body, at);
      String header = new String(body, at, eol - at, StandardCharsets.US_ASCII);
      int semicolon = header.indexOf(';');
      String hex = (semicolon < 0 ? header : header.substring(0, semicolon)).trim();
      int size;
      try {
        size = Integer.parseInt(hex, 16);
      } catch (NumberFormatException e) {
        throw malformed("chunk size \"" + hex + "\"");
      }
      at = eol + 2;
      if (size == 0) {
        break;
      }
      if (size < 0 || at + size + 2 > body.length) {
        throw malformed("a chunk of " + size + " bytes runs past the body");
      }
      out.write(body, at, size);
      at += size;
      if (body[at] != '\r' || body[at + 1] != '\n') {
        throw malformed("no CRLF after a chunk");
      }
      at += 2;
    }
    Map<String, String> trailers = new TreeMap<>();
    while (at < body.length) {
      int eol = lineEnd(body, at);
      String line = new String(body, at, eol - at, StandardCharsets.UTF_8);
      at = eol + 2;
      if (line.isEmpty()) {
        break;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw malformed("trailer \"" + line + "\"");
      }
      trailers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
    return new Decoded(out.toByteArray(), trailers);
  }

  private static int lineEnd(byte[] body, int from) {
    for (int i = from; i + 1 < body.length; i++) {
      if (body[i] == '\r' && body[i + 1] == '\n') {
        return i;
      }
    }
    throw malformed("a line without CRLF");
  }

  private static S3Error malformed(String what) {
    return new S3Error(400, "IncompleteBody",
        "The request body is not a valid aws-chunked body: " + what);
  }
}
