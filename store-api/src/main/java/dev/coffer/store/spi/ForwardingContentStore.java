package dev.coffer.store.spi;

import dev.coffer.store.ContentStore;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Digest;
import dev.coffer.store.FsckOptions;
import dev.coffer.store.FsckReport;
import dev.coffer.store.GcOptions;
import dev.coffer.store.GcReport;
import dev.coffer.store.Info;
import dev.coffer.store.NewLinks;
import dev.coffer.store.ReaderAt;
import dev.coffer.store.Status;
import dev.coffer.store.Writer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A store that forwards every operation to another, for decorators to override only what they
 * change, as Guava's forwarding collections do.
 *
 * <p>Contract: each method calls the same method of {@link #delegate()} with the same arguments and
 * returns its result or lets its exception through, nothing more. This includes the operations
 * {@code ContentStore} gives default implementations ({@code put}, {@code putAndRef}, {@code putFile},
 * {@code putFileAndRef},
 * {@code fsck(FsckOptions)}), so a decorated store keeps its own fast paths and capabilities. The
 * one exception is {@link #readerAt(Digest)}, a shorthand the interface defines as
 * {@code readerAt(Descriptor.of(digest))}: it is not forwarded, so a subclass that overrides
 * {@link #readerAt(Descriptor)} covers both.
 *
 * <p>{@link #delegate()} is called once per operation, so a subclass may check its own state there
 * (a closed decorator failing every operation, for one). Thread safety is the delegate's and the
 * subclass's.
 */
public abstract class ForwardingContentStore implements ContentStore {

  /** For subclasses. */
  protected ForwardingContentStore() {}

  /** The store operations are forwarded to; called once per forwarded operation. */
  protected abstract ContentStore delegate();

  @Override
  public Info info(Digest digest) {
    return delegate().info(digest);
  }

  @Override
  public Info update(Info info, String... fieldpaths) {
    return delegate().update(info, fieldpaths);
  }

  @Override
  public void walk(Consumer<? super Info> fn, String... filters) {
    delegate().walk(fn, filters);
  }

  @Override
  public void delete(Digest digest) {
    delegate().delete(digest);
  }

  @Override
  public ReaderAt readerAt(Descriptor descriptor) {
    return delegate().readerAt(descriptor);
  }

  @Override
  public ReaderAt readerAtHeld(Descriptor descriptor) {
    return delegate().readerAtHeld(descriptor);
  }

  @Override
  public Status status(String ref) {
    return delegate().status(ref);
  }

  @Override
  public List<Status> listStatuses(String... filters) {
    return delegate().listStatuses(filters);
  }

  @Override
  public void abort(String ref) {
    delegate().abort(ref);
  }

  @Override
  public Writer writer(String ref, Descriptor descriptor) {
    return delegate().writer(ref, descriptor);
  }

  @Override
  public Info put(byte[] content, Digest expected, Map<String, String> labels) {
    return delegate().put(content, expected, labels);
  }

  @Override
  public Info putAndRef(byte[] content, Digest expected, Map<String, String> labels) {
    return delegate().putAndRef(content, expected, labels);
  }

  @Override
  public Info putFile(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return delegate().putFile(file, expected, labels);
  }

  @Override
  public Info putFileAndRef(Path file, Digest expected, Map<String, String> labels)
      throws IOException {
    return delegate().putFileAndRef(file, expected, labels);
  }

  @Override
  public Info ref(Digest digest) {
    return delegate().ref(digest);
  }

  @Override
  public void deref(Digest digest) {
    delegate().deref(digest);
  }

  @Override
  public void deref(Digest digest, long incarnation) {
    delegate().deref(digest, incarnation);
  }

  @Override
  public void link(Digest to, Digest from) {
    delegate().link(to, from);
  }

  @Override
  public void linkAll(Collection<Digest> to, Digest from) {
    delegate().linkAll(to, from);
  }

  @Override
  public void linkNew(Collection<Digest> to, Digest from) {
    delegate().linkNew(to, from);
  }

  @Override
  public NewLinks newLinks(Digest from) {
    return delegate().newLinks(from);
  }

  @Override
  public void unlink(Digest to, Digest from) {
    delegate().unlink(to, from);
  }

  @Override
  public GcReport gc(GcOptions options) {
    return delegate().gc(options);
  }

  @Override
  public FsckReport fsck(boolean repair) {
    return delegate().fsck(repair);
  }

  @Override
  public FsckReport fsck(FsckOptions options) {
    return delegate().fsck(options);
  }

  @Override
  public void close() {
    delegate().close();
  }
}
