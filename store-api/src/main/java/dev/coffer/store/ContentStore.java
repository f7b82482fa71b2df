package dev.coffer.store;

/**
 * A content-addressable blob store: containerd's content store (manage, read, ingest) plus reference
 * counts and links between blobs, garbage collection and consistency checks. Implementations are
 * thread-safe; instances on several hosts over one backing bucket see one store.
 */
public interface ContentStore extends Manager, Provider, IngestManager, Ingester, ReferenceCounter,
    Maintenance, AutoCloseable {

  /**
   * Draws an operation of {@link ReferenceCounter#linkNew} from {@code from} before its targets
   * are stored: content put through it is created holding the reference of its link ({@link
   * NewLinks}). The default, for a store whose {@code linkNew} is one change, puts without a
   * reference and links by a plain {@code linkNew}. A store may draw from what it last knew of
   * {@code from} without reading it (the S3 store, from the version of its record it last wrote):
   * if {@code from} was deleted or committed anew by another host since, the draw succeeds and
   * the operation's {@link NewLinks#link} is NotFound, as for a {@code from} deleted after the
   * draw.
   *
   * @throws NotFoundException if {@code from} is not live, as far as the store knows
   */
  default NewLinks newLinks(Digest from) {
    info(from);
    return new PlainNewLinks(this, from);
  }

  /** Releases the store's clients and threads; idempotent. Open writers and readers fail afterwards. */
  @Override
  void close();
}
