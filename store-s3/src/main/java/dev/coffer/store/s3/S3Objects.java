package dev.coffer.store.s3;

import dev.coffer.store.StoreException;
import dev.coffer.store.UnknownException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.SdkPlugin;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.S3Request;
import software.amazon.awssdk.services.s3.model.Tagging;

/**
 * The S3 requests the store makes, on one bucket. The control client carries small records and
 * metadata requests, and reads; the bulk client carries parts and part copies. Multipart
 * requests are {@link S3Uploads}', tags {@link ObjectTagging}'s (with its fallback to none) and
 * the checksums bodies carry {@link BodyChecksums}'; SDK exceptions become the store's in
 * {@link S3Errors}. Transport
 * failures, throttling and 409 conflicts have been retried by the SDK's retry strategy before they
 * get here (except for {@link #deleteOnce}, a single attempt); a 412 of a conditional request is
 * an answer, returned as null by the methods that make one.
 *
 * <p>Thread-safe.
 */
final class S3Objects {

  private static final int PRECONDITION_FAILED = S3Errors.PRECONDITION_FAILED;
  /** Turns the SDK's retries off for the one request that carries it (see {@link #deleteOnce}). */
  private static final SdkPlugin SINGLE_ATTEMPT = config -> config.overrideConfiguration(
      c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()));

  private final S3Client control;
  /** The control client without retries, or null: such requests then carry SINGLE_ATTEMPT. */
  private final Supplier<S3Client> singleAttempt;
  private final Supplier<S3AsyncClient> bulk;
  private final String bucket;
  private final S3StoreConfig.ChecksumMode checksums;
  private final S3Uploads uploads;
  private final ObjectTagging tagging;

  /**
   * @param singleAttempt the control client's twin without retries (same HTTP client, same
   *     interceptors), or null to send single attempts through {@code control} with a plugin
   * @param objectTags false if the server is known to have no object tagging
   * @param onNoObjectTags run once if the server is found to have none
   */
  S3Objects(S3Client control, Supplier<S3Client> singleAttempt, Supplier<S3AsyncClient> bulk,
      String bucket, S3StoreConfig.ChecksumMode checksums, boolean objectTags,
      Runnable onNoObjectTags) {
    this.control = control;
    this.singleAttempt = singleAttempt;
    this.bulk = bulk;
    this.bucket = bucket;
    this.checksums = checksums;
    this.uploads = new S3Uploads(control, bulk, bucket, checksums);
    this.tagging = new ObjectTagging(control, bucket, objectTags, onNoObjectTags);
  }

  /**
   * The client that sends {@code request} with one attempt: the single-attempt twin, or the
   * control client with retries turned off for this request by a plugin (which makes the SDK
   * rebuild its configuration for the request).
   */
  private S3Client once(S3Request.Builder request) {
    if (singleAttempt != null) {
      return singleAttempt.get();
    }
    request.overrideConfiguration(o -> o.addPlugin(SINGLE_ATTEMPT));
    return control;
  }

  /**
   * Aborts a multipart upload to a blob key that failed before its completion was sent, unless
   * the key holds an object (stored by another host meanwhile): S3 keeps that object, but some
   * servers (S3Mock) delete it with the upload. An upload left so is gc's. A failure of the abort
   * is added to {@code failure}.
   */
  void abortUnlessStored(String key, String uploadId, Throwable failure) {
    try {
      if (!exists(key)) {
        uploads().abortUpload(key, uploadId);
      }
    } catch (RuntimeException secondary) {
      failure.addSuppressed(secondary);
    }
  }

  /** The multipart requests on the same bucket and clients. */
  S3Uploads uploads() {
    return uploads;
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
      if (S3Errors.status(e) == 404) {
        return null;
      }
      throw S3Errors.translate("reading " + key, e);
    }
  }

  /** A stream of the whole object; the caller closes it. */
  InputStream stream(String key) {
    try {
      return control.getObject(b -> b.bucket(bucket).key(key));
    } catch (SdkException e) {
      throw S3Errors.translate("reading " + key, e);
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
      if (S3Errors.status(e) == 404) {
        return null;
      }
      throw S3Errors.translate("looking up " + key, e);
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
      if (S3Errors.status(e) == 404) {
        return null;
      }
      throw S3Errors.translate("looking up " + key, e);
    }
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
    PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(bucket).key(key)
        .ifNoneMatch(etag == null ? "*" : null).ifMatch(etag);
    S3Client client = once(request);
    BodyChecksums.addTo(request, checksums, bytes, bytes.length, null);
    try {
      return new Attempt(client.putObject(request.build(), RequestBody.fromBytes(bytes)).eTag(),
          null, false);
    } catch (SdkException e) {
      int status = S3Errors.status(e);
      if (status == PRECONDITION_FAILED || (etag != null && status == 404)) {
        return new Attempt(null, null, false);
      }
      StoreException failure = S3Errors.translate("writing " + key, e);
      return switch (status) {
        // ConditionalRequestConflict, and throttling: S3 refused it without applying it.
        case 409, 429, 503 -> new Attempt(null, failure, false);
        case 0 -> {
          if (!S3Errors.isTransient(e)) {
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
    Tagging tagged = tagging.forWrite(tags);
    if (tagged != null) {
      request.tagging(tagged);
    }
    BodyChecksums.addTo(request, checksums, bytes, length, sha256);
    try {
      String etag = control.putObject(request.build(), RequestBody.fromByteBuffer(
          ByteBuffer.wrap(bytes, 0, length))).eTag();
      if (tagged != null) {
        tagging.tagged();
      }
      return etag;
    } catch (SdkException e) {
      int status = S3Errors.status(e);
      if (status == PRECONDITION_FAILED || (ifMatch != null && status == 404)) {
        return null;
      }
      if (tagged != null && tagging.refusedWrite(key, status, e)) {
        return put(key, bytes, length, sha256, Map.of(), ifNoneMatch, ifMatch);
      }
      throw S3Errors.translate("writing " + key, e);
    }
  }

  /** Deletes the object; a missing object is no error. */
  void delete(String key) {
    try {
      control.deleteObject(b -> b.bucket(bucket).key(key));
    } catch (SdkException e) {
      if (S3Errors.status(e) != 404) {
        throw S3Errors.translate("deleting " + key, e);
      }
    }
  }

  /**
   * Deletes the object with one attempt: sent through the store's client without retries, or,
   * on a client the caller built, with the SDK's retry strategy replaced for this request alone
   * (a per-request plugin; {@link #once}). For a delete
   * that must reach S3 at most once: a retry after an answer that was lost would delete an object
   * stored again between the first attempt, which S3 applied, and the retry. A failure leaves
   * its outcome unknown (the object may be gone or not), and the caller must not send it again.
   */
  void deleteOnce(String key) {
    try {
      DeleteObjectRequest.Builder request = DeleteObjectRequest.builder().bucket(bucket).key(key);
      once(request).deleteObject(request.build());
    } catch (SdkException e) {
      if (S3Errors.status(e) != 404) {
        throw S3Errors.translate("deleting " + key + " (one attempt)", e);
      }
    }
  }

  /** Deletes the object only if it still has {@code etag}; false on 412 or if it is gone. */
  boolean deleteIfMatch(String key, String etag) {
    try {
      control.deleteObject(b -> b.bucket(bucket).key(key).ifMatch(etag));
      return true;
    } catch (SdkException e) {
      int status = S3Errors.status(e);
      if (status == PRECONDITION_FAILED || status == 404) {
        return false;
      }
      throw S3Errors.translate("deleting " + key, e);
    }
  }

  /** Copies an object of at most 5 GiB with one CopyObject. */
  void copy(String source, String target) {
    try {
      control.copyObject(b -> b.sourceBucket(bucket).sourceKey(source)
          .destinationBucket(bucket).destinationKey(target));
    } catch (SdkException e) {
      throw S3Errors.translate("copying " + source + " to " + target, e);
    }
  }

  /** The object's tags (none on a server without tagging), or null if there is no object. */
  Map<String, String> tags(String key) {
    return tagging.tags(key, this::exists);
  }

  /** Whether the server is still believed to support object tagging. */
  boolean tagging() {
    return tagging.supported();
  }

  /**
   * Replaces the object's tags. Not conditional: tags only mirror the index record. A no-op on a
   * server without object tagging.
   */
  void putTags(String key, Map<String, String> tags) {
    tagging.put(key, tags);
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
      throw S3Errors.translate("reading " + key, e);
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
      throw S3Errors.translate("reading " + key, e);
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
      throw S3Errors.translate("listing " + prefix, e);
    }
  }
}
