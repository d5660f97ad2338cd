package dev.meshlog.proxy.config;

import java.time.Duration;

/**
 * When to take a failing endpoint out of its cluster for a while (outlier detection).
 *
 * @param consecutive5xx eject after this many 5xx (and connect failures) in a row; 0 = never
 * @param consecutiveGatewayErrors eject after this many 502/503/504 (and connect failures) in a
 *     row; 0 = never
 * @param interval how often ejection state is reviewed (kept for status; ejections end lazily)
 * @param baseEjectionTime ejection lasts this times the number of times the endpoint was ejected
 * @param maxEjectionPercent at most this share of the cluster is ejected at once
 * @param minHealthPercent below this share of usable endpoints, every endpoint is used
 */
public record OutlierConfig(int consecutive5xx, int consecutiveGatewayErrors, Duration interval,
                            Duration baseEjectionTime, int maxEjectionPercent,
                            int minHealthPercent) {

  /** No outlier detection. */
  public static final OutlierConfig DISABLED =
      new OutlierConfig(0, 0, Duration.ofSeconds(10), Duration.ofSeconds(30), 0, 0);

  /** Whether any condition can eject an endpoint. */
  public boolean enabled() {
    return (consecutive5xx > 0 || consecutiveGatewayErrors > 0) && maxEjectionPercent > 0;
  }
}
