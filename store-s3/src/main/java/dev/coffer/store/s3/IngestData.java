package dev.coffer.store.s3;

/**
 * The object holding every byte a writer wrote, as made durable (INT-1): its key, ETag, the
 * ingest generation it was written in, and its length.
 */
record IngestData(String key, String etag, long generation, long length) {}
