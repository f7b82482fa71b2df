package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.PermissionDeniedException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A store that times each call of its delegate, by operation and outcome, as
 * {@code coffer.store.operations} (OBS-2 in docs/architecture.md), times its writers' commits, and
 * counts what gc and fsck report. Everything else is the delegate's.
 *
 * <p>A dynamic proxy rather than a hand-written decorator: every method of {@link ContentStore},
 * present or added later, is timed under its own name without this class changing.
 *
 * <p>Thread-safe as the delegate is.
 */
final class MeteredStore implements InvocationHandler {
  static final String OPERATIONS = "coffer.store.operations";

  /** Calls that are not operations of the store: passed through untimed. */
  private static final Set<String> UNTIMED = Set.of("close", "equals", "hashCode", "toString");
  /** The writer's calls that are timed. */
  private static final Set<String> WRITER_TIMED = Set.of("commit", "commitAndRef");

  private final Object delegate;
  private final MeterRegistry registry;
  private final boolean writer;

  private MeteredStore(Object delegate, MeterRegistry registry, boolean writer) {
    this.delegate = delegate;
    this.registry = registry;
    this.writer = writer;
  }

  /**
   * {@code store}, its calls timed in {@code registry}; gc's and fsck's result counters are
   * registered at zero now, so that the first run's counts show as an increase (OBS-7).
   */
  static ContentStore wrap(ContentStore store, MeterRegistry registry) {
    MeteredStore metered = new MeteredStore(store, registry, false);
    metered.gcResults(new GcReport(0, 0, 0, 0, List.of(), Duration.ZERO), GcOptions.DEFAULTS);
    metered.fsckResults(new FsckReport(0, List.of()));
    return (ContentStore) Proxy.newProxyInstance(ContentStore.class.getClassLoader(),
        new Class<?>[] {ContentStore.class}, metered);
  }

  /** The store {@code store} measures, or {@code store} itself if it is not a measured one. */
  static Object unwrap(ContentStore store) {
    if (Proxy.isProxyClass(store.getClass())
        && Proxy.getInvocationHandler(store) instanceof MeteredStore metered) {
      return metered.delegate;
    }
    return store;
  }

  private static Writer wrap(Writer writer, MeterRegistry registry) {
    return (Writer) Proxy.newProxyInstance(Writer.class.getClassLoader(),
        new Class<?>[] {Writer.class}, new MeteredStore(writer, registry, true));
  }

  /** The operation tag of a method: its name in snake case; opening a reader is {@code read}. */
  static String operation(String method) {
    if (method.equals("readerAt")) {
      return "read";
    }
    return method.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }

  /** The outcome tag of a failure: the store's error class, or {@code error} for anything else. */
  static String outcome(Throwable t) {
    if (t instanceof NotFoundException) {
      return "not_found";
    } else if (t instanceof AlreadyExistsException) {
      return "already_exists";
    } else if (t instanceof FailedPreconditionException) {
      return "failed_precondition";
    } else if (t instanceof AbortedException) {
      return "aborted";
    } else if (t instanceof UnavailableException) {
      return "unavailable";
    } else if (t instanceof InvalidArgumentException) {
      return "invalid_argument";
    } else if (t instanceof PermissionDeniedException) {
      return "permission_denied";
    }
    return "error";
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    String name = method.getName();
    if (method.getDeclaringClass() == Object.class || UNTIMED.contains(name)
        || (writer && !WRITER_TIMED.contains(name))) {
      return call(method, args);
    }
    long start = System.nanoTime();
    String outcome = "ok";
    Object result;
    try {
      result = call(method, args);
    } catch (Throwable t) {
      outcome = outcome(t);
      throw t;
    } finally {
      Timer.builder(OPERATIONS).description("store operations by outcome")
          .tag("operation", operation(name)).tag("outcome", outcome)
          .register(registry).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
    if (result instanceof Writer w) {
      return wrap(w, registry);
    } else if (result instanceof GcReport report && args[0] instanceof GcOptions options) {
      gcResults(report, options);
    } else if (result instanceof FsckReport report) {
      fsckResults(report);
    }
    return result;
  }

  private Object call(Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(delegate, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private void gcResults(GcReport report, GcOptions options) {
    if (!options.dryRun()) {
      count("coffer.gc.purged", null, "blobs gc purged", report.blobsPurged());
      count("coffer.gc.freed", "bytes", "bytes of blobs gc purged", report.bytesFreed());
      count("coffer.gc.ingests.removed", null, "abandoned ingests gc removed",
          report.ingestsRemoved());
      count("coffer.gc.uploads.aborted", null, "multipart uploads gc aborted",
          report.uploadsAborted());
    }
    count("coffer.gc.skipped", null, "subjects gc skipped", report.skipped().size());
  }

  private void fsckResults(FsckReport report) {
    count("coffer.fsck.checked", null, "blobs fsck checked", report.blobsChecked());
    report.findings().forEach(f -> Counter.builder("coffer.fsck.findings")
        .description("fsck findings by kind and whether repaired")
        .tag("kind", f.kind().name().toLowerCase(Locale.ROOT))
        .tag("repaired", Boolean.toString(f.repaired()))
        .register(registry).increment());
  }

  private void count(String name, String unit, String description, double amount) {
    Counter.builder(name).baseUnit(unit).description(description).register(registry)
        .increment(amount);
  }
}
