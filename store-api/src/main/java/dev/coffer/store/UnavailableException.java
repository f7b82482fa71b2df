package dev.coffer.store;

/** The ref named in the message is locked by another writer, in this process or on another host (errdefs Unavailable). Retry later, for example through {@link Content#openWriter}. */
public final class UnavailableException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public UnavailableException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public UnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean retryable() {
    return true;
  }
}
