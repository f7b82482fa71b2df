package dev.coffer.store.s3;

import dev.coffer.store.AbortedException;
import dev.coffer.store.NotFoundException;
import dev.coffer.store.PermissionDeniedException;
import dev.coffer.store.StoreException;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.UnknownException;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;

/**
 * The one place where SDK exceptions become the store's ({@link #translate}), and the reading of
 * HTTP statuses from them. Transport failures, throttling and 409 conflicts have been retried by
 * the SDK's retry strategy before they get here, except for single-attempt requests.
 */
final class S3Errors {
  static final int PRECONDITION_FAILED = 412;

  private S3Errors() {}

  /** Waits for an asynchronous request, translating its failure. */
  static <T> T join(CompletableFuture<T> future, String what) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new AbortedException("interrupted while " + what, e);
    } catch (ExecutionException | CancellationException e) {
      throw translate(what, e);
    }
  }

  /**
   * The store's exception for a failure of {@code what}: the one place SDK exceptions are mapped.
   * 404 is NotFound, 401/403 PermissionDenied, a 409 or 412 that outlived the retries Aborted,
   * 429, 500, 502, 503, 504 and a failure without an answer ({@link #isTransient}) Unavailable,
   * anything else Unknown (docs/architecture.md, "Record changes and errors").
   */
  static StoreException translate(String what, Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StoreException store) {
      return store;
    }
    int status = status(t);
    String message = what + ": " + t.getMessage();
    return switch (status) {
      case 404 -> new NotFoundException(message, t);
      case 401, 403 -> new PermissionDeniedException(message, t);
      case 409, PRECONDITION_FAILED -> new AbortedException(message, t);
      // Throttling and server errors the SDK's retries did not outlast: try again later.
      case 429, 500, 502, 503, 504 -> new UnavailableException(message, t);
      case 0 -> isTransient(t) ? new UnavailableException(message, t)
          : new UnknownException(message, t);
      default -> new UnknownException(message, t);
    };
  }

  /**
   * Whether a failure without an HTTP answer is the network's (a reset, a refused or timed-out
   * connection, no response): the request may or may not have reached S3, and a later attempt
   * may succeed.
   */
  static boolean isTransient(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IOException || c instanceof ApiCallTimeoutException
          || c instanceof ApiCallAttemptTimeoutException) {
        return true;
      }
    }
    return false;
  }

  /** The HTTP status of a service error, or 0. */
  static int status(Throwable t) {
    Throwable c = t;
    while (c instanceof CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof AwsServiceException service) {
      return service.statusCode();
    }
    return 0;
  }

  static boolean isPreconditionFailed(Throwable t) {
    return status(t) == PRECONDITION_FAILED;
  }
}
