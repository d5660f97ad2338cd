package dev.meshlog.config.client;

/**
 * Another client with the same transactional id took over; this one can no longer write and
 * should stop.
 */
public final class FencedException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  /** A fencing of {@code transactionalId}. */
  public FencedException(String transactionalId, Throwable cause) {
    super("another writer with transactional id " + transactionalId + " took over; stopping", cause);
  }
}
