package dev.coffer.store;

/**
 * The root of the store's error hierarchy. Every failure a store reports is one of a closed set of
 * classes, mirroring containerd's {@code errdefs}; callers test the class, never the message.
 * Messages name the digest, ref or value concerned.
 *
 * <p>The classes are:
 * <ul>
 *   <li>{@link NotFoundException}: the digest or ref does not exist;
 *   <li>{@link AlreadyExistsException}: the content is already committed;
 *   <li>{@link FailedPreconditionException}: the request is well formed but the state forbids it
 *       (size or digest mismatch at commit, a closed writer);
 *   <li>{@link InvalidArgumentException}: the request is malformed (a bad digest, ref, label or filter);
 *   <li>{@link UnavailableException}: the ref is locked by another writer; retry later;
 *   <li>{@link AbortedException}: a concurrent change won every attempt; retry the operation;
 *   <li>{@link PermissionDeniedException}: the backing storage refused the credentials;
 *   <li>{@link UnknownException}: the backing storage failed in a way the store cannot classify
 *       (after its own retries); the operation may be retried and nothing committed was changed;
 *   <li>{@link DataLossException}: stored bytes do not match their digest or their recorded size.
 * </ul>
 */
public abstract sealed class StoreException extends RuntimeException
    permits NotFoundException, AlreadyExistsException, FailedPreconditionException,
        InvalidArgumentException, UnavailableException, AbortedException,
        PermissionDeniedException, UnknownException, DataLossException {

  private static final long serialVersionUID = 1L;

  StoreException(String message) {
    super(message);
  }

  StoreException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Whether repeating the same call unchanged may succeed: true for {@link UnavailableException},
   * {@link AbortedException} and {@link UnknownException}, false for the rest.
   */
  public boolean retryable() {
    return false;
  }
}
