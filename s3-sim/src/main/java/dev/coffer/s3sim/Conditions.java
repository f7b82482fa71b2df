package dev.coffer.s3sim;

import java.time.Instant;

/**
 * The preconditions of a request, evaluated against an object (or its absence) as S3 does.
 * Read conditions follow RFC 7232's precedence, which S3's GetObject and HeadObject documentation
 * restates: If-Match, else If-Unmodified-Since (412); If-None-Match, else If-Modified-Since (304).
 * Write conditions (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject): If-None-Match
 * {@code *} fails with 412 when the key holds an object; If-Match fails with 412 on another ETag
 * and with 404 NoSuchKey when the key holds none ("How to prevent object overwrites with
 * conditional writes" and "How to perform conditional deletes", S3 User Guide).
 *
 * @param ifMatch an ETag (quoted or not) or {@code *}, or null
 * @param ifNoneMatch an ETag or {@code *}, or null
 * @param ifModifiedSince or null
 * @param ifUnmodifiedSince or null
 */
record Conditions(String ifMatch, String ifNoneMatch, Instant ifModifiedSince,
    Instant ifUnmodifiedSince) {

  static final Conditions NONE = new Conditions(null, null, null, null);

  boolean isEmpty() {
    return ifMatch == null && ifNoneMatch == null && ifModifiedSince == null
        && ifUnmodifiedSince == null;
  }

  /** Evaluates read conditions on an existing object: 412 or 304 when one fails. */
  void checkRead(Storage.StoredObject object) {
    if (ifMatch != null) {
      if (!matches(ifMatch, object.etag())) {
        throw S3Error.preconditionFailed("If-Match");
      }
    } else if (ifUnmodifiedSince != null && object.lastModified().isAfter(ifUnmodifiedSince)) {
      throw S3Error.preconditionFailed("If-Unmodified-Since");
    }
    if (ifNoneMatch != null) {
      if (matches(ifNoneMatch, object.etag())) {
        throw S3Error.notModified();
      }
    } else if (ifModifiedSince != null && !object.lastModified().isAfter(ifModifiedSince)) {
      throw S3Error.notModified();
    }
  }

  /**
   * Evaluates the conditions of a copy's source ({@code x-amz-copy-source-if-*}): every failure
   * is 412, as CopyObject's documentation says.
   */
  void checkCopySource(Storage.StoredObject source) {
    try {
      checkRead(source);
    } catch (S3Error e) {
      if (e.status == 304) {
        throw S3Error.preconditionFailed("x-amz-copy-source-If-None-Match");
      }
      throw e;
    }
  }

  /** Evaluates write conditions against the object at the key, or null for none. */
  void checkWrite(Storage.StoredObject existing, String key) {
    if (ifNoneMatch != null && existing != null) {
      throw S3Error.preconditionFailed("If-None-Match");
    }
    if (ifMatch != null) {
      if (existing == null) {
        throw S3Error.noSuchKey(key);
      }
      if (!matches(ifMatch, existing.etag())) {
        throw S3Error.preconditionFailed("If-Match");
      }
    }
  }

  /** Whether an If-Match or If-None-Match value names {@code etag} (or is {@code *}). */
  static boolean matches(String condition, String etag) {
    for (String one : condition.split(",")) {
      String c = one.strip();
      if (c.equals("*") || unquote(c).equals(unquote(etag))) {
        return true;
      }
    }
    return false;
  }

  static String unquote(String etag) {
    String e = etag.startsWith("W/") ? etag.substring(2) : etag;
    return e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")
        ? e.substring(1, e.length() - 1) : e;
  }
}
