package dev.coffer.store;

import java.time.Instant;
import java.util.Optional;

/**
 * The ref named in the message is locked by another writer, in this process or on another host, or
 * the backing storage is unavailable (errdefs Unavailable). Retry later, for example through
 * {@link Content#openWriter}.
 *
 * <p>When the lock is a lease that lapses unless its holder renews it, {@link #lockedUntil()} says
 * when it lapses, so a caller can say how long a wait may last.
 */
public final class UnavailableException extends StoreException {
  private static final long serialVersionUID = 1L;

  private final Instant lockedUntil;

  /** Creates the exception with a message naming the value concerned. */
  public UnavailableException(String message) {
    this(message, (Instant) null);
  }

  /** Creates the exception with a message naming the value concerned and its cause. */
  public UnavailableException(String message, Throwable cause) {
    super(message, cause);
    this.lockedUntil = null;
  }

  /**
   * Creates the exception for a ref held by a lease that lapses at {@code lockedUntil} unless its
   * holder renews it; null if unknown.
   */
  public UnavailableException(String message, Instant lockedUntil) {
    super(message);
    this.lockedUntil = lockedUntil;
  }

  /**
   * When the lease that locks the ref lapses unless its holder renews it, by the clock of the host
   * that checked it; empty when the lock is not a lease or the failure is not a lock.
   */
  public Optional<Instant> lockedUntil() {
    return Optional.ofNullable(lockedUntil);
  }

  @Override
  public boolean retryable() {
    return true;
  }
}
