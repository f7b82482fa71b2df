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
   * Deletes a committed blob, whatever its reference count, and removes it from the links of no
   * other blob (a dangling link is reported by the store's consistency check).
   *
   * @throws NotFoundException if no blob has that digest
   */
  void delete(Digest digest);
}
