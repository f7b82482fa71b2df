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

  /**
   * Opens a positional reader on a blob the caller knows to be held: one whose live record it has
   * just read ({@code info}), or that such a blob links to (a tree's file while the tree lives),
   * given with its size. A store may then skip {@link #readerAt(Descriptor)}'s lookup and read the
   * bytes at once (the S3 store: one GET, no record read, so the read is not recorded as a use);
   * the bytes are verified as any read's are. Without a size in the descriptor it is
   * {@code readerAt}. A blob whose bytes are gone after all fails with {@link NotFoundException},
   * possibly only at the first read.
   *
   * @throws NotFoundException if no blob has that digest
   * @throws InvalidArgumentException if the descriptor has no digest
   */
  default ReaderAt readerAtHeld(Descriptor descriptor) {
    return readerAt(descriptor);
  }

  /** Opens a positional reader on the blob {@code digest}; see {@link #readerAt(Descriptor)}. */
  default ReaderAt readerAt(Digest digest) {
    return readerAt(Descriptor.of(digest));
  }
}
