package dev.coffer.store;

/** The request is malformed: a digest, ref, label, fieldpath or filter named in the message is not valid (errdefs InvalidArgument). Nothing was changed. */
public final class InvalidArgumentException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public InvalidArgumentException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public InvalidArgumentException(String message, Throwable cause) {
    super(message, cause);
  }
}
