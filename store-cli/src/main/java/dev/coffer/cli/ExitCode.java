package dev.coffer.cli;

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

/** The process exit codes, one per error class, documented in {@code coffer --help}. */
enum ExitCode {
  OK(0, "success"),
  FAILURE(1, "unexpected failure"),
  USAGE(2, "invalid command line"),
  INVALID_ARGUMENT(3, "invalid argument (digest, ref, label, filter, size)"),
  NOT_FOUND(4, "not found"),
  ALREADY_EXISTS(5, "already exists"),
  FAILED_PRECONDITION(6,
      "failed precondition (size or digest mismatch, no reference; fsck findings)"),
  UNAVAILABLE(7, "unavailable (ref locked by another writer, S3 throttled or down); retry"),
  ABORTED(8, "concurrent change; retry"),
  PERMISSION_DENIED(9, "permission denied by the bucket"),
  STORAGE(10, "storage failure; retry"),
  IO(11, "local file or stream error"),
  CONFIG(12, "configuration error"),
  DATA_LOSS(13, "data loss: stored bytes do not match their digest");

  final int code;
  final String meaning;

  ExitCode(int code, String meaning) {
    this.code = code;
    this.meaning = meaning;
  }

  static ExitCode of(StoreException e) {
    if (e instanceof InvalidArgumentException) {
      return INVALID_ARGUMENT;
    } else if (e instanceof NotFoundException) {
      return NOT_FOUND;
    } else if (e instanceof AlreadyExistsException) {
      return ALREADY_EXISTS;
    } else if (e instanceof FailedPreconditionException) {
      return FAILED_PRECONDITION;
    } else if (e instanceof UnavailableException) {
      return UNAVAILABLE;
    } else if (e instanceof AbortedException) {
      return ABORTED;
    } else if (e instanceof PermissionDeniedException) {
      return PERMISSION_DENIED;
    } else if (e instanceof UnknownException) {
      return STORAGE;
    } else if (e instanceof DataLossException) {
      return DATA_LOSS;
    }
    return FAILURE;
  }

  /** The table shown in {@code coffer --help}. */
  static String table() {
    StringBuilder sb = new StringBuilder();
    for (ExitCode c : values()) {
      sb.append(String.format("  %2d  %s%n", c.code, c.meaning));
    }
    return sb.toString();
  }
}
