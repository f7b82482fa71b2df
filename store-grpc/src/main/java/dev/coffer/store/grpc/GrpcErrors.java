package dev.coffer.store.grpc;

import dev.coffer.store.AbortedException;
import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.DataLossException;
import dev.coffer.store.FailedPreconditionException;
import dev.coffer.store.InvalidArgumentException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.PermissionDeniedException;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The one translation of the store's errors to gRPC status codes, as containerd's
 * {@code errdefs.ToGRPC}. The code is what containerd tests. SEC-6 (docs/architecture.md): the
 * description carries the store's
 * own message, which names the digest or ref, only for a failure the store found itself; one that
 * came from the backing storage (it has a cause: an S3 error naming the bucket or object keys, an
 * I/O failure) is described by its code alone, and its message goes to the server's log instead,
 * so clients learn nothing of the bucket, prefix or keys behind the store.
 *
 * <p>UNAVAILABLE is reserved for a locked ref: containerd's client retries it without end, so a
 * backend failure must never surface as UNAVAILABLE.
 */
final class GrpcErrors {

  private GrpcErrors() {}

  /** The status for {@code failure}; an exception that is already a gRPC status is kept. */
  static StatusRuntimeException toStatus(Throwable failure) {
    if (failure instanceof StatusRuntimeException status) {
      return status;
    }
    Status code = codeOf(failure);
    String description = revealsBackend(failure)
        ? "the store's backing storage failed (" + code.getCode() + "); the server's log has the"
            + " details"
        : failure.getMessage();
    return code.withDescription(description).withCause(failure).asRuntimeException();
  }

  /**
   * Whether the failure's message may describe the backing storage rather than the request:
   * anything but a store exception the store raised itself without an underlying cause, and
   * always the classes that only the backing storage raises (Unknown, PermissionDenied).
   */
  static boolean revealsBackend(Throwable failure) {
    return !(failure instanceof StoreException) || failure.getCause() != null
        || failure instanceof UnknownException || failure instanceof PermissionDeniedException;
  }

  private static Status codeOf(Throwable failure) {
    if (failure instanceof NotFoundException) {
      return Status.NOT_FOUND;
    } else if (failure instanceof AlreadyExistsException) {
      return Status.ALREADY_EXISTS;
    } else if (failure instanceof FailedPreconditionException) {
      return Status.FAILED_PRECONDITION;
    } else if (failure instanceof InvalidArgumentException) {
      return Status.INVALID_ARGUMENT;
    } else if (failure instanceof UnavailableException) {
      return Status.UNAVAILABLE;
    } else if (failure instanceof AbortedException) {
      return Status.ABORTED;
    } else if (failure instanceof PermissionDeniedException) {
      return Status.PERMISSION_DENIED;
    } else if (failure instanceof DataLossException) {
      return Status.DATA_LOSS;
    }
    // UnknownException, and anything that is not a store error (a bug, an I/O failure).
    return Status.UNKNOWN;
  }

  /** A write at an offset other than the ingest's; containerd's client then restarts the ingest. */
  static StatusRuntimeException outOfRange(String message) {
    return Status.OUT_OF_RANGE.withDescription(message).asRuntimeException();
  }

  /** A malformed request the store never sees, such as a write stream without a ref. */
  static StatusRuntimeException invalidArgument(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
