package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.PermissionDeniedException;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.SdkPlugin;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListPartsResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.Part;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.Tagging;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * The S3 requests the store makes, on one bucket. The control client carries small records and
 * metadata requests, and reads; the bulk client carries parts and part copies. This class is
 * also the one place where SDK exceptions become the store's: {@link #translate}. Transport
 * failures, throttling and 409 conflicts have been retried by the SDK's retry strategy before they
 * get here (except for {@link #deleteOnce}, a single attempt); a 412 of a conditional request is
 * an answer, returned as null by the methods that make one.
 *
 * <p>Thread-safe.
 */
final class S3Objects {

  private static final Logger LOG = LoggerFactory.getLogger(S3Objects.class);
  private static final int PRECONDITION_FAILED = 412;
  private static final int NOT_IMPLEMENTED = 501;
  /** Turns the SDK's retries off for the one request that carries it (see {@link #deleteOnce}). */
  private static final SdkPlugin SINGLE_ATTEMPT = config -> config.overrideConfiguration(
      c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()));

  private final S3Client control;
  private final Supplier<S3AsyncClient> bulk;
  private final String bucket;
  private final S3StoreConfig.ChecksumMode checksums;
  /**
   * False once the server answered a tagging request with 501 Not Implemented, as some
   * S3-compatible servers do: tags only mirror the index records, so the store goes on without.
   */
  private volatile boolean tagging = true;
  /** True once a write with tags succeeded: the server has object tagging. */
  private volatile boolean taggingWorks;

  S3Objects(S3Client control, Supplier<S3AsyncClient> bulk, String bucket,
      S3StoreConfig.ChecksumMode checksums) {
    this.control = control;
    this.bulk = bulk;
    this.bucket = bucket;
    this.checksums = checksums;
  }

  /** An object's bytes and the ETag they were read at. */
  record Fetched(byte[] bytes, String etag) {}

  /** The object, or null if there is none. */
  Fetched get(String key) {
    try {
      ResponseBytes<GetObjectResponse> response =
          control.getObjectAsBytes(b -> b.bucket(bucket).key(key));
      return new Fetched(response.asByteArrayUnsafe(), response.response().eTag());
    } catch (NoSuchKeyException e) {
      return null;
    } catch (SdkException e) {
      if (status(e) == 404) {
        return null;
      }
      throw translate("reading " + key, e);
    }
  }

  /** A stream of the whole object; the caller closes it. */
  InputStream stream(String key) {
    try {
      return control.getObject(b -> b.bucket(bucket).key(key));
    } catch (SdkException e) {
      throw translate("reading " + key, e);
    }
  }

  /** Whether the object exists. */
  boolean exists(String key) {
    return head(key) != null;
  }

  /** An object's ETag, size and the time S3 stored it (whole seconds on S3). */
  record Head(String etag, long size, Instant lastModified) {}

  /** The object's ETag, size and time, or null if there is none. */
  Head head(String key) {
    try {
      HeadObjectResponse head = control.headObject(b -> b.bucket(bucket).key(key));
      return new Head(head.eTag(), head.contentLength(), head.lastModified());
    } catch (NoSuchKeyException e) {
      return null;
    } catch (SdkException e) {
      if (status(e) == 404) {
        return null;
      }
      throw translate("looking up " + key, e);
    }
  }

  /**
   * An object's length and, if S3 keeps one for the whole object, its CRC32C as S3 spells it;
   * null if the object has no full-object CRC32C (another algorithm, or a composite checksum).
   */
  record Checked(long size, String fullObjectCrc32c) {}

  /** The object's length and full-object CRC32C (HeadObject in checksum mode), or null. */
  Checked headChecked(String key) {
    try {
      HeadObjectResponse head = control.headObject(b -> b.bucket(bucket).key(key)
          .checksumMode(ChecksumMode.ENABLED));
      String crc = head.checksumCRC32C();
      boolean composite = head.checksumType() == ChecksumType.COMPOSITE
          || (crc != null && crc.contains("-"));
      return new Checked(head.contentLength(), composite ? null : crc);
    } catch (NoSuchKeyException e) {
      return null;
    } catch (SdkException e) {
      if (status(e) == 404) {
        return null;
      }
      throw translate("looking up " + key, e);
    }
  }

  /** The CRC32C {@code crc} holds, as S3 spells it. */
  static String crc32c(CRC32C crc) {
    return base64(ByteBuffer.allocate(Integer.BYTES).putInt((int) crc.getValue()).array());
  }

  /**
   * Creates the object only if the key is free (If-None-Match: *).
   *
   * @param sha256 the bytes' SHA-256 if known (sent as their checksum), else null
   * @param tags tags to set with the object, or empty
   * @return the new ETag, or null if the key holds an object
   */
  String putIfAbsent(String key, byte[] bytes, int length, byte[] sha256,
      Map<String, String> tags) {
    return put(key, bytes, length, sha256, tags, "*", null);
  }

  /**
   * Replaces the object only if it still has {@code etag}; the new ETag, or null on 412 or if the
   * object is gone (S3 answers an If-Match write of a missing key with 404).
   */
  String putIfMatch(String key, byte[] bytes, String etag) {
    return put(key, bytes, bytes.length, null, Map.of(), null, etag);
  }

  /**
   * What one conditional write of a record did: the new ETag, or refused (412, or 404 for an
   * If-Match write of a missing key), or failed without being applied (409, 429, 503), or failed
   * with an outcome that is unknown and may still change ({@code mayLand}: a timeout, a reset, a
   * 5xx other than 503: S3 may have applied it, or may apply a request still on its way).
   */
  record Attempt(String etag, StoreException failure, boolean mayLand) {
    boolean written() {
      return etag != null;
    }
  }

  /**
   * Writes a record with one attempt, If-Match {@code etag} or, if {@code etag} is null, create-only
   * (If-None-Match: *): the SDK's retry strategy is off for this request, so the caller, which
   * stamps each attempt with an operation id and reads the record again before the next one, owns
   * every retry (PROTO-3). A failure that is neither a refusal nor transient is thrown.
   */
  Attempt writeRecordOnce(String key, byte[] bytes, String etag) {
    PutObjectRequest request = PutObjectRequest.builder().bucket(bucket).key(key)
        .ifNoneMatch(etag == null ? "*" : null).ifMatch(etag)
        .overrideConfiguration(o -> o.addPlugin(SINGLE_ATTEMPT)).build();
    try {
      return new Attempt(control.putObject(request, RequestBody.fromBytes(bytes)).eTag(), null,
          false);
    } catch (SdkException e) {
      int status = status(e);
      if (status == PRECONDITION_FAILED || (etag != null && status == 404)) {
        return new Attempt(null, null, false);
      }
      StoreException failure = translate("writing " + key, e);
      return switch (status) {
        // ConditionalRequestConflict, and throttling: S3 refused it without applying it.
        case 409, 429, 503 -> new Attempt(null, failure, false);
        case 0 -> {
          if (!isTransient(e)) {
            throw failure;
          }
          yield new Attempt(null, failure, true);
        }
        default -> {
          if (status < 500) {
            throw failure;
          }
          yield new Attempt(null, failure, true);
        }
      };
    }
  }

  /** Writes the object unconditionally; returns its ETag. */
  String put(String key, byte[] bytes, int length) {
    return put(key, bytes, length, null, Map.of(), null, null);
  }

  private String put(String key, byte[] bytes, int length, byte[] sha256, Map<String, String> tags,
      String ifNoneMatch, String ifMatch) {
    PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(bucket).key(key)
        .ifNoneMatch(ifNoneMatch).ifMatch(ifMatch);
    boolean tagged = tagging && !tags.isEmpty();
    if (tagged) {
      request.tagging(Tagging.builder().tagSet(tagSet(tags)).build());
    }
    if (sha256 != null && checksums != S3StoreConfig.ChecksumMode.WHEN_REQUIRED) {
      request.checksumSHA256(base64(sha256)); // known: S3 then checks the content address
    } else if (checksums == S3StoreConfig.ChecksumMode.SHA256) {
      request.checksumSHA256(base64(sha256(bytes, 0, length)));
    } else if (checksums == S3StoreConfig.ChecksumMode.CRC32C) {
      request.checksumCRC32C(crc32c(bytes, 0, length));
    }
    try {
      String etag = control.putObject(request.build(), RequestBody.fromByteBuffer(
          ByteBuffer.wrap(bytes, 0, length))).eTag();
      if (tagged) {
        taggingWorks = true;
      }
      return etag;
    } catch (SdkException e) {
      int status = status(e);
      if (status == PRECONDITION_FAILED || (ifMatch != null && status == 404)) {
        return null;
      }
      if (tagged && (status == NOT_IMPLEMENTED || (status == 0 && taggingRefused(key, e)))) {
        taggingUnsupported(e);
        return put(key, bytes, length, sha256, Map.of(), ifNoneMatch, ifMatch);
      }
      throw translate("writing " + key, e);
    }
  }

  /**
   * Whether a tagged write that failed without an answer (every attempt) met a server without
   * object tagging. Such a server may refuse the tagging header before reading the body and close
   * the connection, so a client still sending a large body sees a broken pipe, never the 501; a
   * tagging request without a body gets the 501 through. Asked only until a tagged write succeeds.
   */
  private boolean taggingRefused(String key, SdkException failure) {
    if (taggingWorks) {
      return false;
    }
    try {
      control.getObjectTagging(b -> b.bucket(bucket).key(key));
      taggingWorks = true;
      return false;
    } catch (SdkException e) {
      if (status(e) == NOT_IMPLEMENTED) {
        return true;
      }
      failure.addSuppressed(e);
      return false;
    }
  }

  /** Remembers that the server has no object tagging; logs it once per store. */
  private void taggingUnsupported(SdkException e) {
    if (tagging) {
      tagging = false;
      LOG.warn("bucket {} does not support object tagging (501); blobs are stored without the "
          + "tags that mirror their index records: {}", bucket, e.getMessage());
      LOG.debug("the refused tagging request", e);
    }
  }

  /** Deletes the object; a missing object is no error. */
  void delete(String key) {
    try {
      control.deleteObject(b -> b.bucket(bucket).key(key));
    } catch (SdkException e) {
      if (status(e) != 404) {
        throw translate("deleting " + key, e);
      }
    }
  }

  /**
   * Deletes the object with one attempt: the SDK's retry strategy is replaced for this request
   * alone (a per-request plugin, so it holds on a client the caller built as well). For a delete
   * that must reach S3 at most once: a retry after an answer that was lost would delete an object
   * stored again between the first attempt, which S3 applied, and the retry. A failure leaves
   * its outcome unknown (the object may be gone or not), and the caller must not send it again.
   */
  void deleteOnce(String key) {
    try {
      control.deleteObject(DeleteObjectRequest.builder().bucket(bucket).key(key)
          .overrideConfiguration(o -> o.addPlugin(SINGLE_ATTEMPT)).build());
    } catch (SdkException e) {
      if (status(e) != 404) {
        throw translate("deleting " + key + " (one attempt)", e);
      }
    }
  }

  /** Deletes the object only if it still has {@code etag}; false on 412 or if it is gone. */
  boolean deleteIfMatch(String key, String etag) {
    try {
      control.deleteObject(b -> b.bucket(bucket).key(key).ifMatch(etag));
      return true;
    } catch (SdkException e) {
      int status = status(e);
      if (status == PRECONDITION_FAILED || status == 404) {
        return false;
      }
      throw translate("deleting " + key, e);
    }
  }

  /** Copies an object of at most 5 GiB with one CopyObject. */
  void copy(String source, String target) {
    try {
      control.copyObject(b -> b.sourceBucket(bucket).sourceKey(source)
          .destinationBucket(bucket).destinationKey(target));
    } catch (SdkException e) {
      throw translate("copying " + source + " to " + target, e);
    }
  }

  /** The object's tags (none on a server without tagging), or null if there is no object. */
  Map<String, String> tags(String key) {
    if (!tagging) {
      return exists(key) ? Map.of() : null;
    }
    try {
      Map<String, String> tags = new TreeMap<>();
      control.getObjectTagging(b -> b.bucket(bucket).key(key)).tagSet()
          .forEach(t -> tags.put(t.key(), t.value()));
      return tags;
    } catch (NoSuchKeyException e) {
      return null;
    } catch (SdkException e) {
      if (status(e) == 404) {
        return null;
      }
      if (status(e) == NOT_IMPLEMENTED) {
        taggingUnsupported(e);
        return exists(key) ? Map.of() : null;
      }
      throw translate("reading the tags of " + key, e);
    }
  }

  /** Whether the server is still believed to support object tagging. */
  boolean tagging() {
    return tagging;
  }

  /**
   * Replaces the object's tags. Not conditional: tags only mirror the index record. A no-op on a
   * server without object tagging.
   */
  void putTags(String key, Map<String, String> tags) {
    if (!tagging) {
      return;
    }
    try {
      control.putObjectTagging(b -> b.bucket(bucket).key(key)
          .tagging(t -> t.tagSet(tagSet(tags))));
    } catch (SdkException e) {
      if (status(e) == NOT_IMPLEMENTED) {
        taggingUnsupported(e);
        return;
      }
      throw translate("tagging " + key, e);
    }
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
      throw translate("starting an upload to " + key, e);
    }
  }

  /**
   * Uploads {@code length} bytes of {@code buffer} as one part, on the bulk client, with the
   * checksum mode's checksum if the upload was started {@code checksummed}.
   */
  CompletableFuture<CompletedPart> uploadPart(String key, String uploadId, int partNumber,
      byte[] buffer, int length, boolean checksummed) {
    UploadPartRequest.Builder request = UploadPartRequest.builder().bucket(bucket).key(key)
        .uploadId(uploadId).partNumber(partNumber).contentLength((long) length);
    CompletedPart.Builder completed = CompletedPart.builder().partNumber(partNumber);
    if (checksummed && checksums == S3StoreConfig.ChecksumMode.SHA256) {
      String checksum = base64(sha256(buffer, 0, length));
      request.checksumSHA256(checksum);
      completed.checksumSHA256(checksum);
    } else if (checksummed && checksums == S3StoreConfig.ChecksumMode.CRC32C) {
      String checksum = crc32c(buffer, 0, length);
      request.checksumCRC32C(checksum);
      completed.checksumCRC32C(checksum);
    }
    return bulk.get().uploadPart(request.build(),
            AsyncRequestBody.fromByteBufferUnsafe(ByteBuffer.wrap(buffer, 0, length)))
        .thenApply(r -> completed.eTag(r.eTag()).build());
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
      throw translate("completing the upload to " + key, e);
    }
  }

  /** Aborts a multipart upload; an unknown upload is no error. */
  void abortUpload(String key, String uploadId) {
    try {
      control.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
    } catch (SdkException e) {
      if (status(e) != 404) {
        throw translate("aborting the upload to " + key, e);
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
      if (status(e) == 404) {
        return List.of();
      }
      throw translate("listing the parts of the upload to " + key, e);
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
      throw translate("listing the uploads under " + prefix, e);
    }
  }

  /**
   * A GET of an object from byte {@code first} to its end, for the caller to read and close (or
   * abort, to drop the connection rather than drain it). From byte 0 it carries no Range header:
   * S3Mock serves a plain GET about twice as fast as any ranged one.
   */
  ResponseInputStream<GetObjectResponse> stream(String key, long first) {
    try {
      return control.getObject(b -> {
        b.bucket(bucket).key(key);
        if (first > 0) {
          b.range("bytes=" + first + "-");
        }
      });
    } catch (SdkException e) {
      throw translate("reading " + key, e);
    }
  }

  /**
   * Reads bytes {@code first..last} (inclusive) of an object into {@code into} from
   * {@code offset}, with one ranged GET on the calling thread. The response is read straight into
   * the array, which the caller sizes; a range that ends early is an UnknownException. Once
   * {@code cancelled} says so, the connection is aborted and CancellationException thrown.
   *
   * <p>The synchronous client: against the servers measured (ReadThroughputBenchmark) it reads
   * faster than the asynchronous one, which copies every network buffer on its way through a
   * reactive pipeline.
   */
  void getRange(String key, long first, long last, byte[] into, int offset,
      BooleanSupplier cancelled) {
    int length = Math.toIntExact(last - first + 1);
    try (ResponseInputStream<GetObjectResponse> in =
        control.getObject(b -> b.bucket(bucket).key(key).range("bytes=" + first + "-" + last))) {
      int at = 0;
      while (at < length) {
        if (cancelled.getAsBoolean()) {
          // Closing would drain the rest of the range; aborting drops the connection instead.
          in.abort();
          throw new CancellationException("reading " + key + " was cancelled");
        }
        int n = in.read(into, offset + at, length - at);
        if (n < 0) {
          throw new UnknownException("reading " + key + ": bytes " + first + "-" + last
              + " ended after " + at + " bytes");
        }
        at += n;
      }
    } catch (SdkException | IOException e) {
      throw translate("reading " + key, e);
    }
  }

  /** Calls {@code fn} with every key under {@code prefix}, page by page (ListObjectsV2). */
  void list(String prefix, Consumer<String> fn) {
    listObjects(prefix, object -> fn.accept(object.key()));
  }

  /** Calls {@code fn} with every object under {@code prefix}, with its size and time. */
  void listObjects(String prefix, Consumer<S3Object> fn) {
    try {
      for (var page : control.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix))) {
        page.contents().forEach(fn);
      }
    } catch (SdkException e) {
      throw translate("listing " + prefix, e);
    }
  }

  /** Waits for an asynchronous request, translating its failure. */
  static <T> T join(CompletableFuture<T> future, String what) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new AbortedException("interrupted while " + what, e);
    } catch (ExecutionException | CancellationException e) {
      throw translate(what, e);
    }
  }

  /**
   * The store's exception for a failure of {@code what}: the one place SDK exceptions are mapped.
   * 404 is NotFound, 401/403 PermissionDenied, a 409 or 412 that outlived the retries Aborted, and
   * every other failure (after the SDK's retries) Unknown.
   */
  static StoreException translate(String what, Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StoreException store) {
      return store;
    }
    int status = status(t);
    String message = what + ": " + t.getMessage();
    return switch (status) {
      case 404 -> new NotFoundException(message, t);
      case 401, 403 -> new PermissionDeniedException(message, t);
      case 409, PRECONDITION_FAILED -> new AbortedException(message, t);
      // Throttling and server errors the SDK's retries did not outlast: try again later.
      case 429, 500, 502, 503, 504 -> new UnavailableException(message, t);
      case 0 -> isTransient(t) ? new UnavailableException(message, t)
          : new UnknownException(message, t);
      default -> new UnknownException(message, t);
    };
  }

  /**
   * Whether a failure without an HTTP answer is the network's (a reset, a refused or timed-out
   * connection, no response): the request may or may not have reached S3, and a later attempt
   * may succeed.
   */
  private static boolean isTransient(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IOException || c instanceof ApiCallTimeoutException
          || c instanceof ApiCallAttemptTimeoutException) {
        return true;
      }
    }
    return false;
  }

  /** The HTTP status of a service error, or 0. */
  static int status(Throwable t) {
    Throwable c = t;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof AwsServiceException service) {
      return service.statusCode();
    }
    return 0;
  }

  static boolean isPreconditionFailed(Throwable t) {
    return status(t) == PRECONDITION_FAILED;
  }

  static byte[] sha256(byte[] bytes, int offset, int length) {
    MessageDigest hasher = dev.coffer.store.DigestAlgorithm.SHA256.newHasher();
    hasher.update(bytes, offset, length);
    return hasher.digest();
  }

  /** The CRC32C of the bytes as S3 spells it: the four big-endian bytes in base64. */
  static String crc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return base64(ByteBuffer.allocate(Integer.BYTES).putInt((int) crc.getValue()).array());
  }

  static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  private static List<Tag> tagSet(Map<String, String> tags) {
    return tags.entrySet().stream()
        .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
        .collect(Collectors.toList());
  }

  /** Reads a stream to its end into {@code hasher} and, if {@code copy} is not null, into it. */
  static long drain(InputStream in, MessageDigest hasher, java.io.ByteArrayOutputStream copy)
      throws IOException {
    byte[] buffer = new byte[1 << 16];
    long total = 0;
    int n;
    while ((n = in.read(buffer)) >= 0) {
      hasher.update(buffer, 0, n);
      if (copy != null) {
        copy.write(buffer, 0, n);
      }
      total += n;
    }
    return total;
  }
}
