package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.StoredChecksum;
import dev.coffer.s3sim.Storage.StoredObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * The REST layer of buckets and objects: reads a request, calls the {@link S3Model}, and answers
 * with S3's status, headers and XML. Stateless apart from the model; thread-safe.
 */
final class ObjectRoutes {
  private static final int MAX_KEYS = 1000;

  private final S3Model model;

  ObjectRoutes(S3Model model) {
    this.model = model;
  }

  Answer listBuckets() {
    Xml.Writer xml = new Xml.Writer("ListAllMyBucketsResult", true);
    xml.start("Owner").element("ID", "coffer-sim").element("DisplayName", "coffer-sim").end();
    xml.start("Buckets");
    model.buckets().forEach((name, created) -> xml.start("Bucket").element("Name", name)
        .element("CreationDate", Requests.ISO.format(created)).end());
    xml.end();
    return Answer.status(200).xml(xml.bytes());
  }

  Answer createBucket(SimRequest r) {
    model.createBucket(r.bucket());
    return Answer.status(200).header("Location", "/" + r.bucket());
  }

  Answer headBucket(SimRequest r) {
    model.headBucket(r.bucket());
    return Answer.status(200).header("x-amz-bucket-region", "us-east-1");
  }

  Answer deleteBucket(SimRequest r) {
    model.deleteBucket(r.bucket());
    return Answer.status(204);
  }

  Answer putObject(SimRequest r) {
    Requests.Body body = Requests.body(r, true);
    Map<String, String> tags = tags(r.header("x-amz-tagging"));
    Conditions conditions = Requests.writeConditions(r);
    StoredChecksum checksum = body.algorithm() == null ? null : new StoredChecksum(
        body.algorithm().apiName(), ChecksumAlgorithm.FULL_OBJECT, body.checksum());
    StoredObject stored = model.put(r.bucket(), r.key(), new S3Model.NewObject(body.content(),
        r.header("Content-Type"), Requests.metadata(r), tags, checksum), conditions);
    return Answer.status(200).header("ETag", stored.etag()).checksum(checksum);
  }

  /** GetObject, or HeadObject with {@code head}. */
  Answer getObject(SimRequest r, boolean head) {
    if (r.query("partNumber") != null) {
      throw S3Error.notImplemented("partNumber");
    }
    StoredObject object = model.get(r.bucket(), r.key(), Requests.readConditions(r));
    byte[] content = object.content();
    long[] range = Requests.range(r.header("Range"), content.length);
    Answer answer = Answer.status(range == null ? 200 : 206).describing(object);
    byte[] body = content;
    if (range != null) {
      answer.header("Content-Range", "bytes " + range[0] + "-" + range[1] + "/" + content.length);
      body = Arrays.copyOfRange(content, (int) range[0], (int) range[1] + 1);
    } else if (Requests.headerIs(r, "x-amz-checksum-mode", "ENABLED")) {
      // S3 returns the whole object's checksum only with the whole object.
      answer.checksum(object.checksum());
    }
    return head ? answer.headOf(body.length) : answer.body(body);
  }

  Answer deleteObject(SimRequest r) {
    model.delete(r.bucket(), r.key(), r.header("If-Match"));
    return Answer.status(204);
  }

  Answer copyObject(SimRequest r) {
    Requests.Source source = Requests.copySource(r);
    boolean replaceMetadata = directive(r, "x-amz-metadata-directive");
    boolean replaceTags = directive(r, "x-amz-tagging-directive");
    if (!model.capabilities.tagging() && (replaceTags || r.header("x-amz-tagging") != null)) {
      throw S3Error.notImplemented("x-amz-tagging");
    }
    Map<String, String> tags = replaceTags ? Requests.taggingHeader(r.header("x-amz-tagging"))
        : Map.of();
    S3Model.CopyRequest copy = new S3Model.CopyRequest(source.bucket(), source.key(),
        Requests.copySourceConditions(r), replaceMetadata, r.header("Content-Type"),
        Requests.metadata(r), replaceTags, tags, Requests.checksumAlgorithm(r));
    StoredObject stored = model.copy(r.bucket(), r.key(), copy, Requests.writeConditions(r));
    Xml.Writer xml = new Xml.Writer("CopyObjectResult", true)
        .element("ETag", stored.etag())
        .element("LastModified", Requests.ISO.format(stored.lastModified()));
    Answer.checksumElements(xml, stored.checksum());
    return Answer.status(200).xml(xml.bytes());
  }

