package dev.coffer.store;

import dev.coffer.store.spi.Checks;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/** The default {@link Ingester#put} and {@link Ingester#putAndRef}: a writer on a derived ref. */
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
}
