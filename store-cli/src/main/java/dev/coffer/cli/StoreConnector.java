package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import java.io.PrintStream;

/** Opens the store the CLI works on, from resolved settings. */
interface StoreConnector {

  /**
   * Opens the store described by {@code settings}; {@code notices} receives one-line notices (such
   * as "using the embedded server").
   *
   * @throws ConfigException if the settings cannot describe a store
   */
  ContentStore open(Settings settings, PrintStream notices);
}
