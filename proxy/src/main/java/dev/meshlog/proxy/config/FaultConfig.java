package dev.meshlog.proxy.config;

import java.time.Duration;

/**
 * Faults a route injects: a delay before forwarding, an abort instead of forwarding, or both.
 *
 * @param delay the delay, or {@code null}
 * @param delayPercent share of requests delayed, 0..100
 * @param abortStatus the HTTP status of aborted requests, or 0 for none
 * @param abortPercent share of requests aborted, 0..100
 * @param abortGrpcStatus the gRPC status (0..16) aborted requests end with, as a trailers-only
 *     HTTP 200, or -1 for none (then {@code abortStatus} applies)
 */
public record FaultConfig(Duration delay, double delayPercent, int abortStatus,
                          double abortPercent, int abortGrpcStatus) {

  /** No faults. */
  public static final FaultConfig NONE = new FaultConfig(null, 0, 0, 0);

  /** Faults without a gRPC abort. */
  public FaultConfig(Duration delay, double delayPercent, int abortStatus, double abortPercent) {
    this(delay, delayPercent, abortStatus, abortPercent, -1);
  }

  /** Whether an abort is configured (its percentage aside). */
  public boolean aborts() {
    return abortStatus != 0 || abortGrpcStatus >= 0;
  }

  /** Whether this injects anything. */
  public boolean isEmpty() {
    return (delay == null || delayPercent <= 0) && (!aborts() || abortPercent <= 0);
  }
}
