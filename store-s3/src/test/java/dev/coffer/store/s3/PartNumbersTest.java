package dev.coffer.store.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.coffer.s3sim.Operation;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.Writer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A writer's part numbers follow from the offsets of the parts' first bytes (INT-1): a resumed
 * ingest's prefix copies come first, then one part per {@code partSize} bytes after the prefix,
 * the tail last.
 */
class PartNumbersTest extends SimStoreTestBase {

  @Test
  void partsAreNumberedByOffsetAfterThePrefixCopies() {
    List<String> sent = new CopyOnWriteArrayList<>();
    sim().network().interceptor(e -> {
      if (e.operation() == Operation.UPLOAD_PART || e.operation() == Operation.UPLOAD_PART_COPY) {
        sent.add((e.operation() == Operation.UPLOAD_PART ? "part " : "copy ")
            + e.request().query("partNumber"));
      }
      e.proceed();
    });
    ContentStore store = open("h", config().copyPartSize(5 * MIB).build());
    byte[] content = random(22 * MIB, 3);

    try (Writer first = store.writer("numbers", Descriptor.UNKNOWN)) {
      first.write(ByteBuffer.wrap(content, 0, 12 * MIB)); // two 5 MiB parts, 2 MiB buffered
    } // the tail is part 3
    assertThat(sent).containsExactlyInAnyOrder("part 1", "part 2", "part 3");
    sent.clear();

    Digest digest;
    try (Writer second = store.writer("numbers", Descriptor.UNKNOWN)) {
      second.write(ByteBuffer.wrap(content, 12 * MIB, 10 * MIB));
      digest = second.digest();
      second.commit(content.length, null, Map.of());
    }
    // 12 MiB of prefix in two copies of 6 MiB, then bytes 12..17 MiB and 17..22 MiB.
    assertThat(sent).containsExactlyInAnyOrder("copy 1", "copy 2", "part 3", "part 4");
    assertThat(read(store, digest)).isEqualTo(content);
  }
}
