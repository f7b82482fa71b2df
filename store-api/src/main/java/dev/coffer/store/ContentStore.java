package dev.coffer.store;

/**
 * A content-addressable blob store: containerd's content store (manage, read, ingest) plus reference
 * counts and links between blobs, garbage collection and consistency checks. Implementations are
 * thread-safe; instances on several hosts over one backing bucket see one store.
 */
public interface ContentStore extends Manager, Provider, IngestManager, Ingester, ReferenceCounter,
    Maintenance, AutoCloseable {

  /** Releases the store's clients and threads; idempotent. Open writers and readers fail afterwards. */
  @Override
  void close();
}
