package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the proxy knows about one service host, translated from its discovery view.
 *
 * @param host the fully qualified host, e.g. {@code reviews.default.svc.cluster.local}
 * @param service the service's short name
 * @param namespace the service's namespace
 * @param version the view version this was translated from
 * @param ports the service's ports, with their protocols
 * @param endpoints the service's instances
 * @param policy the host-level traffic policy
 * @param subsets named subsets, by name
 * @param routes http routes in match order; empty = every request to all endpoints
 * @param egressHosts the hosts this service's proxies call (namespace/host patterns); empty = all
 * @param tcpRoutes tcp routes in match order; empty = connections to all endpoints; in a
 *     gateway's view also one entry per match of its tls routes ({@link TcpRouteConfig#tls})
 * @param gatewayServers the servers of a gateway's view; empty for a service
 * @param outboundTrafficPolicy from the service's Sidecar resource: what its proxies do with a
 *     host the mesh does not know; UNSPECIFIED when no Sidecar sets it
 * @param effectiveRoutes the routes a sidecar's requests to this host go through: {@code routes},
 *     or when there are none one route to all endpoints; derived from {@code routes} once, here
 *     (a value passed in is ignored), so a request allocates no default route
 */
public record ServiceConfig(String host, String service, String namespace, long version,
                            List<PortConfig> ports, List<EndpointConfig> endpoints,
                            TrafficPolicyConfig policy, Map<String, SubsetConfig> subsets,
                            List<RouteConfig> routes, List<String> egressHosts,
                            List<TcpRouteConfig> tcpRoutes,
                            List<GatewayServerConfig> gatewayServers,
                            OutboundTrafficPolicy outboundTrafficPolicy,
                            List<RouteConfig> effectiveRoutes) {

  /** A service with these routes; {@link #effectiveRoutes} is derived from them. */
  public ServiceConfig(String host, String service, String namespace, long version,
                       List<PortConfig> ports, List<EndpointConfig> endpoints,
                       TrafficPolicyConfig policy, Map<String, SubsetConfig> subsets,
                       List<RouteConfig> routes, List<String> egressHosts,
                       List<TcpRouteConfig> tcpRoutes, List<GatewayServerConfig> gatewayServers,
                       OutboundTrafficPolicy outboundTrafficPolicy) {
    this(host, service, namespace, version, ports, endpoints, policy, subsets, routes,
        egressHosts, tcpRoutes, gatewayServers, outboundTrafficPolicy, null);
  }

  /** A service whose Sidecar sets no outbound traffic policy. */
  public ServiceConfig(String host, String service, String namespace, long version,
                       List<PortConfig> ports, List<EndpointConfig> endpoints,
                       TrafficPolicyConfig policy, Map<String, SubsetConfig> subsets,
                       List<RouteConfig> routes, List<String> egressHosts,
                       List<TcpRouteConfig> tcpRoutes, List<GatewayServerConfig> gatewayServers) {
    this(host, service, namespace, version, ports, endpoints, policy, subsets, routes,
        egressHosts, tcpRoutes, gatewayServers, OutboundTrafficPolicy.UNSPECIFIED);
  }

  /** A service without tcp routes or gateway servers. */
  public ServiceConfig(String host, String service, String namespace, long version,
                       List<PortConfig> ports, List<EndpointConfig> endpoints,
                       TrafficPolicyConfig policy, Map<String, SubsetConfig> subsets,
                       List<RouteConfig> routes, List<String> egressHosts) {
    this(host, service, namespace, version, ports, endpoints, policy, subsets, routes,
        egressHosts, List.of(), List.of());
  }

  public ServiceConfig {
    Objects.requireNonNull(host, "host");
    service = service == null || service.isEmpty() ? host.split("\\.", 2)[0] : service;
    namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
    ports = List.copyOf(ports);
    endpoints = List.copyOf(endpoints);
    policy = policy == null ? TrafficPolicyConfig.DEFAULT : policy;
    subsets = Map.copyOf(subsets);
    routes = List.copyOf(routes);
    egressHosts = List.copyOf(egressHosts);
    tcpRoutes = List.copyOf(tcpRoutes);
    gatewayServers = List.copyOf(gatewayServers);
    outboundTrafficPolicy = outboundTrafficPolicy == null ? OutboundTrafficPolicy.UNSPECIFIED
        : outboundTrafficPolicy;
    effectiveRoutes = routes.isEmpty()
        ? List.of(RouteConfig.forwardAll("default", DestinationConfig.to(host, null))
            .withRetries(RetryConfig.ISTIO_DEFAULT)) : routes;
  }

  /** The port numbered {@code number}, if the service declares it. */
  public java.util.Optional<PortConfig> port(int number) {
    for (PortConfig p : ports) {
      if (p.number() == number) {
        return java.util.Optional.of(p);
      }
    }
    return java.util.Optional.empty();
  }

  /** The protocol of port {@code number}; UNSPECIFIED when the service does not declare it. */
  public PortConfig.Protocol protocolOf(int number) {
    return port(number).map(PortConfig::protocol).orElse(PortConfig.Protocol.UNSPECIFIED);
  }

  /** The ports carrying opaque bytes (TCP, TLS), which the proxy passes through. */
  public List<PortConfig> opaquePorts() {
    return ports.stream().filter(p -> p.protocol().opaque()).toList();
  }

  /** The tcp route connections to service port {@code port} take, or one to all endpoints. */
  public TcpRouteConfig tcpRoute(int port) {
    for (TcpRouteConfig r : tcpRoutes) {
      if (!r.tls() && r.appliesTo(port)) {
        return r;
      }
    }
    return new TcpRouteConfig(List.of(), List.of(DestinationConfig.to(host, null)));
  }

  /**
   * The tls route a gateway's connection on server port {@code port} whose ClientHello names
   * {@code sni} takes: a PASSTHROUGH server on that port must serve {@code sni}, and of the tls
   * routes for the port the one whose SNI names match it most closely (an exact name before
   * wildcards, the longer wildcard first; the first of equals); {@code null} when none does.
   */
  public TcpRouteConfig tlsRoute(int port, String sni) {
    boolean served = false;
    for (GatewayServerConfig s : gatewayServers) {
      served |= s.passthrough() && s.port() == port && s.serves(sni);
    }
    if (!served) {
      return null;
    }
    TcpRouteConfig best = null;
    int bestScore = -1;
    for (TcpRouteConfig r : tcpRoutes) {
      int score = r.tls() && r.appliesTo(port) ? r.sniMatch(sni) : -1;
      if (score > bestScore) {
        best = r;
        bestScore = score;
      }
    }
    return best;
  }

  /** Whether this is a gateway's view. */
  public boolean gateway() {
    return !gatewayServers.isEmpty();
  }

  /** The traffic policy of {@code subset} ({@code null} = the host's). */
  public TrafficPolicyConfig policyOf(String subset) {
    if (subset == null) {
      return policy;
    }
    SubsetConfig s = subsets.get(subset);
    return s == null ? policy : s.policy();
  }

  /** The endpoints of {@code subset} ({@code null} = all of them). */
  public List<EndpointConfig> endpointsOf(String subset) {
    if (subset == null) {
      return endpoints;
    }
    SubsetConfig s = subsets.get(subset);
    return s == null ? List.of()
        : endpoints.stream().filter(e -> e.hasLabels(s.labels())).toList();
  }
}
