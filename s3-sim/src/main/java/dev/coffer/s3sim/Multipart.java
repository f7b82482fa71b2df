package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.StoredChecksum;
import dev.coffer.s3sim.Storage.StoredObject;
import dev.coffer.s3sim.Storage.StoredPart;
import dev.coffer.s3sim.Storage.StoredUpload;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The multipart upload lifecycle of the simulated S3, on the model's lock and storage: create,
 * upload parts (or copy them from objects), complete, abort, list. As S3 documents it
 * ("Uploading and copying objects using multipart upload", the API reference of each operation):
 * an upload's id is unknown once it is completed or aborted (404 NoSuchUpload); aborting never
 * touches an object at the key; parts other than the last must be 5 MiB or more; completion checks
 * order, ETags and, for uploads with a checksum algorithm, the parts' checksums; the object's ETag
 * is the MD5 of the parts' MD5s followed by {@code -} and the part count.
 *
 * <p>Thread-safe (every method takes the model's lock).
 */
final class Multipart {
  /** The smallest part other than the last. */
  static final long MIN_PART_SIZE = 5L << 20;
  static final int MAX_PART_NUMBER = 10_000;

  private final S3Model model;
  private final Storage storage;
  private final Random ids;
  private long sequence;
  /** Completed uploads by id, for idempotent completion: the key, the parts named, the result. */
  private final Map<String, Completed> completed = new java.util.HashMap<>();

  private record Completed(String key, List<CompletedPart> parts, StoredObject result) {}

  Multipart(S3Model model, long seed) {
    this.model = model;
    this.storage = model.storage;
    this.ids = new Random(seed);
  }

  /** Starts an upload. Checks the checksum algorithm and type as CreateMultipartUpload does. */
  StoredUpload create(String bucket, String key, String contentType, Map<String, String> metadata,
      Map<String, String> tags, ChecksumAlgorithm algorithm, String type) {
    if (type != null && algorithm == null) {
      throw S3Error.invalidRequest("The x-amz-checksum-type header can only be used with the "
          + "x-amz-checksum-algorithm header.");
    }
    if (type != null && !type.equals(ChecksumAlgorithm.FULL_OBJECT)
        && !type.equals(ChecksumAlgorithm.COMPOSITE)) {
      throw S3Error.invalidArgument("Invalid checksum type " + type, "x-amz-checksum-type", type);
    }
    String effective = algorithm == null ? null : type != null ? type
        : algorithm.allowsComposite() ? ChecksumAlgorithm.COMPOSITE : ChecksumAlgorithm.FULL_OBJECT;
    if (algorithm != null && (effective.equals(ChecksumAlgorithm.FULL_OBJECT)
        ? !algorithm.allowsFullObject() : !algorithm.allowsComposite())) {
      throw S3Error.invalidRequest("The " + effective + " checksum type cannot be used with the "
          + algorithm.apiName().toLowerCase(Locale.ROOT) + " checksum algorithm.");
    }
    model.lock.lock();
    try {
      model.requireBucket(bucket);
      long seq = ++sequence;
      String id = String.format("%08x%016x%016x", seq, ids.nextLong(), ids.nextLong());
      StoredUpload upload = new StoredUpload(id, seq, key, model.now(), contentType, metadata, tags,
          algorithm == null ? null : algorithm.apiName(), effective, new TreeMap<>());
      storage.putUpload(bucket, upload);
      return upload;
    } finally {
      model.lock.unlock();
    }
  }

  /**
   * Stores a part. A part sent with the checksum of another algorithm than the upload's is refused;
   * one sent without is given the upload's (S3 computes it). Must be called with a checksum already
   * verified against the bytes.
   *
   * @param sent the algorithm of the checksum sent with the part, or null
   * @param checksum that checksum (base64), or null
   */
  /** A part as stored, and the upload's checksum algorithm (null if none). */
  record Uploaded(StoredPart part, ChecksumAlgorithm algorithm) {}

  Uploaded uploadPart(String bucket, String key, String uploadId, int number, byte[] content,
      ChecksumAlgorithm sent, String checksum) {
    checkPartNumber(number);
    String etag = S3Model.md5Etag(content); // before the lock, as the object's in S3Model.put
    model.lock.lock();
    try {
      StoredUpload upload = upload(bucket, key, uploadId);
      ChecksumAlgorithm algorithm = ChecksumAlgorithm.named(upload.checksumAlgorithm());
      if (algorithm != null && sent != null && sent != algorithm) {
        throw S3Error.invalidRequest("Checksum Type mismatch occurred, expected checksum Type: "
            + algorithm.apiName().toLowerCase(Locale.ROOT) + ", actual checksum Type: "
            + sent.apiName().toLowerCase(Locale.ROOT));
      }
      String partChecksum = algorithm == null ? null
          : sent == algorithm ? checksum : algorithm.of(content);
      StoredPart part = new StoredPart(number, content, etag, model.now(), partChecksum);
      storage.putUpload(bucket, upload.withPart(part));
      return new Uploaded(part, algorithm);
    } finally {
      model.lock.unlock();
    }
  }

  /**
   * Stores bytes {@code first..last} (inclusive; {@code first} -1 for the whole object) of an
   * object as a part. A range outside the source is 400 InvalidArgument, as S3 answers it.
   */
  Uploaded uploadPartCopy(String bucket, String key, String uploadId, int number,
      String sourceBucket, String sourceKey, Conditions sourceConditions, long first, long last) {
    checkPartNumber(number);
    model.lock.lock();
    try {
      StoredUpload upload = upload(bucket, key, uploadId);
      model.requireBucket(sourceBucket);
      StoredObject source = storage.object(sourceBucket, sourceKey);
      if (source == null) {
        throw S3Error.noSuchKey(sourceKey);
      }
      sourceConditions.checkCopySource(source);
      long size = source.content().length;
      long from = first < 0 ? 0 : first;
      long to = first < 0 ? size - 1 : last;
      if (first >= 0 && (first > last || last >= size)) {
        throw S3Error.invalidArgument("Range specified is not valid for source object of size: "
            + size, "x-amz-copy-source-range", "bytes=" + first + "-" + last);
      }
      byte[] content = java.util.Arrays.copyOfRange(source.content(), (int) from, (int) to + 1);
      ChecksumAlgorithm algorithm = ChecksumAlgorithm.named(upload.checksumAlgorithm());
      StoredPart part = new StoredPart(number, content, S3Model.md5Etag(content), model.now(),
          algorithm == null ? null : algorithm.of(content));
      storage.putUpload(bucket, upload.withPart(part));
      return new Uploaded(part, algorithm);
    } finally {
      model.lock.unlock();
    }
  }

  /** A part named in a CompleteMultipartUpload request. */
  record CompletedPart(int number, String etag, Map<ChecksumAlgorithm, String> checksums) {}

  /**
   * Completes an upload into an object, checking in S3's order: the upload exists (404
   * NoSuchUpload), the parts are listed in ascending order (InvalidPartOrder), each was uploaded
   * with that ETag and checksum (InvalidPart; a composite upload's parts must each name their
   * checksum, InvalidRequest), each but the last is at least 5 MiB (EntityTooSmall), a checksum
   * type named agrees with the upload's and a whole-object checksum sent matches (BadDigest); then
   * the write conditions on the key (412, or 404 for If-Match on a missing key).
   *
   * @param type the {@code x-amz-checksum-type} sent, or null
   * @param wholeChecksums whole-object checksums sent ({@code x-amz-checksum-*}), by algorithm
   */
  StoredObject complete(String bucket, String key, String uploadId, List<CompletedPart> parts,
      Conditions conditions, String type, Map<ChecksumAlgorithm, String> wholeChecksums) {
    model.lock.lock();
    try {
      Completed done = completed.get(bucket + "/" + uploadId);
      if (done != null && model.capabilities.idempotentCompletion() && done.key().equals(key)
          && done.parts().equals(parts)) {
        return done.result();
      }
      StoredUpload upload = upload(bucket, key, uploadId);
      if (parts.isEmpty()) {
        throw S3Error.malformedXml();
      }
      for (int i = 1; i < parts.size(); i++) {
        if (parts.get(i).number() <= parts.get(i - 1).number()) {
          throw new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending "
              + "order. Parts must be ordered by part number.", Map.of("UploadId", uploadId));
        }
      }
      ChecksumAlgorithm algorithm = ChecksumAlgorithm.named(upload.checksumAlgorithm());
      boolean composite = ChecksumAlgorithm.COMPOSITE.equals(upload.checksumType());
      List<StoredPart> chosen = new ArrayList<>();
      for (CompletedPart named : parts) {
        StoredPart part = upload.parts().get(named.number());
        if (part == null || named.etag() == null
            || !Conditions.unquote(named.etag()).equals(Conditions.unquote(part.etag()))) {
          throw invalidPart(uploadId, named);
        }
        String checksum = algorithm == null ? null : named.checksums().get(algorithm);
        if (composite && checksum == null) {
          throw S3Error.invalidRequest("The upload was created using a "
              + algorithm.apiName().toLowerCase(Locale.ROOT) + " checksum. The complete request "
              + "must include the checksum for each part. It was missing for part "
              + named.number() + " in the request.");
        }
        if (checksum != null && !checksum.equals(part.checksum())) {
          throw invalidPart(uploadId, named);
        }
        chosen.add(part);
      }
      for (int i = 0; i < chosen.size() - 1; i++) {
        StoredPart part = chosen.get(i);
        if (part.content().length < MIN_PART_SIZE) {
          Map<String, String> details = new LinkedHashMap<>();
          details.put("ProposedSize", Long.toString(part.content().length));
          details.put("MinSizeAllowed", Long.toString(MIN_PART_SIZE));
          details.put("PartNumber", Integer.toString(part.number()));
          details.put("ETag", Conditions.unquote(part.etag()));
          throw new S3Error(400, "EntityTooSmall",
              "Your proposed upload is smaller than the minimum allowed object size.", details);
        }
      }
      if (type != null && !type.equals(upload.checksumType())) {
        throw S3Error.badDigest("The checksum type " + type + " does not match the checksum type "
            + upload.checksumType() + " of the upload.");
      }
      byte[] content = concatenate(chosen);
      StoredChecksum checksum = null;
      if (algorithm != null) {
        String value = composite
            ? algorithm.composite(chosen.stream().map(StoredPart::checksum).toList())
            : algorithm.of(content);
        checksum = new StoredChecksum(algorithm.apiName(), upload.checksumType(), value);
      }
      for (Map.Entry<ChecksumAlgorithm, String> sent : wholeChecksums.entrySet()) {
        if (checksum == null || sent.getKey() != algorithm || !sent.getValue().equals(
            checksum.value())) {
          throw S3Error.badDigest("The " + sent.getKey().apiName() + " you specified did not "
              + "match the calculated checksum.");
        }
      }
      conditions.checkWrite(storage.object(bucket, key), key);
      model.betweenCheckAndWrite(conditions, () -> upload(bucket, key, uploadId));
      StoredObject object = new StoredObject(key, content, multipartEtag(chosen), model.now(),
          upload.contentType(), upload.metadata(), upload.tags(),
          model.checksumOrDefault(checksum, content), chosen.size());
      storage.putObject(bucket, object);
      storage.removeUpload(bucket, uploadId);
      if (model.capabilities.idempotentCompletion()) {
        completed.put(bucket + "/" + uploadId, new Completed(key, List.copyOf(parts), object));
      }
      return object;
    } finally {
      model.lock.unlock();
    }
  }

  /** Aborts an upload: its parts are gone, and any object at the key stays (unlike S3Mock). */
  void abort(String bucket, String key, String uploadId) {
    model.lock.lock();
    try {
      upload(bucket, key, uploadId);
      storage.removeUpload(bucket, uploadId);
    } finally {
      model.lock.unlock();
    }
  }

  /** The upload as it stands, for ListParts (404 NoSuchUpload if it is not in progress). */
  StoredUpload get(String bucket, String key, String uploadId) {
    model.lock.lock();
    try {
      return upload(bucket, key, uploadId);
    } finally {
      model.lock.unlock();
    }
  }

  /**
   * A page of ListMultipartUploads: up to {@code max} uploads in progress whose keys start with
   * {@code prefix} and come after the markers ({@link #after}), by key and then creation. The
   * walk starts at the later of the prefix and the key marker and stops at the first key past
   * the prefix, so a page costs what it shows, not every upload in the bucket.
   */
  List<StoredUpload> list(String bucket, String prefix, String keyMarker, String idMarker,
      int max) {
    model.lock.lock();
    try {
      model.requireBucket(bucket);
      String from = keyMarker != null && keyMarker.compareTo(prefix) > 0 ? keyMarker : prefix;
      List<StoredUpload> page = new ArrayList<>();
      var it = storage.uploadsFrom(bucket, from);
      while (it.hasNext() && page.size() < max) {
        StoredUpload upload = it.next();
        if (!upload.key().startsWith(prefix)) {
          break;
        }
        if (after(upload, keyMarker, idMarker)) {
          page.add(upload);
        }
      }
      return page;
    } finally {
      model.lock.unlock();
    }
  }

  /**
   * Whether an upload comes after the markers: a later key, or the marker key and a later upload
   * (ids sort in creation order within a key).
   */
  static boolean after(StoredUpload upload, String keyMarker, String idMarker) {
    if (keyMarker == null || keyMarker.isEmpty()) {
      return true;
    }
    int byKey = upload.key().compareTo(keyMarker);
    if (idMarker == null || idMarker.isEmpty()) {
      return byKey > 0;
    }
    return byKey > 0 || (byKey == 0 && upload.uploadId().compareTo(idMarker) > 0);
  }

  /** Must hold the lock. An upload of another key is no upload of this one. */
  private StoredUpload upload(String bucket, String key, String uploadId) {
    model.requireBucket(bucket);
    StoredUpload upload = storage.upload(bucket, uploadId);
    if (upload == null || !upload.key().equals(key)) {
      throw S3Error.noSuchUpload(uploadId);
    }
    return upload;
  }

  private static void checkPartNumber(int number) {
    if (number < 1 || number > MAX_PART_NUMBER) {
      throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, "
          + "inclusive", "partNumber", Integer.toString(number));
    }
  }

  private static S3Error invalidPart(String uploadId, CompletedPart part) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("UploadId", uploadId);
    details.put("PartNumber", Integer.toString(part.number()));
    details.put("ETag", part.etag() == null ? "" : part.etag());
    return new S3Error(400, "InvalidPart", "One or more of the specified parts could not be "
        + "found.  The part may not have been uploaded, or the specified entity tag may not match "
        + "the part's entity tag.", details);
  }

  private static byte[] concatenate(List<StoredPart> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    parts.forEach(p -> out.writeBytes(p.content()));
    return out.toByteArray();
  }

  /** The MD5 of the parts' MD5s, in hex, then {@code -} and the part count, quoted. */
  static String multipartEtag(List<StoredPart> parts) {
    ByteArrayOutputStream md5s = new ByteArrayOutputStream();
    for (StoredPart part : parts) {
      md5s.writeBytes(HexFormat.of().parseHex(Conditions.unquote(part.etag())));
    }
    byte[] all = md5s.toByteArray();
    return "\"" + HexFormat.of().formatHex(S3Model.md5(all, 0, all.length)) + "-" + parts.size()
        + "\"";
  }
}
