package dev.meshlog.proxy.config;

import java.time.Duration;

/**
 * Faults a route injects: a delay before forwarding, an abort instead of forwarding, or both.
 *
 * @param delay the delay, or {@code null}
 * @param delayPercent share of requests delayed, 0..100
 * @param abortStatus the status of aborted requests, or 0 for no abort
 * @param abortPercent share of requests aborted, 0..100
 */
public record FaultConfig(Duration delay, double delayPercent, int abortStatus,
                          double abortPercent) {

  /** No faults. */
  public static final FaultConfig NONE = new FaultConfig(null, 0, 0, 0);

  /** Whether this injects anything. */
  public boolean isEmpty() {
    return (delay == null || delayPercent <= 0) && (abortStatus == 0 || abortPercent <= 0);
  }
}
