package dev.coffer.store;

import dev.coffer.store.spi.Checks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The default {@link Ingester#put}, {@link Ingester#putAndRef}, {@link Ingester#putFile} and
 * {@link Ingester#putFileAndRef}: a writer on a derived ref.
 */
final class Puts {

  private static final Duration LOCK_WAIT = Duration.ofMinutes(1);

  private Puts() {}

  static Info put(Ingester ingester, byte[] content, Digest expected, Map<String, String> labels,
      boolean takeRef) {
    Digest actual = Checks.put(content, expected, labels);
    String ref = "put-" + actual.algorithm().label() + "-" + actual.hex();
    // No digest at open: commitAndRef of existing content must take a reference, not fail there.
    try (Writer writer = Content.openWriter(ingester, ref, new Descriptor(null, content.length),
        LOCK_WAIT)) {
      if (writer.status().offset() != 0) {
        writer.truncate(0); // bytes an interrupted put of the same content left behind
      }
      writer.write(content);
      if (takeRef) {
        return writer.commitAndRef(content.length, actual, labels);
      }
      writer.commit(content.length, actual, labels);
    }
    if (ingester instanceof Manager manager) {
      return manager.info(actual);
    }
    Map<String, String> kept = new TreeMap<>(labels == null ? Map.of() : labels);
    kept.values().removeIf(String::isEmpty);
    Instant now = Instant.now();
    return new Info(actual, content.length, now, now, kept, 0, null);
  }

  static Info putFile(Ingester ingester, Path file, Digest expected, Map<String, String> labels,
      boolean takeRef) throws IOException {
    java.util.Objects.requireNonNull(file, "file");
    if (expected == null) {
      throw new InvalidArgumentException("a put of file " + file + " needs its digest");
    }
    dev.coffer.store.spi.Labels.validate(labels);
    String ref = "put-" + expected.algorithm().label() + "-" + expected.hex();
    // With a reference, existing content takes one more: no digest at open, where it would fail.
    Descriptor descriptor = takeRef ? new Descriptor(null, 0) : new Descriptor(expected, 0);
    long size;
    try (Writer writer = Content.openWriter(ingester, ref, descriptor, LOCK_WAIT);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      if (writer.status().offset() != 0) {
        writer.truncate(0);
      }
      ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
      while (channel.read(buffer) >= 0) {
        buffer.flip();
        writer.write(buffer);
        buffer.clear();
      }
      size = writer.status().offset();
      try {
        if (takeRef) {
          return writer.commitAndRef(size, expected, labels);
        }
        writer.commit(size, expected, labels);
      } catch (FailedPreconditionException e) {
        // The bytes read are not those hashed: nobody can resume this ingest usefully.
        try {
          writer.close();
          if (ingester instanceof IngestManager manager) {
            manager.abort(ref);
          }
        } catch (StoreException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      }
    }
    if (ingester instanceof Manager manager) {
      return manager.info(expected);
    }
    Map<String, String> kept = new TreeMap<>(labels == null ? Map.of() : labels);
    kept.values().removeIf(String::isEmpty);
    Instant now = Instant.now();
    return new Info(expected, size, now, now, kept, 0, null);
  }
}
