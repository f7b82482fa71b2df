package dev.coffer.s3sim;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * The fault knobs of the simulated network for one host (or every host), all off unless set.
 * Each knob draws from its own {@link java.util.Random}, seeded from {@link #seed()}, the host's
 * name and the knob, once for every request it applies to: so whether a knob fires for a host's
 * n-th request does not depend on the other knobs, and a run whose requests reach the network in
 * the same order is the same run (invariant SIM-3 of docs/architecture.md).
 *
 * <p>For each request the knobs that fire are taken in this order, the first deciding:
 * 500 InternalError, 503 SlowDown, 409 ConditionalRequestConflict (conditional writes only), 200
 * with an error document (CompleteMultipartUpload, CopyObject, UploadPartCopy only) — none of which
 * applies the request —, then late (held back and applied later, the client failing at once with a
 * timeout), then answer lost (applied, the client failing with a reset connection); otherwise the
 * request is applied and answered.
 *
 * <p>Immutable and thread-safe.
 */
public final class Faults {
  private static final Faults NONE = builder().build();

  private final long seed;
  private final double internalError;
  private final double slowDown;
  private final double conflict;
  private final double errorIn200;
  private final double late;
  private final int lateAfter;
  private final double lostAnswer;
  private final Set<Operation> operations;

  private Faults(Builder b) {
    this.seed = b.seed;
    this.internalError = b.internalError;
    this.slowDown = b.slowDown;
    this.conflict = b.conflict;
    this.errorIn200 = b.errorIn200;
    this.late = b.late;
    this.lateAfter = b.lateAfter;
    this.lostAnswer = b.lostAnswer;
    this.operations = Set.copyOf(b.operations);
  }

  /** No faults. */
  public static Faults none() {
    return NONE;
  }

  /** A builder with every knob off, seed 0, every operation. */
  public static Builder builder() {
    return new Builder();
  }

  /** The seed every knob's draws derive from (with the host and the knob). */
  public long seed() {
    return seed;
  }

  /** Probability of 500 InternalError, not applied. */
  public double internalError() {
    return internalError;
  }

  /** Probability of 503 SlowDown, not applied. */
  public double slowDown() {
    return slowDown;
  }

  /** Probability of 409 ConditionalRequestConflict on a conditional write, not applied. */
  public double conflict() {
    return conflict;
  }

  /**
   * Probability of 200 OK with an error document (InternalError) on CompleteMultipartUpload,
   * CopyObject and UploadPartCopy, not applied: S3 documents these as able to fail after
   * answering 200.
   */
  public double errorIn200() {
    return errorIn200;
  }

  /** Probability that a request is held back: the client times out at once, S3 applies it later. */
  public double late() {
    return late;
  }

  /**
   * After how many further requests applied by the server a held request is applied; 0 holds it
   * until {@link Network#releaseHeld()} or {@link Exchange#release()}.
   */
  public int lateAfter() {
    return lateAfter;
  }

  /** Probability that a request is applied and its answer lost (the client sees a reset). */
  public double lostAnswer() {
    return lostAnswer;
  }

  /** The operations faults may hit; the others are always applied and answered. */
  public Set<Operation> operations() {
    return operations;
  }

  /** Whether every knob is off. */
  public boolean isNone() {
    return internalError == 0 && slowDown == 0 && conflict == 0 && errorIn200 == 0 && late == 0
        && lostAnswer == 0;
  }

  @Override
  public String toString() {
    return "Faults{seed=" + seed + ", internalError=" + internalError + ", slowDown=" + slowDown
        + ", conflict=" + conflict + ", errorIn200=" + errorIn200 + ", late=" + late
        + ", lateAfter=" + lateAfter + ", lostAnswer=" + lostAnswer + ", operations="
        + (operations.size() == Operation.values().length ? "all" : operations) + "}";
  }

  /** Collects knobs; each value is checked when set. Not thread-safe. */
  public static final class Builder {
    private long seed;
    private double internalError;
    private double slowDown;
    private double conflict;
    private double errorIn200;
    private double late;
    private int lateAfter;
    private double lostAnswer;
    private Set<Operation> operations = EnumSet.allOf(Operation.class);

    private Builder() {}

    /** The seed of the draws; default 0. */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** @throws IllegalArgumentException unless in [0, 1] */
    public Builder internalError(double probability) {
      this.internalError = probability("internalError", probability);
      return this;
    }

    /** @throws IllegalArgumentException unless in [0, 1] */
    public Builder slowDown(double probability) {
      this.slowDown = probability("slowDown", probability);
      return this;
    }

    /** @throws IllegalArgumentException unless in [0, 1] */
    public Builder conflict(double probability) {
      this.conflict = probability("conflict", probability);
      return this;
    }

    /** @throws IllegalArgumentException unless in [0, 1] */
    public Builder errorIn200(double probability) {
      this.errorIn200 = probability("errorIn200", probability);
      return this;
    }

    /**
     * Holds requests back with {@code probability}, applying each after {@code afterRequests}
     * further applied requests (0: only when released).
     *
     * @throws IllegalArgumentException unless the probability is in [0, 1] and the count is not
     *     negative
     */
    public Builder late(double probability, int afterRequests) {
      this.late = probability("late", probability);
      if (afterRequests < 0) {
        throw new IllegalArgumentException("late afterRequests " + afterRequests + " < 0");
      }
      this.lateAfter = afterRequests;
      return this;
    }

    /** @throws IllegalArgumentException unless in [0, 1] */
    public Builder lostAnswer(double probability) {
      this.lostAnswer = probability("lostAnswer", probability);
      return this;
    }

    /**
     * Limits the faults to these operations.
     *
     * @throws IllegalArgumentException if empty
     */
    public Builder operations(Set<Operation> operations) {
      if (operations.isEmpty()) {
        throw new IllegalArgumentException("operations must not be empty");
      }
      this.operations = EnumSet.copyOf(Objects.requireNonNull(operations, "operations"));
      return this;
    }

    /** The faults. */
    public Faults build() {
      return new Faults(this);
    }

    private static double probability(String knob, double p) {
      if (!(p >= 0 && p <= 1)) {
        throw new IllegalArgumentException(knob + " probability " + p + " is outside [0, 1]");
      }
      return p;
    }
  }
}
