package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.StoredObject;
import dev.coffer.s3sim.Storage.StoredPart;
import dev.coffer.s3sim.Storage.StoredUpload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The REST layer of multipart uploads: reads a request, calls {@link Multipart}, answers with S3's
 * status, headers and XML. Thread-safe.
 */
final class UploadRoutes {
  private static final int MAX_LIST = 1000;

  private final Multipart uploads;
  private final ObjectRoutes objects;

  UploadRoutes(Multipart uploads, ObjectRoutes objects) {
    this.uploads = uploads;
    this.objects = objects;
  }

  Answer create(SimRequest r) {
    StoredUpload upload = uploads.create(r.bucket(), r.key(), r.header("Content-Type"),
        Requests.metadata(r), objects.tags(r.header("x-amz-tagging")),
        Requests.checksumAlgorithm(r), r.header("x-amz-checksum-type"));
    Xml.Writer xml = new Xml.Writer("InitiateMultipartUploadResult", true)
        .element("Bucket", r.bucket())
        .element("Key", r.key())
        .element("UploadId", upload.uploadId());
    return Answer.status(200).xml(xml.bytes())
        .header("x-amz-checksum-algorithm", upload.checksumAlgorithm())
        .header("x-amz-checksum-type", upload.checksumType());
  }

  Answer uploadPart(SimRequest r) {
    Requests.Body body = Requests.body(r, true);
    Multipart.Uploaded uploaded = uploads.uploadPart(r.bucket(), r.key(), r.query("uploadId"),
        partNumber(r), body.content(), body.algorithm(), body.checksum());
    Answer answer = Answer.status(200).header("ETag", uploaded.part().etag());
    if (uploaded.algorithm() != null) {
      answer.header(uploaded.algorithm().header(), uploaded.part().checksum());
    }
    return answer;
  }

  Answer uploadPartCopy(SimRequest r) {
    Requests.Source source = Requests.copySource(r);
    long[] range = Requests.copyRange(r);
    Multipart.Uploaded uploaded = uploads.uploadPartCopy(r.bucket(), r.key(),
        r.query("uploadId"), partNumber(r), source.bucket(), source.key(),
        Requests.copySourceConditions(r), range == null ? -1 : range[0],
        range == null ? -1 : range[1]);
    StoredPart part = uploaded.part();
    Xml.Writer xml = new Xml.Writer("CopyPartResult", true)
        .element("ETag", part.etag())
        .element("LastModified", Requests.ISO.format(part.lastModified()));
    if (uploaded.algorithm() != null) {
      xml.element(uploaded.algorithm().element(), part.checksum());
    }
    return Answer.status(200).xml(xml.bytes());
  }

  Answer complete(SimRequest r) {
    Requests.Body body = Requests.body(r, false);
    List<Multipart.CompletedPart> parts = new ArrayList<>();
    Xml.Node root = Xml.parse(body.content());
    if (!root.name().equals("CompleteMultipartUpload")) {
      throw S3Error.malformedXml();
    }
    for (Xml.Node part : root.all("Part")) {
      Map<ChecksumAlgorithm, String> checksums = new TreeMap<>();
      for (ChecksumAlgorithm a : ChecksumAlgorithm.values()) {
        String value = part.text(a.element());
        if (value != null) {
          checksums.put(a, value);
        }
      }
      int number;
      try {
        number = Integer.parseInt(part.text("PartNumber"));
      } catch (NumberFormatException | NullPointerException e) {
        throw S3Error.malformedXml();
      }
      parts.add(new Multipart.CompletedPart(number, part.text("ETag"), checksums));
    }
    StoredObject object = uploads.complete(r.bucket(), r.key(), r.query("uploadId"), parts,
        Requests.writeConditions(r), r.header("x-amz-checksum-type"), Requests.checksums(r));
    Xml.Writer xml = new Xml.Writer("CompleteMultipartUploadResult", true)
        .element("Location", "https://s3.sim/" + r.bucket() + "/" + r.key())
        .element("Bucket", r.bucket())
        .element("Key", r.key())
        .element("ETag", object.etag());
    Answer.checksumElements(xml, object.checksum());
    return Answer.status(200).xml(xml.bytes());
  }