  /** COPY (the default) or REPLACE; anything else is 400. */
  private static boolean directive(SimRequest r, String header) {
    String value = r.header(header);
    if (value == null || value.strip().equals("COPY")) {
      return false;
    }
    if (value.strip().equals("REPLACE")) {
      return true;
    }
    throw S3Error.invalidArgument("Unknown " + header, header, value);
  }

  Answer getTagging(SimRequest r) {
    requireTagging();
    StoredObject object = model.get(r.bucket(), r.key(), Conditions.NONE);
    Xml.Writer xml = new Xml.Writer("Tagging", true).start("TagSet");
    object.tags().forEach((k, v) -> xml.start("Tag").element("Key", k).element("Value", v).end());
    xml.end();
    return Answer.status(200).xml(xml.bytes());
  }

  Answer putTagging(SimRequest r) {
    requireTagging();
    Requests.Body body = Requests.body(r, true);
    model.putTags(r.bucket(), r.key(), Requests.taggingDocument(body.content()));
    return Answer.status(200);
  }

  Answer deleteTagging(SimRequest r) {
    requireTagging();
    model.putTags(r.bucket(), r.key(), Map.of());
    return Answer.status(204);
  }

  /** The tags of a write's {@code x-amz-tagging} header; 501 on a server without tagging. */
  Map<String, String> tags(String header) {
    if (header != null && !model.capabilities.tagging()) {
      throw S3Error.notImplemented("x-amz-tagging");
    }
    return Requests.taggingHeader(header);
  }

  private void requireTagging() {
    if (!model.capabilities.tagging()) {
      throw new S3Error(501, "NotImplemented", "Object tagging is not implemented");
    }
  }

  Answer listObjectsV2(SimRequest r) {
    String prefix = r.query("prefix") == null ? "" : r.query("prefix");
    String delimiter = r.query("delimiter");
    int maxKeys = Requests.intParam(r, "max-keys", MAX_KEYS, MAX_KEYS);
    String token = r.query("continuation-token");
    String startAfter = r.query("start-after");
    S3Model.Marker after = token != null ? decodeToken(token)
        : startAfter != null && !startAfter.isEmpty() ? new S3Model.Marker(startAfter, false)
        : null;
    S3Model.Listing listing = model.list(r.bucket(), prefix, delimiter, after, maxKeys);
    boolean url = "url".equals(r.query("encoding-type"));
    Xml.Writer xml = new Xml.Writer("ListBucketResult", true)
        .element("Name", r.bucket())
        .element("Prefix", encode(prefix, url))
        .element("Delimiter", delimiter == null ? null : encode(delimiter, url))
        .element("MaxKeys", maxKeys)
        .element("KeyCount", listing.contents().size() + listing.commonPrefixes().size())
        .element("IsTruncated", listing.truncated())
        .element("ContinuationToken", token)
        .element("NextContinuationToken", listing.next() == null ? null
            : encodeToken(listing.next()))
        .element("StartAfter", startAfter == null ? null : encode(startAfter, url))
        .element("EncodingType", url ? "url" : null);
    for (Storage.ObjectSummary object : listing.contents()) {
      xml.start("Contents")
          .element("Key", encode(object.key(), url))
          .element("LastModified", Requests.ISO.format(object.lastModified()))
          .element("ETag", object.etag())
          .element("Size", object.size())
          .element("StorageClass", "STANDARD");
      if (object.checksum() != null) {
        xml.element("ChecksumAlgorithm", object.checksum().algorithm())
            .element("ChecksumType", object.checksum().type());
      }
      xml.end();
    }
    for (String common : listing.commonPrefixes()) {
      xml.start("CommonPrefixes").element("Prefix", encode(common, url)).end();
    }
    return Answer.status(200).xml(xml.bytes());
  }

  /** A key or prefix as {@code encoding-type=url} asks (the SDK decodes it). */
  static String encode(String value, boolean url) {
    return url ? URLEncoder.encode(value, StandardCharsets.UTF_8) : value;
  }

  /** An opaque token: where the next page starts. */
  private static String encodeToken(S3Model.Marker marker) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        ((marker.commonPrefix() ? "p" : "k") + marker.value()).getBytes(StandardCharsets.UTF_8));
  }

  private static S3Model.Marker decodeToken(String token) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (raw.startsWith("k") || raw.startsWith("p")) {
        return new S3Model.Marker(raw.substring(1), raw.startsWith("p"));
      }
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw S3Error.invalidArgument("The continuation token provided is incorrect",
        "continuation-token", token);
  }
}
