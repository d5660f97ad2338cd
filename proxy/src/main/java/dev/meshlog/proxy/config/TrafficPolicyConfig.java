package dev.meshlog.proxy.config;

import java.util.Objects;

/**
 * DestinationRule traffic policy of a host or subset: balancing, limits and outlier detection.
 *
 * @param loadBalancer how requests are spread
 * @param limits circuit-breaking limits
 * @param outlierDetection when endpoints are ejected
 * @param tlsMode the TLS the rule asks for towards the endpoints ({@code trafficPolicy.tls.mode});
 *     shown by {@code /config_dump}, not yet acted on: this proxy originates no TLS
 */
public record TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                                  OutlierConfig outlierDetection, TlsMode tlsMode) {

  /** Round robin, no limits, no outlier detection. */
  public static final TrafficPolicyConfig DEFAULT =
      new TrafficPolicyConfig(LbConfig.DEFAULT, PoolLimits.UNLIMITED, OutlierConfig.DISABLED,
          TlsMode.UNSPECIFIED);

  /** A policy that says nothing about TLS. */
  public TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                             OutlierConfig outlierDetection) {
    this(loadBalancer, limits, outlierDetection, TlsMode.UNSPECIFIED);
  }

  /** DestinationRule {@code trafficPolicy.tls.mode}. */
  public enum TlsMode {
    /** Not set. */
    UNSPECIFIED,
    /** Plain text. */
    DISABLE,
    /** TLS to the endpoint. */
    SIMPLE,
    /** TLS with client certificates given in the rule. */
    MUTUAL,
    /** TLS with the mesh's own certificates. */
    ISTIO_MUTUAL
  }

  public TrafficPolicyConfig {
    Objects.requireNonNull(loadBalancer, "loadBalancer");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(outlierDetection, "outlierDetection");
    Objects.requireNonNull(tlsMode, "tlsMode");
  }
}
