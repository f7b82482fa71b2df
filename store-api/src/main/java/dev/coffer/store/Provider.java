package dev.coffer.store;

/** Reads committed blobs (containerd's {@code Provider}). */
public interface Provider {

  /**
   * Opens a positional reader on the blob named by {@code descriptor.digest()}; the size in the
   * descriptor is not checked.
   *
   * @throws NotFoundException if no blob has that digest
   * @throws InvalidArgumentException if the descriptor has no digest
   */
  ReaderAt readerAt(Descriptor descriptor);

  /** Opens a positional reader on the blob {@code digest}; see {@link #readerAt(Descriptor)}. */
  default ReaderAt readerAt(Digest digest) {
    return readerAt(Descriptor.of(digest));
  }
}
