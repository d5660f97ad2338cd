package dev.meshlog.proxy.config;

import java.util.Objects;

/**
 * DestinationRule traffic policy of a host or subset: balancing, limits and outlier detection.
 *
 * @param loadBalancer how requests are spread
 * @param limits circuit-breaking limits
 * @param outlierDetection when endpoints are ejected
 */
public record TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                                  OutlierConfig outlierDetection) {

  /** Round robin, no limits, no outlier detection. */
  public static final TrafficPolicyConfig DEFAULT =
      new TrafficPolicyConfig(LbConfig.DEFAULT, PoolLimits.UNLIMITED, OutlierConfig.DISABLED);

  public TrafficPolicyConfig {
    Objects.requireNonNull(loadBalancer, "loadBalancer");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(outlierDetection, "outlierDetection");
  }
}
