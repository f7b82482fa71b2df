package dev.coffer.store.tree;

/**
 * Progress of one {@link Trees} operation: a tree's put or get, or a batch of files. Every method
 * has a no-op default. Calls come from the operation's worker threads, concurrently: an
 * implementation must be thread-safe, must not block, and should not throw (a failure it throws is
 * logged and ignored; it never fails the operation).
 */
public interface TransferListener {

  /** No progress reported. */
  TransferListener NONE = new TransferListener() {};

  /**
   * Called once, before any file moves, with the files and their bytes the operation covers
   * (entries that are not regular files do not count).
   */
  default void started(long files, long bytes) {}

  /**
   * Called once per file when it is done, with its size and whether it was transferred (uploaded
   * by a put, written by a get) rather than found already there.
   */
  default void fileDone(long bytes, boolean transferred) {}
}
