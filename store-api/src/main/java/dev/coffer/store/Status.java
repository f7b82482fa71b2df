package dev.coffer.store;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The state of one ingest (an uncommitted write identified by its ref).
 *
 * @param ref the ingest's ref
 * @param offset the number of bytes written so far
 * @param total the expected total size, 0 if unknown
 * @param expected the expected digest, or null if unknown
 * @param startedAt when the ingest was first opened; never changes while the ingest exists
 * @param updatedAt when bytes were last written (equal to startedAt at first)
 */
public record Status(
    String ref, long offset, long total, Digest expected, Instant startedAt, Instant updatedAt) {

  public Status {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    if (offset < 0 || total < 0) {
      throw new InvalidArgumentException(
          "invalid status of ref \"" + ref + "\": offset " + offset + ", total " + total);
    }
  }

  /** The expected digest, if known. */
  public Optional<Digest> expectedDigest() {
    return Optional.ofNullable(expected);
  }
}
