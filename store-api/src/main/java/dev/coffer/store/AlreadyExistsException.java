package dev.coffer.store;

/** The content named in the message is already committed (errdefs AlreadyExists). */
public final class AlreadyExistsException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public AlreadyExistsException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public AlreadyExistsException(String message, Throwable cause) {
    super(message, cause);
  }
}
