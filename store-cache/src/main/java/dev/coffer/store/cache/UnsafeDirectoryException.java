package dev.coffer.store.cache;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * The cache directory (or one inside it) is not private to this user: it belongs to someone else,
 * others can write it, or it is a link. The message names the directory, what is wrong and what
 * to do.
 */
final class UnsafeDirectoryException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  UnsafeDirectoryException(Path directory, String problem, String remedy) {
    super(directory.toString(), null, problem + "; " + remedy);
  }

  @Override
  public String getMessage() {
    return "cache directory " + getFile() + " " + getReason();
  }
}
