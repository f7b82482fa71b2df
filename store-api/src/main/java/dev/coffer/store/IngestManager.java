package dev.coffer.store;

import java.util.List;

/** Inspects and cancels ingests (containerd's {@code IngestManager}). */
public interface IngestManager {

  /**
   * The status of the ingest {@code ref}, whether or not a writer has it open.
   *
   * @throws NotFoundException if no ingest has that ref
   */
  Status status(String ref);

  /**
   * The status of every ingest matching any of {@code filters} (field {@code ref}); none: all.
   *
   * @throws InvalidArgumentException if a filter does not parse
   */
  List<Status> listStatuses(String... filters);

  /**
   * Cancels the ingest {@code ref} and removes everything it stored.
   *
   * @throws NotFoundException if no ingest has that ref
   * @throws UnavailableException if a writer has the ref open
   */
  void abort(String ref);
}
