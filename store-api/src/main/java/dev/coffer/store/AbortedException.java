package dev.coffer.store;

/** A concurrent change to the record named in the message won every attempt (errdefs Aborted). Nothing was changed; retry the operation. */
public final class AbortedException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public AbortedException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public AbortedException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean retryable() {
    return true;
  }
}
