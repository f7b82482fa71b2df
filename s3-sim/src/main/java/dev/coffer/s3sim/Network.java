package dev.coffer.s3sim;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The simulated network between the hosts' clients and the server: where faults and scheduling
 * happen. Every request a host's client sends becomes an {@link Exchange}; the {@link Interceptor}
 * (by default, one that lets the host's {@link Faults} decide) resolves it: applied and answered,
 * answered with an error, failed, held back for late application, or applied with its answer lost.
 * A killed host's requests never reach the server.
 *
 * <p>Faults are per host (or for every host), each knob with its own seeded random draws. For a
 * run that replays exactly, the requests must reach the knobs in the same order: with several
 * threads that takes an interceptor that parks every exchange and resolves them one at a time in
 * an order of its own (see {@link #parked()} and {@link #awaitParked}).
 *
 * <p>Thread-safe.
 */
public final class Network {

  /**
   * Sees every request before anything is applied, on the sending thread, and resolves its
   * exchange now or leaves it pending for another thread (see {@link Exchange}). It must not
   * throw; a failure fails the request as a broken connection.
   */
  @FunctionalInterface
  public interface Interceptor {
    void intercept(Exchange exchange);
  }

  /** The knobs, in the order they are consulted; each has its own draws. */
  enum Knob { INTERNAL_ERROR, SLOW_DOWN, CONFLICT, ERROR_IN_200, LATE, LOST_ANSWER }

  final S3Server server;
  final RequestLog log;
  private final AtomicLong sequence = new AtomicLong();
  private final Set<String> dead = ConcurrentHashMap.newKeySet();
  private final Map<String, Faults> hostFaults = new ConcurrentHashMap<>();
  private final Map<String, Dice> dice = new ConcurrentHashMap<>();
  private volatile Faults defaultFaults = Faults.none();
  private volatile Interceptor interceptor;
  /** Pending exchanges whose interceptor left them to another thread, in arrival order. */
  private final List<PendingExchange> parked = new ArrayList<>();
  /** Held exchanges, in the order they were held. */
  private final List<PendingExchange> held = new ArrayList<>();

  Network(S3Server server, RequestLog log) {
    this.server = server;
    this.log = log;
  }

  /** Sets the faults of every host that has none of its own. */
  public void faults(Faults faults) {
    this.defaultFaults = Objects.requireNonNull(faults, "faults");
    dice.keySet().removeIf(host -> !hostFaults.containsKey(host));
  }

  /** Sets the faults of one host. */
  public void faults(String host, Faults faults) {
    hostFaults.put(host, Objects.requireNonNull(faults, "faults"));
    dice.remove(host);
  }

  /** The faults a host's requests meet. */
  public Faults faultsOf(String host) {
    return hostFaults.getOrDefault(host, defaultFaults);
  }

  /** Sets the interceptor; null restores the default, which calls {@link Exchange#proceed()}. */
  public void interceptor(Interceptor interceptor) {
    this.interceptor = interceptor;
  }

  /**
   * Kills a host: from now on each of its requests fails at once with a refused connection and
   * never reaches the server. Requests it sent before (parked or held) are left as they are.
   */
  public void kill(String host) {
    dead.add(host);
  }

  /** Lets a killed host's requests through again. */
  public void revive(String host) {
    dead.remove(host);
  }

  /** Whether {@code host} was killed and not revived. */
  public boolean isDead(String host) {
    return dead.contains(host);
  }

  /** What the network saw. */
  public RequestLog log() {
    return log;
  }

  /** The pending exchanges left to another thread by the interceptor, in arrival order. */
  public List<Exchange> parked() {
    synchronized (parked) {
      return List.copyOf(parked);
    }
  }

  /**
   * Waits until at least {@code count} exchanges are parked. The timeout, on the JVM's clock, only
   * bounds how long the calling thread waits; it changes nothing in the simulation.
   *
   * @return false if {@code timeout} passed first
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean awaitParked(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (parked) {
      while (parked.size() < count) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(parked, left);
      }
      return true;
    }
  }

  /** The held exchanges, oldest first. */
  public List<Exchange> held() {
    synchronized (held) {
      return List.copyOf(held);
    }
  }

  /** Applies every held exchange, oldest first; their answers go nowhere. */
  public void releaseHeld() {
    for (Exchange e : held()) {
      e.release();
    }
  }

  /**
   * Sends a request from {@code host} and waits for its answer. Used by the SDK clients of
   * {@link SimS3}; a transport of another kind calls it the same way.
   *
   * @throws IOException what the client sees of a failed exchange: a refused connection (dead
   *     host, failed), a reset (answer lost), a timeout (held), an interrupt while parked
   */
  public SimResponse send(String host, SimRequest request) throws IOException {
    long seq = sequence.incrementAndGet();
    Operation operation = Operation.of(request);
    if (dead.contains(host)) {
      log.add(new LoggedRequest(seq, host, operation, request.bucket(), request.key(),
          Outcome.REFUSED, 0, null));
      throw new ConnectException("the simulated network refuses host " + host + ": it is dead");
    }
    PendingExchange exchange = new PendingExchange(this, seq, host, request, operation);
    Interceptor current = interceptor;
    try {
      if (current == null) {
        exchange.proceed();
      } else {
        current.intercept(exchange);
      }
    } catch (RuntimeException e) {
      if (exchange.outcome() != null) {
        throw e; // the server failed applying it: a defect of the simulation, not a fault
      }
      exchange.fail();
      throw new IOException("the interceptor failed on " + exchange, e);
    }
    if (exchange.outcome() == null) {
      synchronized (parked) {
        if (exchange.outcome() == null) {
          parked.add(exchange);
          parked.notifyAll();
        }
      }
    }
    try {
      return exchange.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException failure = new InterruptedIOException(
          "interrupted while " + exchange + " was parked");
      failure.initCause(e);
      throw failure;
    }
  }

  /** Called by an exchange once resolved. */
  void resolved(PendingExchange exchange) {
    synchronized (parked) {
      parked.remove(exchange);
    }
  }

  void holding(PendingExchange exchange) {
    synchronized (held) {
      held.add(exchange);
    }
  }

  void unheld(PendingExchange exchange) {
    synchronized (held) {
      held.remove(exchange);
    }
  }

  /**
   * Called after the server applied a request of an exchange (not a late one): counts down the
   * held exchanges with a count, and applies those that reach zero.
   */
  void applied() {
    List<PendingExchange> due = new ArrayList<>();
    synchronized (held) {
      for (PendingExchange e : held) {
        if (e.countDown()) {
          due.add(e);
        }
      }
    }
    for (PendingExchange e : due) {
      e.releaseIfHeld();
    }
  }

  /**
   * The knobs decide what becomes of {@code exchange} (see {@link Faults}). Every knob that is on
   * and applies to the request draws, whichever fires first: so one knob's decision for the n-th
   * request of a host does not depend on the other knobs' settings.
   */
  void decide(PendingExchange exchange) {
    Faults faults = faultsOf(exchange.host());
    Operation op = exchange.operation();
    if (faults.isNone() || !faults.operations().contains(op)) {
      exchange.apply();
      return;
    }
    Dice d = dice.computeIfAbsent(exchange.host(), h -> new Dice(faults, h));
    boolean in200 = op == Operation.COMPLETE_MULTIPART_UPLOAD || op == Operation.COPY_OBJECT
        || op == Operation.UPLOAD_PART_COPY;
    boolean internalError = d.roll(Knob.INTERNAL_ERROR, faults.internalError());
    boolean slowDown = d.roll(Knob.SLOW_DOWN, faults.slowDown());
    boolean conflict = exchange.isConditionalWrite() && d.roll(Knob.CONFLICT, faults.conflict());
    boolean errorIn200 = in200 && d.roll(Knob.ERROR_IN_200, faults.errorIn200());
    boolean late = d.roll(Knob.LATE, faults.late());
    boolean lost = d.roll(Knob.LOST_ANSWER, faults.lostAnswer());
    if (internalError) {
      exchange.answer(500, "InternalError", "We encountered an internal error. Please try again.");
    } else if (slowDown) {
      exchange.answer(503, "SlowDown", "Please reduce your request rate.");
    } else if (conflict) {
      exchange.answer(409, "ConditionalRequestConflict", "A conflicting conditional operation is "
          + "currently in progress against this resource. Please try again.");
    } else if (errorIn200) {
      exchange.answer(200, "InternalError", "We encountered an internal error. Please try again.");
    } else if (late) {
      if (faults.lateAfter() > 0) {
        exchange.holdFor(faults.lateAfter());
      } else {
        exchange.hold();
      }
    } else if (lost) {
      exchange.applyAndLoseAnswer();
    } else {
      exchange.apply();
    }
  }

  /** One host's draws: a Random per knob, seeded from the faults' seed, the host and the knob. */
  private static final class Dice {
    private final Random[] randoms = new Random[Knob.values().length];

    Dice(Faults faults, String host) {
      for (Knob knob : Knob.values()) {
        long mixed = new SplittableRandom(faults.seed() * 31 + host.hashCode()).split()
            .nextLong() ^ (0x9E3779B97F4A7C15L * (knob.ordinal() + 1));
        randoms[knob.ordinal()] = new Random(mixed);
      }
    }

    boolean roll(Knob knob, double probability) {
      return probability > 0 && randoms[knob.ordinal()].nextDouble() < probability;
    }
  }
}
