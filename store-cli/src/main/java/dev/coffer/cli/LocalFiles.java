package dev.coffer.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * One-line messages for local file failures: what happened to which file, and what to do. The
 * JDK's own messages are often only the path ({@code NoSuchFileException}) or a temporary file's.
 */
final class LocalFiles {
  private LocalFiles() {}

  /** Why {@code e} failed, in a few words: "no such file", "permission denied", ... */
  static String reason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    } else if (e instanceof AccessDeniedException) {
      return "permission denied";
    } else if (e instanceof NotDirectoryException) {
      return "not a directory";
    } else if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  /** A failure to read {@code file}: "cannot read F: permission denied (check ...)". */
  static IOException cannotRead(String file, IOException e) {
    String hint = e instanceof NoSuchFileException
        ? "; give the path of a file to store, or - for stdin"
        : e instanceof AccessDeniedException ? "; check its permissions" : "";
    return new IOException("cannot read " + file + ": " + reason(e) + hint, e);
  }

  /**
   * A failure to write {@code target} (through a file beside it): names the target, never the
   * temporary file, and says what is missing.
   */
  static IOException cannotWrite(Path target, IOException e) {
    Path dir = target.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      return new IOException("cannot write " + target + ": directory " + dir
          + " does not exist; create it first", e);
    }
    String hint = e instanceof AccessDeniedException
        ? "; check the permissions of " + (dir == null ? target : dir) : "";
    return new IOException("cannot write " + target + ": " + reason(e) + hint, e);
  }
}
