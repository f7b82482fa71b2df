package dev.coffer.store;

/** The digest or ref named in the message does not exist (errdefs NotFound). */
public final class NotFoundException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public NotFoundException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public NotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
