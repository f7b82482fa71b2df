package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.PermissionDeniedException;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A store that times each of its delegate's operations, by operation and outcome, as
 * {@code coffer.store.operations} (OBS-2 in docs/architecture.md), and counts what gc and fsck
 * report. Everything else is the delegate's.
 *
 * <p>Thread-safe as the delegate is.
 */
final class MeteredStore implements ContentStore {
  static final String OPERATIONS = "coffer.store.operations";

  private final ContentStore delegate;
  private final MeterRegistry registry;

  MeteredStore(ContentStore delegate, MeterRegistry registry) {
    this.delegate = delegate;
    this.registry = registry;
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

  private <T> T timed(String operation, Supplier<T> call) {
    long start = System.nanoTime();
    String outcome = "ok";
    try {
      return call.get();
    } catch (RuntimeException | Error e) {
      outcome = outcome(e);
      throw e;
    } finally {
      Timer.builder(OPERATIONS).description("store operations by outcome")
          .tag("operation", operation).tag("outcome", outcome)
          .register(registry).record(System.nanoTime() - start,
              java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  private void timed(String operation, Runnable call) {
    timed(operation, () -> {
      call.run();
      return null;
    });
  }

  private void count(String name, String unit, String description, double amount) {
    Counter.builder(name).baseUnit(unit).description(description).register(registry)
        .increment(amount);
  }

  @Override
  public Info info(Digest digest) {
    return timed("info", () -> delegate.info(digest));
  }

  @Override
  public Info update(Info info, String... fieldpaths) {
    return timed("update", () -> delegate.update(info, fieldpaths));
  }

  @Override
  public void walk(Consumer<? super Info> fn, String... filters) {
    timed("walk", () -> delegate.walk(fn, filters));
  }

  @Override
  public void delete(Digest digest) {
    timed("delete", () -> delegate.delete(digest));
  }

  @Override
  public ReaderAt readerAt(Descriptor descriptor) {
    return timed("read", () -> delegate.readerAt(descriptor));
  }

  @Override
  public Status status(String ref) {
    return timed("status", () -> delegate.status(ref));
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    return timed("list_statuses", () -> delegate.listStatuses(filters));
  }

  @Override
  public void abort(String ref) {
    timed("abort", () -> delegate.abort(ref));
  }

  @Override
  public Writer writer(String ref, Descriptor descriptor) {
    return new MeteredWriter(timed("writer", () -> delegate.writer(ref, descriptor)));
  }

  @Override
  public Info put(byte[] content, Digest expected, Map<String, String> labels) {
    return timed("put", () -> delegate.put(content, expected, labels));
  }

  @Override
  public Info putAndRef(byte[] content, Digest expected, Map<String, String> labels) {
    return timed("put_and_ref", () -> delegate.putAndRef(content, expected, labels));
  }

  @Override
  public Info ref(Digest digest) {
    return timed("ref", () -> delegate.ref(digest));
  }

  @Override
  public void deref(Digest digest) {
    timed("deref", () -> delegate.deref(digest));
  }

  @Override
  public void link(Digest to, Digest from) {
    timed("link", () -> delegate.link(to, from));
  }

  @Override
  public void unlink(Digest to, Digest from) {
    timed("unlink", () -> delegate.unlink(to, from));
  }

  @Override
  public GcReport gc(GcOptions options) {
    GcReport report = timed("gc", () -> delegate.gc(options));
    if (!options.dryRun()) {
      count("coffer.gc.purged", null, "blobs gc purged", report.blobsPurged());
      count("coffer.gc.freed", "bytes", "bytes of blobs gc purged", report.bytesFreed());
      count("coffer.gc.ingests.removed", null, "abandoned ingests gc removed",
          report.ingestsRemoved());
      count("coffer.gc.uploads.aborted", null, "multipart uploads gc aborted",
          report.uploadsAborted());
    }
    count("coffer.gc.skipped", null, "subjects gc skipped", report.skipped().size());
    return report;
  }

  @Override
  public FsckReport fsck(boolean repair) {
    FsckReport report = timed("fsck", () -> delegate.fsck(repair));
    count("coffer.fsck.checked", null, "blobs fsck checked", report.blobsChecked());
    report.findings().forEach(f -> Counter.builder("coffer.fsck.findings")
        .description("fsck findings by kind and whether repaired")
        .tag("kind", f.kind().name().toLowerCase(java.util.Locale.ROOT))
        .tag("repaired", Boolean.toString(f.repaired()))
        .register(registry).increment());
    return report;
  }

  @Override
  public void close() {
    delegate.close();
  }

  /** Times commits; the rest is the delegate's. */
  private final class MeteredWriter implements Writer {
    private final Writer writer;

    MeteredWriter(Writer writer) {
      this.writer = writer;
    }

    @Override
    public int write(ByteBuffer src) {
      return writer.write(src);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
      writer.write(bytes, offset, length);
    }

    @Override
    public Digest digest() {
      return writer.digest();
    }

    @Override
    public void commit(long size, Digest expected, Map<String, String> labels) {
      timed("commit", () -> writer.commit(size, expected, labels));
    }

    @Override
    public Info commitAndRef(long size, Digest expected, Map<String, String> labels) {
      return timed("commit_and_ref", () -> writer.commitAndRef(size, expected, labels));
    }

    @Override
    public Status status() {
      return writer.status();
    }

    @Override
    public void truncate(long size) {
      writer.truncate(size);
    }

    @Override
    public void close() {
      writer.close();
    }
  }
}
