package dev.coffer.store.s3;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.Tagging;

/**
 * The object tags of one bucket, and whether its server has object tagging at all. Tags only
 * mirror the index records, so a server that answers a tagging request with 501 Not Implemented
 * (some S3-compatible servers do) is remembered as having none, logged once, and the store goes on
 * without tags: reads then show none, writes of tags are no-ops, and {@link S3Objects}' tagged
 * writes are sent again untagged.
 *
 * <p>Thread-safe.
 */
final class ObjectTagging {

  private static final Logger LOG = LoggerFactory.getLogger(ObjectTagging.class);
  static final int NOT_IMPLEMENTED = 501;

  private final S3Client control;
  private final String bucket;
  /** False once the server answered a tagging request with 501 Not Implemented. */
  private volatile boolean supported;
  /** True once a write with tags succeeded: the server has object tagging. */
  private volatile boolean works;

  /** Told once when the server is found to have no object tagging. */
  private final Runnable onUnsupported;

  /**
   * @param supported false if the server is known to have no object tagging: nothing is asked of
   *     it, nothing is logged
   * @param onUnsupported run once if a store that believed in tagging finds the server has none
   */
  ObjectTagging(S3Client control, String bucket, boolean supported, Runnable onUnsupported) {
    this.control = control;
    this.bucket = bucket;
    this.supported = supported;
    this.onUnsupported = onUnsupported;
  }

  /** Whether the server is still believed to support object tagging. */
  boolean supported() {
    return supported;
  }

  /** {@code tags} as a write's tagging, or null to write untagged (no tags, or no tagging). */
  Tagging forWrite(Map<String, String> tags) {
    return supported && !tags.isEmpty() ? Tagging.builder().tagSet(tagSet(tags)).build() : null;
  }

  /** Records that a write carrying tags succeeded: the server has object tagging. */
  void tagged() {
    works = true;
  }

  /**
   * Whether a tagged write to {@code key} that failed with {@code status} (0: without an answer,
   * every attempt) met a server without object tagging, which is then remembered. Such a server
   * may refuse the tagging header before reading the body and close the connection, so a client
   * still sending a large body sees a broken pipe, never the 501; a tagging request without a body
   * gets the 501 through. Asked only until a tagged write succeeds; a failure of that request is
   * added to {@code failure}.
   */
  boolean refusedWrite(String key, int status, SdkException failure) {
    if (status == NOT_IMPLEMENTED || (status == 0 && refused(key, failure))) {
      unsupported(failure);
      return true;
    }
    return false;
  }

  private boolean refused(String key, SdkException failure) {
    if (works) {
      return false;
    }
    try {
      control.getObjectTagging(b -> b.bucket(bucket).key(key));
      works = true;
      return false;
    } catch (SdkException e) {
      if (S3Errors.status(e) == NOT_IMPLEMENTED) {
        return true;
      }
      failure.addSuppressed(e);
      return false;
    }
  }

  /** Remembers that the server has no object tagging; logs it once per store. */
  private synchronized void unsupported(SdkException e) {
    if (supported) {
      supported = false;
      try {
        onUnsupported.run();
      } catch (RuntimeException ignored) {
        // Only a hint for stores opened later: this one goes on untagged either way.
      }
      LOG.warn("bucket {} does not support object tagging (501); blobs are stored without the "
          + "tags that mirror their index records: {}", bucket, e.getMessage());
      LOG.debug("the refused tagging request", e);
    }
  }

  /**
   * The object's tags (none on a server without tagging), or null if there is no object, as
   * {@code exists} says where tags cannot be read.
   */
  Map<String, String> tags(String key, Predicate<String> exists) {
    if (!supported) {
      return exists.test(key) ? Map.of() : null;
    }
    try {
      Map<String, String> tags = new TreeMap<>();
      control.getObjectTagging(b -> b.bucket(bucket).key(key)).tagSet()
          .forEach(t -> tags.put(t.key(), t.value()));
      return tags;
    } catch (NoSuchKeyException e) {
      return null;
    } catch (SdkException e) {
      if (S3Errors.status(e) == 404) {
        return null;
      }
      if (S3Errors.status(e) == NOT_IMPLEMENTED) {
        unsupported(e);
        return exists.test(key) ? Map.of() : null;
      }
      throw S3Errors.translate("reading the tags of " + key, e);
    }
  }

  /**
   * Replaces the object's tags. Not conditional: tags only mirror the index record. A no-op on a
   * server without object tagging.
   */
  void put(String key, Map<String, String> tags) {
    if (!supported) {
      return;
    }
    try {
      control.putObjectTagging(b -> b.bucket(bucket).key(key)
          .tagging(t -> t.tagSet(tagSet(tags))));
    } catch (SdkException e) {
      if (S3Errors.status(e) == NOT_IMPLEMENTED) {
        unsupported(e);
        return;
      }
      throw S3Errors.translate("tagging " + key, e);
    }
  }

  private static List<Tag> tagSet(Map<String, String> tags) {
    return tags.entrySet().stream()
        .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build())
        .collect(Collectors.toList());
  }
}
