package dev.coffer.store.s3;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ListPartsResponse;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * The multipart requests the store makes, on one bucket: the control client starts, completes,
 * aborts and lists uploads; the bulk client carries parts and part copies. Failures are translated
 * by {@link S3Errors}. Thread-safe.
 */
final class S3Uploads {
  private final S3Client control;
  private final Supplier<S3AsyncClient> bulk;
  private final String bucket;
  private final S3StoreConfig.ChecksumMode checksums;

  S3Uploads(S3Client control, Supplier<S3AsyncClient> bulk, String bucket,
      S3StoreConfig.ChecksumMode checksums) {
    this.control = control;
    this.bulk = bulk;
    this.bucket = bucket;
    this.checksums = checksums;
  }

  /**
   * Starts a multipart upload; returns its id. With {@code checksummed} (and a checksum mode other
   * than WHEN_REQUIRED) every part must carry the mode's checksum, so an upload that will hold
   * UploadPartCopy parts, whose responses carry none on some servers, is started without.
   */
  String createUpload(String key, boolean checksummed) {
    CreateMultipartUploadRequest.Builder request =
        CreateMultipartUploadRequest.builder().bucket(bucket).key(key);
    if (checksummed && checksums == S3StoreConfig.ChecksumMode.SHA256) {
      request.checksumAlgorithm(ChecksumAlgorithm.SHA256);
    } else if (checksummed && checksums == S3StoreConfig.ChecksumMode.CRC32C) {
      request.checksumAlgorithm(ChecksumAlgorithm.CRC32_C);
    }
    try {
      return control.createMultipartUpload(request.build()).uploadId();
    } catch (SdkException e) {
      throw S3Errors.translate("starting an upload to " + key, e);
    }
  }

  /**
   * Uploads {@code length} bytes of {@code buffer} as one part, on the bulk client, with the
   * checksum mode's checksum if the upload was started {@code checksummed}, else its Content-MD5
   * (none with {@code WHEN_REQUIRED}).
   */
  CompletableFuture<CompletedPart> uploadPart(String key, String uploadId, int partNumber,
      byte[] buffer, int length, boolean checksummed) {
    UploadPartRequest.Builder request = UploadPartRequest.builder().bucket(bucket).key(key)
        .uploadId(uploadId).partNumber(partNumber).contentLength((long) length);
    CompletedPart.Builder completed = CompletedPart.builder().partNumber(partNumber);
    if (checksummed && checksums == S3StoreConfig.ChecksumMode.SHA256) {
      String checksum = BodyChecksums.base64(BodyChecksums.sha256(buffer, 0, length));
      request.checksumSHA256(checksum);
      completed.checksumSHA256(checksum);
    } else if (checksummed && checksums == S3StoreConfig.ChecksumMode.CRC32C) {
      String checksum = BodyChecksums.crc32c(buffer, 0, length);
      request.checksumCRC32C(checksum);
      completed.checksumCRC32C(checksum);
    } else if (checksums != S3StoreConfig.ChecksumMode.WHEN_REQUIRED) {
      // An upload started without a checksum algorithm takes no x-amz-checksum header; its parts
      // carry their MD5 instead, so that S3 still refuses one changed on its way (INT-6).
      request.contentMD5(BodyChecksums.base64(md5(buffer, length)));
    }
    return bulk.get().uploadPart(request.build(),
            AsyncRequestBody.fromByteBufferUnsafe(ByteBuffer.wrap(buffer, 0, length)))
        .thenApply(r -> completed.eTag(r.eTag()).build());
  }

  private static byte[] md5(byte[] buffer, int length) {
    try {
      java.security.MessageDigest md5 = java.security.MessageDigest.getInstance("MD5");
      md5.update(buffer, 0, length);
      return md5.digest();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is missing from this JVM", e);
    }
  }

  /**
   * The part as CompleteMultipartUpload needs it, with whichever checksum the server listed: a
   * resumed upload is completed with the checksums its parts were sent with.
   */
  static CompletedPart completed(Part part) {
    return CompletedPart.builder().partNumber(part.partNumber()).eTag(part.eTag())
        .checksumSHA256(part.checksumSHA256()).checksumCRC32C(part.checksumCRC32C()).build();
  }

