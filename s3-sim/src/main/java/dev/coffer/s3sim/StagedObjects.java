package dev.coffer.s3sim;

import dev.coffer.s3sim.Storage.StoredObject;

/**
 * A {@link Storage} that can write an object ahead of the decision to store it, so that the slow
 * part of a durable PutObject (on disk: the file written and forced) runs before the server takes
 * its lock and PUTs of different objects overlap; under the lock remain only the decision (the
 * bucket, the conditions) and the publication, which is quick and atomic (on disk: a rename and
 * the index in memory). A storage without it, {@link MemoryStorage}, is written under the lock as
 * before.
 */
interface StagedObjects {

  /**
   * Writes {@code object} where no reader sees it, ready to be published by {@link
   * #putObject(String, StoredObject, Staged)}. Unlike the storage's other methods this one is
   * thread-safe and is called without the server's lock, alongside any of them; it reads no state
   * of the storage, so it needs no bucket: the decision comes later.
   *
   * @return the staged write, which the caller must close
   * @throws java.io.UncheckedIOException if it cannot be written (then nothing is left behind)
   */
  Staged stage(StoredObject object);

  /**
   * Stores {@code object} at its key, replacing any there, as {@link Storage#putObject} does:
   * by publishing {@code staged} if it holds this very object (same description and bytes), else
   * by writing it anew (the time of the decision may differ from the time staged). Called under
   * the server's lock.
   */
  void putObject(String bucket, StoredObject object, Staged staged);

  /** A write staged by {@link #stage}. */
  interface Staged extends AutoCloseable {
    /**
     * Removes what was staged unless it was published. Idempotent; called without the server's
     * lock, before the request is answered.
     *
     * @throws java.io.UncheckedIOException if the staged file cannot be removed
     */
    @Override
    void close();
  }
}
