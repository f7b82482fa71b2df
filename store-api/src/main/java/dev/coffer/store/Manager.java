package dev.coffer.store;

import java.util.function.Consumer;

/** Reads and changes what the store knows of committed blobs (containerd's {@code Manager}). */
public interface Manager {

  /**
   * The info of a committed blob.
   *
   * @throws NotFoundException if no blob has that digest (or it is being deleted)
   */
  Info info(Digest digest);

  /**
   * Changes the labels of a committed blob and sets its updatedAt to now.
   *
   * <p>With no fieldpaths, the blob's labels become exactly {@code info.labels()}. With fieldpaths,
   * only those are changed: {@code labels} replaces all labels; {@code labels.<key>} sets that label
   * to its value in {@code info}, and deletes it when absent there or empty. Other fields of
   * {@code info} than digest and labels are ignored.
   *
   * @return the updated info
   * @throws NotFoundException if no blob has that digest
   * @throws InvalidArgumentException if a fieldpath is not {@code labels} or {@code labels.<key>},
   *     or a label is invalid
   */
  Info update(Info info, String... fieldpaths);

  /**
   * Calls {@code fn} with the info of every committed blob matching any of {@code filters} (none:
   * every blob). The order is unspecified. An exception thrown by {@code fn} stops the walk and
   * propagates.
   *
   * @throws InvalidArgumentException if a filter does not parse
   */
  void walk(Consumer<? super Info> fn, String... filters);

  /**
   * Deletes a committed blob, whatever its reference count, and releases the references its own
   * links hold (a cascade as in {@link ReferenceCounter#deref}). Links from other blobs to it are
   * left dangling and ignored by later cascades.
   *
   * @throws NotFoundException if no blob has that digest
   */
  void delete(Digest digest);
}