  Answer abort(SimRequest r) {
    uploads.abort(r.bucket(), r.key(), r.query("uploadId"));
    return Answer.status(204);
  }

  Answer listParts(SimRequest r) {
    StoredUpload upload = uploads.get(r.bucket(), r.key(), r.query("uploadId"));
    int max = Requests.intParam(r, "max-parts", MAX_LIST, MAX_LIST);
    int marker = Requests.intParam(r, "part-number-marker", 0, Integer.MAX_VALUE);
    List<StoredPart> after = new ArrayList<>(upload.parts().tailMap(marker + 1).values());
    boolean truncated = after.size() > max;
    List<StoredPart> page = after.subList(0, Math.min(max, after.size()));
    ChecksumAlgorithm algorithm = ChecksumAlgorithm.named(upload.checksumAlgorithm());
    Xml.Writer xml = new Xml.Writer("ListPartsResult", true)
        .element("Bucket", r.bucket())
        .element("Key", r.key())
        .element("UploadId", upload.uploadId())
        .element("PartNumberMarker", marker)
        .element("NextPartNumberMarker", page.isEmpty() ? marker
            : page.get(page.size() - 1).number())
        .element("MaxParts", max)
        .element("IsTruncated", truncated)
        .element("StorageClass", "STANDARD")
        .element("ChecksumAlgorithm", upload.checksumAlgorithm())
        .element("ChecksumType", upload.checksumType());
    for (StoredPart part : page) {
      xml.start("Part")
          .element("PartNumber", part.number())
          .element("LastModified", Requests.ISO.format(part.lastModified()))
          .element("ETag", part.etag())
          .element("Size", part.content().length);
      if (algorithm != null && part.checksum() != null) {
        xml.element(algorithm.element(), part.checksum());
      }
      xml.end();
    }
    return Answer.status(200).xml(xml.bytes());
  }

  Answer listUploads(SimRequest r) {
    if (r.query("delimiter") != null) {
      throw S3Error.notImplemented("delimiter");
    }
    String prefix = r.query("prefix") == null ? "" : r.query("prefix");
    String keyMarker = r.query("key-marker");
    String idMarker = r.query("upload-id-marker");
    int max = Requests.intParam(r, "max-uploads", MAX_LIST, MAX_LIST);
    boolean url = "url".equals(r.query("encoding-type"));
    // One more than the page: whether there is one tells whether the listing is truncated.
    List<StoredUpload> page = new ArrayList<>(uploads.list(r.bucket(), prefix, keyMarker,
        idMarker, max + 1));
    boolean truncated = page.size() > max;
    if (truncated) {
      page.remove(max);
    }
    StoredUpload last = page.isEmpty() ? null : page.get(page.size() - 1);
    Xml.Writer xml = new Xml.Writer("ListMultipartUploadsResult", true)
        .element("Bucket", r.bucket())
        .element("KeyMarker", keyMarker == null ? "" : ObjectRoutes.encode(keyMarker, url))
        .element("UploadIdMarker", idMarker == null ? "" : idMarker)
        .element("NextKeyMarker", truncated ? ObjectRoutes.encode(last.key(), url) : null)
        .element("NextUploadIdMarker", truncated ? last.uploadId() : null)
        .element("Prefix", ObjectRoutes.encode(prefix, url))
        .element("MaxUploads", max)
        .element("IsTruncated", truncated)
        .element("EncodingType", url ? "url" : null);
    for (StoredUpload upload : page) {
      xml.start("Upload")
          .element("Key", ObjectRoutes.encode(upload.key(), url))
          .element("UploadId", upload.uploadId())
          .start("Initiator").element("ID", "coffer-sim").element("DisplayName", "coffer-sim")
          .end()
          .start("Owner").element("ID", "coffer-sim").element("DisplayName", "coffer-sim").end()
          .element("StorageClass", "STANDARD")
          .element("Initiated", Requests.ISO.format(upload.initiated()))
          .element("ChecksumAlgorithm", upload.checksumAlgorithm())
          .element("ChecksumType", upload.checksumType())
          .end();
    }
    return Answer.status(200).xml(xml.bytes());
  }

  private static int partNumber(SimRequest r) {
    String value = r.query("partNumber");
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, "
          + "inclusive", "partNumber", value);
    }
  }
}
