package dev.coffer.benchmarks.macro;

import java.util.Map;

/**
 * One measured run of one contender.
 *
 * @param caseId the case, e.g. {@code ingest}
 * @param server the server it ran against, or {@code local}
 * @param contender who ran
 * @param round the round, from 1
 * @param seconds wall-clock time of the run; NaN if it failed
 * @param bytes bytes moved (or blobs, for the small-blob and walk cases)
 * @param requests S3 requests of the run, or -1 where they could not be counted
 * @param error why the run failed, or empty
 * @param byOperation the run's S3 requests by operation (the SDK's names); empty where they
 *     could not be counted or there were none
 */
record Sample(String caseId, String server, String contender, int round, double seconds,
    long bytes, long requests, String error, Map<String, Long> byOperation) {

  Sample {
    byOperation = Map.copyOf(byOperation);
  }

  /** A sample whose requests were not told apart by operation. */
  Sample(String caseId, String server, String contender, int round, double seconds, long bytes,
      long requests, String error) {
    this(caseId, server, contender, round, seconds, bytes, requests, error, Map.of());
  }

  boolean ok() {
    return error.isEmpty();
  }
}
