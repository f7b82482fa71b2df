package dev.coffer.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.store.Content;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Hosts of one store for the reference-count tests: store instances on one bucket and prefix,
 * each with its own clients, plus a plain S3 client to look at the keys of docs/architecture.md ("The S3 store").
 * Closes everything it opened.
 */
final class RefCountHosts implements AutoCloseable {
  /** Multiplies the operation counts of the reference-count tests (system property). */
  static final double SCALE = Double.parseDouble(System.getProperty("coffer.it.scale", "1"));

  final String bucket;
  final String prefix;
  final S3Client plain;
  private final List<AutoCloseable> opened = new ArrayList<>();

  RefCountHosts() {
    this.bucket = S3Mock.get().newBucket();
    this.prefix = S3Mock.newPrefix();
    this.plain = S3Mock.get().client();
  }

  /** {@code base} times the scale, at least 1. */
  static int scaled(int base) {
    return (int) Math.max(1, Math.round(base * SCALE));
  }

  /** Registers {@code closeable} to be closed with the hosts; returns it. */
  <T extends AutoCloseable> T own(T closeable) {
    opened.add(closeable);
    return closeable;
  }

  String blobKey(Digest digest) {
    return prefix + "blobs/" + digest.algorithm().label() + "/" + digest.hex();
  }

  String indexKey(Digest digest) {
    return prefix + "index/" + digest.algorithm().label() + "/" + digest.hex();
  }

  boolean exists(String key) {
    try {
      plain.headObject(b -> b.bucket(bucket).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    }
  }

  /** Writes {@code bytes} under {@code ref} and commits them taking one reference. */
  static Info commitAndRef(ContentStore store, String ref, byte[] bytes,
      Map<String, String> labels) {
    try (Writer writer = store.writer(ref, Descriptor.UNKNOWN)) {
      writer.write(bytes);
      return writer.commitAndRef(0, null, labels);
    }
  }

  /** Reads the blob through {@code store} and checks both its bytes and their digest. */
  static void assertReadable(ContentStore store, Digest digest, byte[] expected) {
    byte[] read = Content.readBlob(store, Descriptor.of(digest));
    assertThat(Digest.of(read)).as("digest of the bytes read for %s", digest).isEqualTo(digest);
    assertThat(read).as("bytes of %s", digest).isEqualTo(expected);
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        RuntimeException wrapped = e instanceof RuntimeException r ? r : new RuntimeException(e);
        if (failure == null) {
          failure = wrapped;
        } else {
          failure.addSuppressed(wrapped);
        }
      }
    }
    plain.close();
    if (failure != null) {
      throw failure;
    }
  }
}
