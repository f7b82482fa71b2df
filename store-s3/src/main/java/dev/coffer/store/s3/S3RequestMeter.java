package dev.coffer.store.s3;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;

/**
 * Counts every HTTP request an S3 client sends, one per attempt (retries included), as Micrometer
 * meters (OBS-1 in docs/architecture.md):
 *
 * <ul>
 *   <li>{@code coffer.s3.requests} (counter; tags {@code operation}, the SDK's operation name such
 *       as {@code PutObject}, and {@code status}, the HTTP status answered or {@code io_error} when
 *       no answer came);
 *   <li>{@code coffer.s3.bytes} (counter, bytes; tags {@code operation} and {@code direction}
 *       {@code out} for request bodies sent, {@code in} for response bodies announced; a HEAD
 *       answer's length describes the object, not the body, and is not counted);
 *   <li>{@code coffer.s3.latency} (timer; tag {@code operation}): from the request's transmission
 *       to its answer's headers.
 * </ul>
 *
 * <p>Each meter is looked up in the registry once and kept: with a registration per request (a
 * meter id built, its tags sorted, the registry's map searched) the meter was 2.2 % of the client's
 * CPU samples in a first put -r of 1,000 files, 1.5 % after (docs/benchmarks.md). A meter removed
 * from the registry later keeps counting unseen. Thread-safe.
 */
final class S3RequestMeter implements ExecutionInterceptor {
  static final String REQUESTS = "coffer.s3.requests";
  static final String BYTES = "coffer.s3.bytes";
  static final String LATENCY = "coffer.s3.latency";

  private static final ExecutionAttribute<Long> STARTED =
      new ExecutionAttribute<>("coffer.s3.attemptStarted");
  private static final ExecutionAttribute<Boolean> ANSWERED =
      new ExecutionAttribute<>("coffer.s3.attemptAnswered");

  private final MeterRegistry registry;
  /** Request counters by operation, then status; byte counters by operation, then direction. */
  private final ConcurrentMap<String, ConcurrentMap<String, Counter>> requests =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<String, ConcurrentMap<String, Counter>> bytes =
      new ConcurrentHashMap<>();
  /** Latency timers by operation. */
  private final ConcurrentMap<String, Timer> timers = new ConcurrentHashMap<>();

  S3RequestMeter(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  @Override
  public void beforeTransmission(Context.BeforeTransmission context,
      ExecutionAttributes attributes) {
    if (Boolean.FALSE.equals(attributes.getAttribute(ANSWERED))) {
      // The previous attempt of this execution went out and no answer came back.
      count(operation(attributes), "io_error");
    }
    attributes.putAttribute(STARTED, System.nanoTime());
    attributes.putAttribute(ANSWERED, false);
    long sent = requestBytes(context.httpRequest());
    if (sent > 0) {
      bytes(operation(attributes), "out").increment(sent);
    }
  }

  @Override
  public void afterTransmission(Context.AfterTransmission context,
      ExecutionAttributes attributes) {
    attributes.putAttribute(ANSWERED, true);
    String operation = operation(attributes);
    count(operation, Integer.toString(context.httpResponse().statusCode()));
    Long started = attributes.getAttribute(STARTED);
    if (started != null) {
      timers.computeIfAbsent(operation, o -> Timer.builder(LATENCY)
              .description("time from sending an S3 request to its answer")
              .tag("operation", o).register(registry))
          .record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }
    if (context.httpRequest().method() != SdkHttpMethod.HEAD) {
      long received = context.httpResponse().firstMatchingHeader("Content-Length")
          .map(S3RequestMeter::parse).orElse(0L);
      if (received > 0) {
        bytes(operation, "in").increment(received);
      }
    }
  }

  @Override
  public void onExecutionFailure(Context.FailedExecution context,
      ExecutionAttributes attributes) {
    // The last attempt went out and no answer came back (a reset, a timeout).
    if (Boolean.FALSE.equals(attributes.getAttribute(ANSWERED))) {
      count(operation(attributes), "io_error");
    }
  }

  private void count(String operation, String status) {
    requests.computeIfAbsent(operation, o -> new ConcurrentHashMap<>())
        .computeIfAbsent(status, s -> Counter.builder(REQUESTS)
            .description("HTTP requests sent to S3, retries included")
            .tag("operation", operation).tag("status", s).register(registry))
        .increment();
  }

  private Counter bytes(String operation, String direction) {
    return bytes.computeIfAbsent(operation, o -> new ConcurrentHashMap<>())
        .computeIfAbsent(direction, d -> Counter.builder(BYTES).baseUnit("bytes")
            .description("bytes sent to and received from S3")
            .tag("operation", operation).tag("direction", d).register(registry));
  }

  private static String operation(ExecutionAttributes attributes) {
    String name = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    return name == null ? "unknown" : name;
  }

  /** The body's length: the decoded length of an aws-chunked body, else the Content-Length. */
  private static long requestBytes(SdkHttpRequest request) {
    Optional<String> decoded = request.firstMatchingHeader("x-amz-decoded-content-length");
    return decoded.or(() -> request.firstMatchingHeader("Content-Length"))
        .map(S3RequestMeter::parse).orElse(0L);
  }

  private static long parse(String value) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
