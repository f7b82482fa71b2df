package dev.coffer.store;

/** The backing storage refused the request named in the message for lack of permission (errdefs PermissionDenied). Check the credentials and policy. */
public final class PermissionDeniedException extends StoreException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the value concerned. */
  public PermissionDeniedException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public PermissionDeniedException(String message, Throwable cause) {
    super(message, cause);
  }
}
