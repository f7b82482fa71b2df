package dev.coffer.store.s3.check;

/**
 * One run of the checker.
 *
 * @param seed draws the history, the contents, the faults and every store's randomness
 * @param ops how many steps the history has
 * @param hosts how many hosts, each with its own store (at least 4 in the build's runs)
 * @param blobs how many distinct contents the hosts write (few, so that they collide)
 * @param refs how many ingest refs the hosts share
 * @param faults the probability of each network knob (500, 503, 409, lost answer) per request
 * @param deaths the probability that a step's host dies during it
 * @param skewMillis the largest clock skew of a host, either way
 * @param late the probability that a request is applied late, after one to three further
 *     requests of any host, its client having seen a timeout
 * @param large how many of the contents are above one part (5 to 6 MiB), written through
 *     multipart uploads, paused as partial objects and committed by copy
 * @param interleave the probability that another host's whole operation runs in the middle of a
 *     step's, just before one of its first four requests reaches S3 (reference counting, labels,
 *     delete, gc and fsck; not ingests)
 * @param incarnations whether the model holds the store to links that keep a reference of the
 *     incarnation they were made to only (issue 17), rather than to today's behaviour
 */
record CheckConfig(long seed, int ops, int hosts, int blobs, int refs, double faults,
    double deaths, long skewMillis, double late, int large, double interleave,
    boolean incarnations) {

  CheckConfig {
    if (hosts < 1 || blobs < 1 || refs < 1 || ops < 0) {
      throw new IllegalArgumentException("invalid check configuration");
    }
  }

  /** No faults, no deaths, no skew: outcomes and counts must match the model exactly. */
  static CheckConfig clean(long seed, int ops) {
    return new CheckConfig(seed, ops, 4, 12, 6, 0, 0, 0, 0, 0, 0, false);
  }

  /** Network faults, deaths and clock skew. */
  static CheckConfig faulty(long seed, int ops) {
    return new CheckConfig(seed, ops, 4, 12, 6, 0.02, 0.02, 5_000, 0, 0, 0, false);
  }

  /**
   * Five times the faulty run's network faults (10 % per knob and request), deaths and skew,
   * another host's operation in a fifth of the steps, links held to their incarnation.
   */
  static CheckConfig heavy(long seed, int ops) {
    return new CheckConfig(seed, ops, 4, 12, 6, 0.1, 0.02, 5_000, 0, 0, 0.2, true);
  }

  CheckConfig withOps(int n) {
    return new CheckConfig(seed, n, hosts, blobs, refs, faults, deaths, skewMillis, late,
        large, interleave, incarnations);
  }

  /** The same run, with the model holding links to the incarnation they were made to. */
  CheckConfig withIncarnations() {
    return new CheckConfig(seed, ops, hosts, blobs, refs, faults, deaths, skewMillis, late, large,
        interleave, true);
  }

  /** The same run, with requests applied late. */
  CheckConfig withLate(double probability) {
    return new CheckConfig(seed, ops, hosts, blobs, refs, faults, deaths, skewMillis, probability,
        large, interleave, incarnations);
  }

  /** The same run, with {@code n} contents above one part. */
  CheckConfig withLarge(int n) {
    return new CheckConfig(seed, ops, hosts, blobs, refs, faults, deaths, skewMillis, late, n,
        interleave, incarnations);
  }

  /** The same run, with operations of other hosts in the middle of steps. */
  CheckConfig withInterleave(double probability) {
    return new CheckConfig(seed, ops, hosts, blobs, refs, faults, deaths, skewMillis, late, large,
        probability, incarnations);
  }

  boolean exact() {
    return faults == 0 && deaths == 0;
  }
}
