package dev.coffer.store.s3;

import dev.coffer.store.Digest;
import dev.coffer.store.Info;
import dev.coffer.store.NewLinks;
import dev.coffer.store.spi.Checks;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;

/**
 * {@link NewLinks} on S3 (the mark at creation, PROTO-13): content below one part that a put
 * creates, and a file of any size that {@link #putFile} creates, gets its index record created
 * with the drawn operation's marked reference in it (count 1) and its object with the tags of
 * that record ({@code refs=1}; a file sent in parts gets them once its record is created);
 * {@link #link} is {@code linkNew} as that operation, whose step 2 such a target skips. A mark no
 * link of the operation consumes is given back by gc or a repair past the bound, after fencing
 * {@code from}, as any mark of a killed {@code linkNew}. Larger content in memory is put as {@link
 * S3Store#put} puts it (through an ingest), and marked by step 2. Thread-safe.
 */
final class CreationMarks implements NewLinks {
  private final S3Store store;
  private final LinkNew linkNew;
  private final LinkNew.Drawn drawn;

  CreationMarks(S3Store store, LinkNew linkNew, LinkNew.Drawn drawn) {
    this.store = store;
    this.linkNew = linkNew;
    this.drawn = drawn;
  }

  @Override
  public Digest from() {
    return drawn.from();
  }

  @Override
  public Info put(byte[] content, Digest expected, Map<String, String> labels) {
    if (content != null && content.length >= store.config.partSize()) {
      return store.put(content, expected, labels);
    }
    store.checkOpen();
    Digest digest = Checks.put(content, expected, labels);
    return new BlobPublisher(store, digest, content.length, BlobPublisher.kept(labels), false,
        () -> { }).markedFor(drawn).storeAndPublish(content, content.length);
  }

  /** As {@link S3Store#putFile} (straight to the digest key, PROTO-12), a record it creates marked. */
  @Override
  public Info putFile(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return store.putDirect(file, expected, labels, false, drawn);
  }

  /**
   * One call at a time: calls of one operation share its marks (a mark of O found on a target is
   * taken as the call's own), so a call giving its marks back while another links on them would
   * leave that link holding no reference.
   */
  @Override
  public synchronized void link(Collection<Digest> to) {
    store.checkOpen();
    linkNew.linkNew(to, drawn);
  }
}
