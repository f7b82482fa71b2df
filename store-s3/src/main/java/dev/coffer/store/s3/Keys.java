package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The key layout under the store's prefix {@code P/}:
 * <pre>
 * P/blobs/&lt;alg&gt;/&lt;hex&gt;              committed content, immutable
 * P/index/&lt;alg&gt;/&lt;hex&gt;              the blob's index record (JSON), the truth about it
 * P/ingest/&lt;sha256(ref)&gt;/state      the ingest record (JSON) with the ref's lease
 * P/ingest/&lt;sha256(ref)&gt;/data/&lt;n&gt;-&lt;w&gt;
 *                                   generation n of the ingest's bytes (the readable partial),
 *                                   written by writer w
 * </pre>
 * Refs are hashed because they may hold any character, and so that every ref has a key of one
 * length.
 */
final class Keys {
  private final String prefix;

  Keys(String prefix) {
    this.prefix = prefix;
  }

  String blob(Digest digest) {
    return prefix + "blobs/" + digest.algorithm().label() + "/" + digest.hex();
  }

  String index(Digest digest) {
    return prefix + "index/" + digest.algorithm().label() + "/" + digest.hex();
  }

  String indexPrefix() {
    return prefix + "index/";
  }

  String blobPrefix() {
    return prefix + "blobs/";
  }

  /** The digest a key under {@code area} (index or blob prefix) names, or null if none. */
  static Digest digestOf(String area, String key) {
    if (!key.startsWith(area)) {
      return null;
    }
    String rest = key.substring(area.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return null;
    }
    try {
      return Digest.parse(rest.substring(0, slash) + ":" + rest.substring(slash + 1));
    } catch (RuntimeException e) {
      return null;
    }
  }

  String ingestPrefix() {
    return prefix + "ingest/";
  }

  String ingestState(String ref) {
    return ingestDir(ref) + "state";
  }

  boolean isIngestState(String key) {
    return key.startsWith(ingestPrefix()) && key.endsWith("/state");
  }

  /**
   * The key of one generation of an ingest's bytes. The writer's token makes it unique, so a writer
   * that lost its lease can never overwrite the bytes of the one that holds it.
   */
  String ingestData(String ref, long generation, String writerToken) {
    return ingestDir(ref) + "data/" + generation + "-" + writerToken;
  }

  private String ingestDir(String ref) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256")
          .digest(ref.getBytes(StandardCharsets.UTF_8));
      return prefix + "ingest/" + HexFormat.of().formatHex(hash) + "/";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
