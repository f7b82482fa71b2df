package dev.coffer.cli;

import dev.coffer.store.AlreadyExistsException;
import dev.coffer.store.Content;
import dev.coffer.store.Descriptor;
import dev.coffer.store.Ingester;
import dev.coffer.store.UnavailableException;
import dev.coffer.store.Writer;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * Opens a writer for a ref. When another writer holds the ref, it first says what the wait is for
 * and until when, then waits through {@link Content#openWriter}: until the holder's lease lapses
 * (and a few seconds more), or a minute when the lock has no lease. Invariant CLI-5 of
 * docs/architecture.md.
 */
final class RefWait {
  private RefWait() {}

  /** How long to wait for a ref whose lock names no lease expiry. */
  static final Duration WITHOUT_LEASE = Duration.ofMinutes(1);
  /** How long past a lease's expiry to keep trying: clocks and the taking over take a moment. */
  static final Duration MARGIN = Duration.ofSeconds(5);
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

  /**
   * A writer for {@code ref}, or null if the descriptor's digest is already stored. A wait is a
   * phase of {@code transfer}.
   *
   * @throws UnavailableException if the ref is still locked after the wait, saying by whom and
   *     what to do
   */
  static Writer open(StoreCommand command, Ingester store, String ref, Descriptor descriptor,
      Transfer transfer) {
    try {
      return store.writer(ref, descriptor);
    } catch (AlreadyExistsException e) {
      return null;
    } catch (UnavailableException e) {
      Instant now = Instant.now();
      Optional<Instant> until = e.lockedUntil();
      transfer.waitPhase("wait", "", 0); // timed as a phase of its own, never shown as a bar
      Duration wait = WITHOUT_LEASE;
      if (until.isPresent()) {
        wait = Duration.between(now, until.get()).plus(MARGIN);
        command.notices().println(command.name() + ": ref \"" + ref + "\" is locked by another"
            + " writer until " + when(until.get(), now) + "; waiting for its lease to lapse (a"
            + " writer that is still running renews it)");
      } else {
        command.notices().println(command.name() + ": " + e.getMessage() + "; retrying for up to "
            + WITHOUT_LEASE.toSeconds() + " s");
      }
      try {
        return Content.openWriter(store, ref, descriptor, wait.isNegative() ? Duration.ZERO : wait);
      } catch (AlreadyExistsException exists) {
        return null;
      } catch (UnavailableException again) {
        Optional<Instant> renewed = again.lockedUntil();
        if (renewed.isEmpty()) {
          throw again;
        }
        throw new UnavailableException("ref \"" + ref + "\" is still locked: its writer renewed"
            + " its lease until " + when(renewed.get(), Instant.now()) + ", so it is still running"
            + " (here or on another host); wait for it to finish, or use another --ref",
            renewed.get());
      }
    }
  }

  /** A lease's expiry in local time, and how far from {@code now}: "07:31:15 (in 27 s)". */
  static String when(Instant until, Instant now) {
    long seconds = Math.round(Duration.between(now, until).toMillis() / 1000.0);
    String time = TIME.format(until.atZone(ZoneId.systemDefault()));
    return time + (seconds >= 0 ? " (in " + seconds + " s)" : " (" + -seconds + " s ago)");
  }
}
