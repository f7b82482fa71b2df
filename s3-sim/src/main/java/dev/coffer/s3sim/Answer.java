package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.StoredChecksum;
import dev.coffer.s3sim.Storage.StoredObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Builds one response of the REST layer. Not thread-safe. */
final class Answer {
  private final int status;
  private final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
  private byte[] body = new byte[0];
  /** For HEAD: the length a GET would have sent. */
  private long declaredLength = -1;

  private Answer(int status) {
    this.status = status;
  }

  static Answer status(int status) {
    return new Answer(status);
  }

  Answer header(String name, Object value) {
    if (value != null) {
      headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value.toString());
    }
    return this;
  }

  Answer date(String name, Instant instant) {
    return header(name, Requests.HTTP_DATE.format(instant));
  }

  Answer xml(byte[] document) {
    header("Content-Type", "application/xml");
    this.body = document;
    return this;
  }

  Answer body(byte[] bytes) {
    this.body = bytes;
    return this;
  }

  /** A HEAD answer: no body, and the Content-Length of the GET. */
  Answer headOf(long length) {
    this.body = new byte[0];
    this.declaredLength = length;
    return this;
  }

  /** The headers that describe an object: ETag, Last-Modified, type, metadata, tag count. */
  Answer describing(StoredObject object) {
    header("ETag", object.etag());
    date("Last-Modified", object.lastModified());
    header("Content-Type", object.contentType() == null ? "binary/octet-stream"
        : object.contentType());
    header("Accept-Ranges", "bytes");
    object.metadata().forEach((k, v) -> header("x-amz-meta-" + k, v));
    if (!object.tags().isEmpty()) {
      header("x-amz-tagging-count", object.tags().size());
    }
    return this;
  }

  /** The checksum header and its type, if there is a checksum. */
  Answer checksum(StoredChecksum checksum) {
    if (checksum != null) {
      header(ChecksumAlgorithm.named(checksum.algorithm()).header(), checksum.value());
      header("x-amz-checksum-type", checksum.type());
    }
    return this;
  }

  SimResponse build(String requestId, Instant now) {
    header("x-amz-request-id", requestId);
    header("x-amz-id-2", requestId);
    date("Date", now);
    header("Server", "AmazonS3");
    header("Content-Length", declaredLength >= 0 ? declaredLength : body.length);
    return new SimResponse(status, headers, body);
  }

  /** Adds an object's checksum to a result document, as {@code Checksum<ALG>} and ChecksumType. */
  static void checksumElements(Xml.Writer xml, StoredChecksum checksum) {
    if (checksum != null) {
      xml.element(ChecksumAlgorithm.named(checksum.algorithm()).element(), checksum.value());
      xml.element("ChecksumType", checksum.type());
    }
  }
}