  /** Copies bytes {@code first..last} (inclusive) of {@code source} as one part (bulk client). */
  CompletableFuture<CompletedPart> uploadPartCopy(String source, String key, String uploadId,
      int partNumber, long first, long last) {
    return bulk.get().uploadPartCopy(b -> b.sourceBucket(bucket).sourceKey(source)
            .destinationBucket(bucket).destinationKey(key).uploadId(uploadId)
            .partNumber(partNumber).copySourceRange("bytes=" + first + "-" + last))
        .thenApply(r -> CompletedPart.builder().partNumber(partNumber)
            .eTag(r.copyPartResult().eTag())
            .checksumSHA256(r.copyPartResult().checksumSHA256())
            .checksumCRC32C(r.copyPartResult().checksumCRC32C()).build());
  }

  /** Completes a multipart upload with {@code parts} in order; returns the object's ETag. */
  String complete(String key, String uploadId, List<CompletedPart> parts) {
    List<CompletedPart> sorted = new ArrayList<>(parts);
    sorted.sort(Comparator.comparing(CompletedPart::partNumber));
    try {
      return control.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
          .multipartUpload(m -> m.parts(sorted))).eTag();
    } catch (SdkException e) {
      throw S3Errors.translate("completing the upload to " + key, e);
    }
  }

  /**
   * Completes a multipart upload with {@code parts} in order unless an object is at its key
   * (If-None-Match: *); returns the object's ETag, or null if the server refused because an
   * object is there (412). The upload is left as it was after a 412: aborting it could remove
   * that object on a server that deletes the key's object with an upload (S3Mock).
   */
  String completeIfAbsent(String key, String uploadId, List<CompletedPart> parts) {
    List<CompletedPart> sorted = new ArrayList<>(parts);
    sorted.sort(Comparator.comparing(CompletedPart::partNumber));
    try {
      return control.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
          .ifNoneMatch("*").multipartUpload(m -> m.parts(sorted))).eTag();
    } catch (SdkException e) {
      // S3Mock answers the refused condition with 304 rather than S3's 412 (adobe/S3Mock#2790).
      if (S3Errors.isPreconditionFailed(e) || S3Errors.status(e) == 304) {
        return null;
      }
      throw S3Errors.translate("completing the upload to " + key, e);
    }
  }

  /** Aborts a multipart upload; an unknown upload is no error. */
  void abortUpload(String key, String uploadId) {
    try {
      control.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
    } catch (SdkException e) {
      if (S3Errors.status(e) != 404) {
        throw S3Errors.translate("aborting the upload to " + key, e);
      }
    }
  }

  /** The parts of an upload, by part number; empty if the upload is gone. */
  List<Part> listParts(String key, String uploadId) {
    List<Part> parts = new ArrayList<>();
    Integer marker = null;
    try {
      while (true) {
        Integer from = marker;
        ListPartsResponse page = control.listParts(b -> b.bucket(bucket).key(key)
            .uploadId(uploadId).partNumberMarker(from));
        parts.addAll(page.parts());
        if (!Boolean.TRUE.equals(page.isTruncated())) {
          break;
        }
        marker = page.nextPartNumberMarker();
      }
    } catch (SdkException e) {
      if (S3Errors.status(e) == 404) {
        return List.of();
      }
      throw S3Errors.translate("listing the parts of the upload to " + key, e);
    }
    parts.sort(Comparator.comparing(Part::partNumber));
    return parts;
  }

  /** A multipart upload in progress. */
  record Upload(String key, String uploadId, java.time.Instant initiated) {}

  /** Calls {@code fn} with every multipart upload in progress under {@code prefix}. */
  void listUploads(String prefix, Consumer<Upload> fn) {
    try {
      for (var page : control.listMultipartUploadsPaginator(b -> b.bucket(bucket)
          .prefix(prefix))) {
        page.uploads().forEach(u -> fn.accept(new Upload(u.key(), u.uploadId(), u.initiated())));
      }
    } catch (SdkException e) {
      throw S3Errors.translate("listing the uploads under " + prefix, e);
    }
  }
}
