package dev.coffer.store.s3;

/**
 * One step of an ingest's durable state: from its record and the object now holding the writer's
 * bytes (or none) to the record that names that object, the object it no longer names, and the
 * prefix a resumed upload would copy. Pure: the caller writes the record (a compare-and-swap on
 * the lease), then deletes the obsolete object.
 *
 * @param next the record naming {@code data}, its lease and identity as before
 * @param obsoleteKey the object the record named before and no longer does, to delete; or null
 * @param prefixKey the object a resumed upload starts from by server-side copies: the new data
 *     if it is at least one part (S3's 5 MiB minimum), else null (its bytes are re-sent)
 */
record IngestStep(IngestRecord next, String obsoleteKey, String prefixKey) {

  /**
   * The step that points {@code current} at {@code data}, which holds exactly {@code offset}
   * bytes written up to {@code updatedAt}; a null {@code data} means no bytes at all.
   */
  static IngestStep toData(IngestRecord current, IngestData data, long offset, long updatedAt) {
    IngestRecord next = data == null
        ? current.withData(0, updatedAt, current.generation(), null, null)
        : current.withData(offset, updatedAt, data.generation(), data.key(), data.etag());
    String old = current.dataKey();
    String obsolete = old != null && (data == null || !old.equals(data.key())) ? old : null;
    String prefix = data == null || offset < S3Store.minPart() ? null : data.key();
    return new IngestStep(next, obsolete, prefix);
  }

  /**
   * Whether persisting changes the record: the bytes differ from those it names ({@code dirty}),
   * or it names an object though nothing was written.
   */
  static boolean changes(IngestRecord current, IngestData data, boolean dirty) {
    return dirty || data == null && current.dataKey() != null;
  }
}
