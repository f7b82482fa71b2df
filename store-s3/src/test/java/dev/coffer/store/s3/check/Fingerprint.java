package dev.coffer.store.s3.check;

import dev.coffer.s3sim.Exchange;
import dev.coffer.s3sim.SimRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A running SHA-256 of the requests of a run, in the order the hosts sent them: each request's
 * number, host, method, path, query, the store's own headers (conditions, tags, copy sources, ranges), body,
 * and what the network made of it. The SDK's headers that come from the wall clock or its own
 * randomness (dates, signatures, invocation ids) are left out: they never reach the simulated
 * bucket. Two runs with the same fingerprint sent the same requests and met the same faults.
 * Not thread-safe (a run sends one request at a time).
 *
 * <p>{@link #main} prints the fingerprint of one run in a JVM of its own, for
 * {@code ReplayTest}'s runs across JVMs.
 */
final class Fingerprint {
  /** The headers whose values the store chooses. */
  private static final String[] HEADERS = {"if-match", "if-none-match", "x-amz-tagging",
      "x-amz-copy-source", "x-amz-copy-source-range", "x-amz-copy-source-if-match", "range",
      "content-length"};

  private final MessageDigest sha256;
  private long requests;

  Fingerprint() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Adds a request once its interceptor has resolved it (or left it held). */
  void update(Exchange exchange) {
    requests++;
    SimRequest r = exchange.request();
    StringBuilder line = new StringBuilder().append(exchange.sequence()).append(' ')
        .append(exchange.host()).append(' ').append(r.method()).append(' ').append(r.path())
        .append(' ').append(r.query());
    for (String h : HEADERS) {
      String value = r.header(h);
      if (value != null) {
        line.append(' ').append(h).append('=').append(value);
      }
    }
    line.append(' ').append(exchange.outcome()).append(' ').append(r.body().length).append('\n');
    sha256.update(line.toString().getBytes(StandardCharsets.UTF_8));
    sha256.update(r.body());
  }

  /**
   * Runs the faulty checker's configuration (as {@code ProtocolCheckTest} runs it) on seed
   * {@code args[0]} for {@code args[1]} steps, after computing {@code args[2]} identity hash
   * codes (which moves this thread's sequence of identity hashes), and prints
   * {@code fingerprint <stats> <value>}.
   */
  public static void main(String[] args) {
    long seed = Long.parseLong(args[0]);
    int ops = Integer.parseInt(args[1]);
    int perturb = Integer.parseInt(args[2]);
    Object[] hashed = new Object[perturb];
    for (int i = 0; i < perturb; i++) {
      hashed[i] = new Object();
      hashed[i].hashCode();
    }
    CheckConfig config = CheckConfig.faulty(seed, ops).withIncarnations()
        .withInterleave(ProtocolCheckTest.INTERLEAVE);
    try (Simulation sim = new Simulation(config)) {
      Simulation.Stats stats = sim.run(History.draw(config), true);
      System.out.println("fingerprint " + stats + " " + sim.fingerprint());
    }
  }

  /** The number of requests and the digest so far, as {@code requests:hex}. */
  String value() {
    try {
      MessageDigest copy = (MessageDigest) sha256.clone();
      return requests + ":" + HexFormat.of().formatHex(copy.digest());
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
  }
}
