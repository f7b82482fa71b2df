package dev.coffer.store.grpc;

import dev.coffer.store.Status;

/**
 * Keeps one server's ingests apart from those of other servers on the same store: containerd's refs
 * ({@code <namespace>/<sequence>/<ref>}) repeat from host to host, and its garbage collector aborts
 * every ingest that ListStatuses shows and its own metadata does not know. In the store a ref is
 * prefixed with the holder id; containerd sees only its own ingests, with its own refs.
 *
 * @param prefix what a ref gets in the store; empty for none
 */
record IngestScope(String prefix) {

  /** No scope: containerd's refs are the store's refs. */
  static final IngestScope NONE = new IngestScope("");

  static IngestScope of(String holderId) {
    return new IngestScope(holderId + "/");
  }

  /** The store's ref for containerd's {@code ref}; an empty ref stays empty (and invalid). */
  String toStore(String ref) {
    return ref.isEmpty() ? ref : prefix + ref;
  }

  /** Whether the store's ingest {@code status} belongs to this scope. */
  boolean contains(Status status) {
    return status.ref().startsWith(prefix);
  }

  /** The store's {@code status} with containerd's ref. */
  Status fromStore(Status status) {
    return new Status(status.ref().substring(prefix.length()), status.offset(), status.total(),
        status.expected(), status.startedAt(), status.updatedAt());
  }
}
