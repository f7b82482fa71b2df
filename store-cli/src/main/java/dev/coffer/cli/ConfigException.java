package dev.coffer.cli;

/** A configuration value or file that cannot be used; the message names it. */
final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ConfigException(String message) {
    super(message);
  }
}
