package dev.meshlog.proxy.config;

import java.util.Objects;

/**
 * DestinationRule traffic policy of a host or subset: balancing, limits, outlier detection and
 * the TLS originated to the endpoints.
 *
 * @param loadBalancer how requests are spread
 * @param limits circuit-breaking limits
 * @param outlierDetection when endpoints are ejected
 * @param tlsMode the TLS the rule asks for towards the endpoints ({@code trafficPolicy.tls.mode}):
 *     SIMPLE and MUTUAL originate TLS with {@code tls}; ISTIO_MUTUAL waits for the mesh CA (plain
 *     text, shown by {@code /config_dump})
 * @param tls the files and names TLS is originated with (SIMPLE, MUTUAL)
 */
public record TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                                  OutlierConfig outlierDetection, TlsMode tlsMode,
                                  ClientTlsConfig tls) {

  /** Round robin, no limits, no outlier detection. */
  public static final TrafficPolicyConfig DEFAULT =
      new TrafficPolicyConfig(LbConfig.DEFAULT, PoolLimits.UNLIMITED, OutlierConfig.DISABLED,
          TlsMode.UNSPECIFIED, ClientTlsConfig.NONE);

  /** A policy that says nothing about TLS. */
  public TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                             OutlierConfig outlierDetection) {
    this(loadBalancer, limits, outlierDetection, TlsMode.UNSPECIFIED, ClientTlsConfig.NONE);
  }

  /** A policy with a TLS mode and no TLS settings. */
  public TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                             OutlierConfig outlierDetection, TlsMode tlsMode) {
    this(loadBalancer, limits, outlierDetection, tlsMode, ClientTlsConfig.NONE);
  }

  /** Whether the proxy originates TLS to the endpoints (SIMPLE or MUTUAL). */
  public boolean originatesTls() {
    return tlsMode == TlsMode.SIMPLE || tlsMode == TlsMode.MUTUAL;
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
    Objects.requireNonNull(tls, "tls");
  }
}
