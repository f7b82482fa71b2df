package dev.coffer.store;

/** Reads committed blobs (containerd's {@code Provider}). */
public interface Provider {

  /**
   * Opens a positional reader on the blob named by {@code descriptor.digest()}; the size in the
   * descriptor is not checked. A reader opened before the blob is deleted may finish reading it; a
   * caching store may open readers on a blob deleted through another instance for at most its
   * configured info time-to-live.
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
