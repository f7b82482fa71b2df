package dev.coffer.store.tree;

import dev.coffer.store.Digest;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One file of a batch ({@link Trees#putFiles}, {@link Trees#getBlobs}).
 *
 * @param path the local file: the one read by a put, the one written by a get
 * @param digest its content's digest
 * @param size its bytes
 * @param transferred whether it was uploaded (put) or written (get), rather than found already
 *     stored or already present with the right digest
 */
public record FileTransfer(Path path, Digest digest, long size, boolean transferred) {
  public FileTransfer {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(digest, "digest");
    if (size < 0) {
      throw new IllegalArgumentException("size must not be negative: " + size);
    }
  }
}
