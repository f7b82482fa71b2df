package dev.coffer.s3sim;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The network's {@link Exchange}: a state machine from pending to one outcome (and from held to
 * applied late or dropped), with the sending thread waiting on {@link #await()}. Thread-safe:
 * transitions are made under the exchange's monitor, and the server applies the request within
 * the verb that resolved it.
 */
final class PendingExchange implements Exchange {
  private final Network network;
  private final long sequence;
  private final String host;
  private final SimRequest request;
  private final Operation operation;
  /** The client's answer, or the IOException it sees. */
  private final CompletableFuture<SimResponse> result = new CompletableFuture<>();
  /** Set under this exchange's monitor; read without it (the network reads it under its own). */
  private volatile Outcome outcome;
  /** Further applied requests before a held exchange applies itself; 0 for none. */
  private int countdown;

  PendingExchange(Network network, long sequence, String host, SimRequest request,
      Operation operation) {
    this.network = network;
    this.sequence = sequence;
    this.host = host;
    this.request = request;
    this.operation = operation;
  }

  @Override
  public long sequence() {
    return sequence;
  }

  @Override
  public String host() {
    return host;
  }

  @Override
  public SimRequest request() {
    return request;
  }

  @Override
  public Operation operation() {
    return operation;
  }

  @Override
  public boolean isConditionalWrite() {
    return operation.isConditionalWrite(request);
  }

  @Override
  public Outcome outcome() {
    return outcome;
  }

  @Override
  public void proceed() {
    network.decide(this);
  }

  @Override
  public void apply() {
    resolve(Outcome.ANSWERED);
    SimResponse response = handle();
    log(Outcome.ANSWERED, response);
    result.complete(response);
    network.applied();
  }

  @Override
  public void applyAndLoseAnswer() {
    resolve(Outcome.ANSWER_LOST);
    SimResponse response = handle();
    log(Outcome.ANSWER_LOST, response);
    result.completeExceptionally(new SocketException("Connection reset (the simulated network "
        + "lost the answer to " + this + ", which the server applied: " + response.status() + ")"));
    network.applied();
  }

  @Override
  public void fail() {
    resolve(Outcome.FAILED);
    log(Outcome.FAILED, null);
    result.completeExceptionally(new ConnectException("Connection refused (the simulated network "
        + "failed " + this + " before it reached the server)"));
  }

  @Override
  public void answer(int status, String code, String message) {
    resolve(Outcome.INJECTED);
    SimResponse response = network.server.injected(status, code, message);
    network.log.add(new LoggedRequest(sequence, host, operation, request.bucket(), request.key(),
        Outcome.INJECTED, status, code));
    result.complete(response);
  }

  @Override
  public void hold() {
    holdFor(0);
  }

  @Override
  public void holdFor(int requests) {
    if (requests < 0) {
      throw new IllegalArgumentException("requests " + requests + " < 0");
    }
    synchronized (this) {
      if (outcome != null) {
        throw new IllegalStateException(this + " is already " + outcome);
      }
      outcome = Outcome.HELD;
      countdown = requests;
    }
    network.resolved(this);
    network.holding(this);
    log(Outcome.HELD, null);
    result.completeExceptionally(new SocketTimeoutException("Read timed out (the simulated "
        + "network holds " + this + " back; the server may apply it later)"));
  }

  @Override
  public void release() {
    synchronized (this) {
      if (outcome != Outcome.HELD) {
        throw new IllegalStateException(this + " is not held but " + outcome);
      }
      outcome = Outcome.APPLIED_LATE;
    }
    network.unheld(this);
    log(Outcome.APPLIED_LATE, network.server.handle(request));
  }

  /** Releases this exchange if it is still held (a countdown reached zero). */
  void releaseIfHeld() {
    synchronized (this) {
      if (outcome != Outcome.HELD) {
        return;
      }
    }
    try {
      release();
    } catch (IllegalStateException e) {
      // released or dropped by another thread meanwhile
    }
  }

  @Override
  public void drop() {
    synchronized (this) {
      if (outcome != Outcome.HELD) {
        throw new IllegalStateException(this + " is not held but " + outcome);
      }
      outcome = Outcome.DROPPED;
    }
    network.unheld(this);
    log(Outcome.DROPPED, null);
  }

  /** Counts one applied request down; true when a countdown reaches zero. Called under held's lock. */
  synchronized boolean countDown() {
    return outcome == Outcome.HELD && countdown > 0 && --countdown == 0;
  }

  /**
   * The server's answer. An exception is a defect of the simulation: the sender gets it as it
   * is (not as a network failure the SDK would retry), and so does whoever resolved the exchange.
   */
  private SimResponse handle() {
    try {
      return network.server.handle(request);
    } catch (RuntimeException | Error e) {
      result.completeExceptionally(e);
      throw e;
    }
  }

  /** Waits for the client's answer. */
  SimResponse await() throws IOException, InterruptedException {
    try {
      return result.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IOException(e.getCause());
    }
  }

  /** Moves from pending to {@code next}; the network's lists are updated outside the monitor. */
  private void resolve(Outcome next) {
    synchronized (this) {
      if (outcome != null) {
        throw new IllegalStateException(this + " is already " + outcome);
      }
      outcome = next;
    }
    network.resolved(this);
  }

  private void log(Outcome logged, SimResponse response) {
    int status = response == null ? 0 : response.status();
    String code = response == null ? null : errorCode(response);
    network.log.add(new LoggedRequest(sequence, host, operation, request.bucket(), request.key(),
        logged, status, code));
  }

  /**
   * The Code of an error answer, or null: from the error document of a status of 300 or more,
   * or of a 200 of the operations S3 may answer so.
   */
  private String errorCode(SimResponse response) {
    boolean in200 = response.status() == 200 && (operation == Operation.COMPLETE_MULTIPART_UPLOAD
        || operation == Operation.COPY_OBJECT || operation == Operation.UPLOAD_PART_COPY);
    if (response.status() < 300 && !in200) {
      return null;
    }
    String text = response.bodyText();
    int start = text.indexOf("<Error>");
    int code = start < 0 ? -1 : text.indexOf("<Code>", start);
    int end = code < 0 ? -1 : text.indexOf("</Code>", code);
    return end < 0 ? null : text.substring(code + "<Code>".length(), end);
  }

  @Override
  public String toString() {
    return "request #" + sequence + " from " + host + " (" + operation + " " + request.bucket()
        + "/" + request.key() + ")";
  }
}
