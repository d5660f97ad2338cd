package dev.meshlog.proxy.resilience;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;

import dev.meshlog.proxy.config.OutlierConfig;

/**
 * Ejects endpoints that fail in a row (Envoy outlier detection, as Istio configures it):
 * {@code consecutive5xx} 5xx-like outcomes, or {@code consecutiveGatewayErrors} 502/503/504-like
 * ones, take an endpoint out for {@code baseEjectionTime × times ejected} (capped at
 * {@link #MAX_EJECTION_TIME} or the base, whichever is longer), unless {@code maxEjectionPercent}
 * of the cluster is already out. Connect failures, resets and timeouts count as gateway errors.
 * An ejection ends by itself when its time is up, read from the injected clock; the times-ejected
 * multiplier decays by one per {@code interval} spent back in service.
 */
public final class OutlierDetector {

  /** Envoy's default cap on one ejection. */
  public static final Duration MAX_EJECTION_TIME = Duration.ofSeconds(300);

  private final OutlierConfig config;
  private final Clock clock;

  /** A detector applying {@code config}, reading time from {@code clock}. */
  public OutlierDetector(OutlierConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  /** The config it applies. */
  public OutlierConfig config() {
    return config;
  }

  /** Whether {@code state}'s endpoint is ejected now. */
  public boolean isEjected(OutlierState state) {
    return state.ejectedAt(clock.millis());
  }

  /**
   * Records the outcome of a try at {@code state}'s endpoint; returns true when it ejected it.
   *
   * @param cluster the states of every endpoint of the cluster, {@code state} included
   */
  public boolean record(OutlierState state, AttemptOutcome outcome,
                        Collection<OutlierState> cluster) {
    if (!config.enabled()) {
      return false;
    }
    long now = clock.millis();
    synchronized (this) {
      boolean tripped;
      synchronized (state) {
        if (state.ejectedAt(now)) {
          return false;
        }
        if (outcome.is5xx()) {
          state.consecutive5xx++;
        } else {
          state.consecutive5xx = 0;
        }
        if (outcome.isGatewayError()) {
          state.consecutiveGatewayErrors++;
        } else {
          state.consecutiveGatewayErrors = 0;
        }
        tripped = (config.consecutive5xx() > 0 && state.consecutive5xx >= config.consecutive5xx())
            || (config.consecutiveGatewayErrors() > 0
                && state.consecutiveGatewayErrors >= config.consecutiveGatewayErrors());
      }
      if (!tripped) {
        return false;
      }
      long ejected = cluster.stream().filter(s -> s != state && s.ejectedAt(now)).count();
      if (100.0 * ejected / Math.max(1, cluster.size()) >= config.maxEjectionPercent()) {
        return false;
      }
      synchronized (state) {
        int times = decayedTimesEjected(state, now) + 1;
        long base = config.baseEjectionTime().toMillis();
        long cap = Math.max(base, MAX_EJECTION_TIME.toMillis());
        state.timesEjected = times;
        state.ejectedAtMillis = now;
        state.ejectedUntilMillis = now + Math.min(cap, base * times);
        state.consecutive5xx = 0;
        state.consecutiveGatewayErrors = 0;
        state.ejections++;
      }
      return true;
    }
  }

  private int decayedTimesEjected(OutlierState state, long now) {
    if (state.timesEjected == 0 || state.ejectedUntilMillis == Long.MIN_VALUE) {
      return 0;
    }
    long interval = Math.max(1, config.interval().toMillis());
    long backFor = Math.max(0, now - state.ejectedUntilMillis);
    return (int) Math.max(0, state.timesEjected - backFor / interval);
  }
}
