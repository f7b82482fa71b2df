package dev.coffer.cli;

import dev.coffer.store.ContentStore;
import io.micrometer.core.instrument.MeterRegistry;
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

  /**
   * Opens the store as {@link #open(Settings, PrintStream)} does, its requests and operations
   * measured in {@code registry} (docs/metrics.md); a connector that cannot measure ignores it.
   *
   * @throws ConfigException if the settings cannot describe a store
   */
  default ContentStore open(Settings settings, PrintStream notices, MeterRegistry registry) {
    return open(settings, notices);
  }
}
