package dev.meshlog.proxy.config;

import java.util.Map;
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
 * @param portTls {@code portLevelSettings[].tls} by destination port: for a request to one of
 *     these ports, its entry's mode and settings replace {@code tlsMode} and {@code tls}
 */
public record TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                                  OutlierConfig outlierDetection, TlsMode tlsMode,
                                  ClientTlsConfig tls, Map<Integer, PortTls> portTls) {

  /** Round robin, no limits, no outlier detection. */
  public static final TrafficPolicyConfig DEFAULT =
      new TrafficPolicyConfig(LbConfig.DEFAULT, PoolLimits.UNLIMITED, OutlierConfig.DISABLED,
          TlsMode.UNSPECIFIED, ClientTlsConfig.NONE);

  /** A policy without port-level settings. */
  public TrafficPolicyConfig(LbConfig loadBalancer, PoolLimits limits,
                             OutlierConfig outlierDetection, TlsMode tlsMode,
                             ClientTlsConfig tls) {
    this(loadBalancer, limits, outlierDetection, tlsMode, tls, Map.of());
  }

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

  /**
   * The policy for requests whose destination port is {@code port}: this one, or (when a
   * port-level tls names the port) a copy with that port's tls. A policy without port-level
   * settings returns itself, so a host without them costs one emptiness check per request.
   */
  public TrafficPolicyConfig forPort(int port) {
    if (portTls.isEmpty()) {
      return this;
    }
    PortTls p = portTls.get(port);
    return p == null ? this : p.policy();
  }

  /**
   * One port's {@code portLevelSettings[].tls}, with the whole policy a request to that port
   * runs under (made once, when the snapshot is built, not per request).
   *
   * @param tlsMode the port's tls mode
   * @param tls the port's files and names
   * @param policy the host's or subset's policy with this tls in place of its own
   */
  public record PortTls(TlsMode tlsMode, ClientTlsConfig tls, TrafficPolicyConfig policy) {

    /** {@code tlsMode} and {@code tls} for a port of {@code base}. */
    public static PortTls of(TrafficPolicyConfig base, TlsMode tlsMode, ClientTlsConfig tls) {
      return new PortTls(tlsMode, tls, new TrafficPolicyConfig(base.loadBalancer(),
          base.limits(), base.outlierDetection(), tlsMode, tls));
    }

    public PortTls {
      Objects.requireNonNull(tlsMode, "tlsMode");
      Objects.requireNonNull(tls, "tls");
      Objects.requireNonNull(policy, "policy");
    }
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
    portTls = Map.copyOf(portTls);
  }
}
