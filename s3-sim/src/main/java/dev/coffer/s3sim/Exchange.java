package dev.coffer.s3sim;

/**
 * One request in the simulated network, between a host's client and the server, as a
 * {@link Network.Interceptor} sees it before anything is applied. Exactly one of the verbs
 * {@link #proceed}, {@link #apply}, {@link #applyAndLoseAnswer}, {@link #fail}, {@link #answer},
 * {@link #hold} and {@link #holdFor} resolves it, once; then the client's call returns (or fails).
 * A held request may later be {@link #release}d (applied) or {@link #drop}ped.
 *
 * <p>The server applies a request on the thread that calls the verb, before the verb returns: so
 * requests are applied in exactly the order their exchanges are resolved, whichever threads sent
 * them (invariant SIM-2 of docs/architecture.md). An interceptor may resolve the exchange at once, on the sending thread, or leave it
 * pending (the sending thread then waits, and the exchange is listed in {@link Network#parked()})
 * and resolve it later from any thread, which is how a scheduler chooses what goes next.
 *
 * <p>Thread-safe. A verb called on an exchange that is not in the state it needs throws
 * {@link IllegalStateException}.
 */
public interface Exchange {

  /** The request's number in the network, from 1, in the order requests were sent. */
  long sequence();

  /** The host that sent it. */
  String host();

  /** The request. */
  SimRequest request();

  /** Its operation. */
  Operation operation();

  /** Whether it is a conditional write (see {@link Operation#isConditionalWrite}). */
  boolean isConditionalWrite();

  /** What became of it, or null while it is pending. */
  Outcome outcome();

  /** Lets the sending host's {@link Faults} decide, with their seeded draws. */
  void proceed();

  /** The server applies it; the client gets the answer. */
  void apply();

  /** The server applies it; the client sees a reset connection instead of the answer. */
  void applyAndLoseAnswer();

  /** The connection fails before the request reaches the server: not applied. */
  void fail();

  /**
   * The client gets an error answer without the server applying anything: {@code status} with
   * S3's error document for {@code code} (status 200 gives 200 OK with an error document).
   */
  void answer(int status, String code, String message);

  /**
   * Holds it back: the client sees a timeout at once; the server applies it only when
   * {@link #release}d (or {@link Network#releaseHeld()}), or never if {@link #drop}ped.
   */
  void hold();

  /** As {@link #hold}, then applied by itself once {@code requests} further requests are applied. */
  void holdFor(int requests);

  /** Applies a held request now; its answer goes nowhere. */
  void release();

  /** Discards a held request without applying it. */
  void drop();
}
