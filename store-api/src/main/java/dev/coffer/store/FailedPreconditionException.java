package dev.coffer.store;

/** The request is well formed but the current state forbids it, such as a size or digest mismatch at commit or a closed writer (errdefs FailedPrecondition). A failed commit keeps its ingest. */
public final class FailedPreconditionException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public FailedPreconditionException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public FailedPreconditionException(String message, Throwable cause) {
    super(message, cause);
  }
}
