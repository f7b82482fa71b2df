package dev.coffer.it;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionTimeoutException;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartCopyRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * Stops a host at one exact S3 request so that it can be killed there: the {@code n}-th request
 * of an operation on a part of the key layout, just before it is sent or just after its answer
 * arrived. From that moment every other request of the process blocks before it is sent, the
 * requests already in flight are waited for, and {@code CRASH-POINT <label> <facts>} is printed:
 * what the bucket holds at the kill is then exactly what the process had done by that line.
 *
 * <p>Facts printed: {@code parts=} the numbers of the ingest's UploadParts that succeeded,
 * {@code done=} the successful requests by {@code operation:scope}. Counting starts at
 * {@link #arm()}. Thread-safe.
 */
final class CrashTrigger implements ExecutionInterceptor {
  /** When the process stops, relative to the chosen request. */
  enum Phase { BEFORE, AFTER }

  private static final ExecutionAttribute<Boolean> SENT = new ExecutionAttribute<>("crash-sent");

  private final String prefix;
  private final String operation;
  private final String scope;
  private final int occurrence;
  private final Phase phase;
  private final String label;
  private final AtomicInteger seen = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Map<String, AtomicInteger> done = new ConcurrentHashMap<>();
  private final Set<Integer> partsDone = ConcurrentHashMap.newKeySet();
  private volatile boolean armed;
  private volatile boolean fired;

  /**
   * @param spec {@code operation:scope:n:phase}, for example {@code UploadPartCopy:blobs:2:AFTER}
   */
  CrashTrigger(String prefix, String spec) {
    String[] parts = spec.split(":");
    this.prefix = prefix;
    this.operation = parts[0];
    this.scope = parts[1];
    this.occurrence = Integer.parseInt(parts[2]);
    this.phase = Phase.valueOf(parts[3]);
    this.label = spec;
  }

  /** Starts counting: requests before this (setting up) are not candidates. */
  void arm() {
    armed = true;
  }

  /** Stops the calling thread here, as the chosen request would have. */
  void fire() {
    fired = true;
    awaitQuiet();
    System.out.println("CRASH-POINT " + label + " " + facts());
    System.out.flush();
    sleepForever();
  }

  @Override
  public void beforeTransmission(Context.BeforeTransmission context,
      ExecutionAttributes attributes) {
    if (fired) {
      sleepForever(); // nothing leaves the process after the crash point
    }
    if (Boolean.TRUE.equals(attributes.getAttribute(SENT))) {
      return; // a retry of a request already counted
    }
    attributes.putAttribute(SENT, true);
    if (armed && phase == Phase.BEFORE && matches(context.request())
        && seen.incrementAndGet() == occurrence) {
      fire();
    }
    inFlight.incrementAndGet();
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    SdkRequest request = context.request();
    String name = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    if (armed) {
      done.computeIfAbsent(name + ":" + scopeOf(request), k -> new AtomicInteger())
          .incrementAndGet();
      if (request instanceof UploadPartRequest part && "ingest".equals(scopeOf(request))) {
        partsDone.add(part.partNumber());
      }
    }
    finished(attributes);
    if (armed && !fired && phase == Phase.AFTER && matches(request)
        && seen.incrementAndGet() == occurrence) {
      fire();
    }
  }

  @Override
  public void onExecutionFailure(Context.FailedExecution context,
      ExecutionAttributes attributes) {
    finished(attributes);
  }

  private void finished(ExecutionAttributes attributes) {
    if (Boolean.TRUE.equals(attributes.getAttribute(SENT))) {
      attributes.putAttribute(SENT, false);
      inFlight.decrementAndGet();
    }
  }

  private boolean matches(SdkRequest request) {
    String name = request.getClass().getSimpleName().replaceFirst("Request$", "");
    return name.equals(operation) && scopeOf(request).equals(scope);
  }

  /** {@code blobs}, {@code index} or {@code ingest}: where the request's (target) key lies. */
  private String scopeOf(SdkRequest request) {
    String key = request instanceof CopyObjectRequest copy ? copy.destinationKey()
        : request instanceof UploadPartCopyRequest copy ? copy.destinationKey()
        : request.getValueForField("Key", String.class).orElse("");
    if (key == null || !key.startsWith(prefix)) {
      return "other";
    }
    String rest = key.substring(prefix.length());
    int slash = rest.indexOf('/');
    return slash < 0 ? "other" : rest.substring(0, slash);
  }

  /** Waits (up to 30 s) for the requests sent before the crash point to be answered. */
  private void awaitQuiet() {
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
          .until(() -> inFlight.get() == 0);
    } catch (ConditionTimeoutException stillInFlight) {
      // The crash goes ahead; facts() reports what was still in flight.
    }
  }

  private String facts() {
    Map<String, Integer> counts = new TreeMap<>();
    done.forEach((k, v) -> counts.put(k, v.get()));
    return "parts=" + new TreeSet<>(partsDone).toString().replace(" ", "") + " done="
        + counts.toString().replace(" ", "") + " inflight=" + inFlight.get();
  }

  private static void sleepForever() {
    while (true) {
      try {
        Thread.sleep(Long.MAX_VALUE); // until the test kills this host
      } catch (InterruptedException e) {
        // Only the kill ends this thread.
      }
    }
  }
}
