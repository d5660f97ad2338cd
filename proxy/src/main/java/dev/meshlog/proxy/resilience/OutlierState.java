package dev.meshlog.proxy.resilience;

/**
 * Outlier-detection state of one endpoint: its error streaks and ejections. Mutated only by an
 * {@link OutlierDetector}.
 */
public final class OutlierState {

  int consecutive5xx;
  int consecutiveGatewayErrors;
  int timesEjected;
  long ejectedAtMillis = Long.MIN_VALUE;
  volatile long ejectedUntilMillis = Long.MIN_VALUE;
  long ejections;

  /** Until when (epoch millis) the endpoint is ejected; in the past when it is not. */
  public long ejectedUntilMillis() {
    return ejectedUntilMillis;
  }

  /** Whether the endpoint is ejected at {@code nowMillis}. */
  public boolean ejectedAt(long nowMillis) {
    return nowMillis < ejectedUntilMillis;
  }

  /** How many times the endpoint was ejected, in all. */
  public synchronized long ejections() {
    return ejections;
  }

  /** The current streak of 5xx-like outcomes. */
  public synchronized int consecutive5xx() {
    return consecutive5xx;
  }
}
