package dev.coffer.s3sim;

/** What became of one request in the simulated network. */
public enum Outcome {
  /** The server applied it and the client got the answer. */
  ANSWERED,
  /** The server applied it and the answer was lost: the client saw a reset connection. */
  ANSWER_LOST,
  /** The network answered with an error (500, 503, 409, 200 with an error) without applying it. */
  INJECTED,
  /** The connection failed before the request reached the server: not applied. */
  FAILED,
  /** Held back: the client saw a timeout; the server has not applied it (yet). */
  HELD,
  /** A held request, applied by the server after its client gave up; the answer went nowhere. */
  APPLIED_LATE,
  /** A held request discarded without being applied. */
  DROPPED,
  /** Sent by a dead host: refused by the network, never applied. */
  REFUSED
}
