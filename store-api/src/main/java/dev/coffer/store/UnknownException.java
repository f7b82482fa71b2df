package dev.coffer.store;

/** The backing storage failed in a way the store cannot classify, after its own retries (errdefs Unknown). Nothing committed was changed; the operation may be retried. */
public final class UnknownException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public UnknownException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public UnknownException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean retryable() {
    return true;
  }
}
